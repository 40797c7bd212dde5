/* uart.h — COM1, a polled 16550 at 115200 8N1: where every guest reports. */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include <stdint.h>

#define COM1_BASE	0x3f8
#define COM2_BASE	0x2f8

/* 16550 register offsets (PC16550D datasheet, Table 2). */
#define UART_DATA	0	/* RBR/THR; DLL when LCR.DLAB = 1 */
#define UART_IER	1	/* DLM when LCR.DLAB = 1 */
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_LCR_8N1		0x03
#define UART_LCR_DLAB		0x80
#define UART_MCR_DTR_RTS_OUT2	0x0b
#define UART_MCR_LOOP		0x10
#define UART_LSR_DATA_READY	0x01
#define UART_LSR_THR_EMPTY	0x20
#define UART_LSR_TX_IDLE	0x40	/* TEMT: FIFO and shift register both empty */

void uart_init(void);
/* "\n" goes out as "\r\n" for terminals. */
void uart_putc(char c);
/* Waits until every byte has left the transmitter: power-off must not cut
 * the last line short (an emulator stops at once, FIFO and all). */
void uart_flush(void);

#endif
