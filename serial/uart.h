/* uart.h — polled 16550 driver: probe, baud, 8N1, FIFO, get/put with
 * timeouts.  A UART that stops draining its transmitter is marked dead so a
 * silent port never stalls the hypervisor. */
#ifndef SERIAL_UART_H
#define SERIAL_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_CLOCK_BAUD 115200	/* 1.8432 MHz / 16: divisor 1 */

struct uart {
	uint16_t base;
	uint32_t baud;
	bool present;	/* answered the probe */
	bool dead;	/* transmitter timed out: stop using it */
};

/* Probe (scratch register, then loopback) and program 8N1 with FIFOs.
 * Returns 0, or -ENODEV when nothing answers at that port. */
int uart_init(struct uart *u, uint16_t base, uint32_t baud);
void uart_putc(struct uart *u, char c);
/* Writes text, turning "\n" into "\r\n" for terminals. */
void uart_write(struct uart *u, const char *s, size_t n);
/* Raw bytes, no translation (the gdb stub's packets). */
void uart_write_raw(struct uart *u, const void *buf, size_t n);
bool uart_rx_ready(const struct uart *u);
/* Next received byte, or -1 after `spins` polls without one. */
int uart_getc(struct uart *u, uint32_t spins);

/* Waits (bounded) until the transmitter is empty: shift register included. */
void uart_flush(struct uart *u);

#endif
