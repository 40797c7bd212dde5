/* uart.c — COM1 output, polled. */
#include <stdbool.h>

#include "uart.h"
#include "x86.h"

#define UART_CLOCK_BAUD	115200	/* 1.8432 MHz / 16: divisor 1 gives 115200 baud */
#define FCR_ENABLE_CLEAR	0x07	/* FIFOs on, both cleared */
/* A byte takes 87 us at 115200 baud; give up long after that rather than
 * hang on a port where nothing answers. */
#define TX_SPIN_LIMIT		1000000

static bool com1_dead;

void uart_init(void)
{
	outb(COM1_BASE + UART_IER, 0);	/* polled: no interrupts */
	outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
	outb(COM1_BASE + UART_DATA, 1);	/* divisor low: 115200 baud */
	outb(COM1_BASE + UART_IER, 0);	/* divisor high */
	outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

/* False (and COM1 given up on) if the LSR bits never came up. */
static bool wait_lsr(uint8_t bits)
{
	for (int i = 0; !com1_dead && (inb(COM1_BASE + UART_LSR) & bits) != bits; i++)
		if (i == TX_SPIN_LIMIT)
			com1_dead = true;
	return !com1_dead;
}

static void put_raw(char c)
{
	if (wait_lsr(UART_LSR_THR_EMPTY))
		outb(COM1_BASE + UART_DATA, (uint8_t)c);
}

void uart_flush(void)
{
	wait_lsr(UART_LSR_TX_IDLE);
}

void uart_putc(char c)
{
	if (c == '\n')
		put_raw('\r');
	put_raw(c);
}
