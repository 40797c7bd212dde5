/* check_com1.c — COM1 is a working 16550: its scratch register holds a
 * value, and in loopback mode a byte sent comes back (PC16550D datasheet,
 * MCR bit 4).  Every line of this guest travels through it. */
#include "checks.h"
#include "report.h"
#include "uart.h"
#include "x86.h"

#define SPIN_LIMIT	1000000

static bool wait_lsr(uint8_t bits)
{
	for (int i = 0; i < SPIN_LIMIT; i++)
		if ((inb(COM1_BASE + UART_LSR) & bits) == bits)
			return true;
	return false;
}

static bool scratch_holds(uint8_t v)
{
	outb(COM1_BASE + UART_SCR, v);
	return inb(COM1_BASE + UART_SCR) == v;
}

/* Returns the byte that came back, or -1. */
static int loopback_echo(uint8_t sent)
{
	/* Loopback would swallow bytes still queued for the line: let them go first. */
	if (!wait_lsr(UART_LSR_TX_IDLE))
		return -1;
	outb(COM1_BASE + UART_MCR, UART_MCR_LOOP | UART_MCR_DTR_RTS_OUT2);
	while (inb(COM1_BASE + UART_LSR) & UART_LSR_DATA_READY)
		inb(COM1_BASE + UART_DATA);
	outb(COM1_BASE + UART_DATA, sent);
	int got = wait_lsr(UART_LSR_DATA_READY) ? inb(COM1_BASE + UART_DATA) : -1;
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR_RTS_OUT2);
	return got;
}

void check_com1(void)
{
	uint8_t lsr = inb(COM1_BASE + UART_LSR);
	if (lsr == 0xff) {
		report_fail("com1", "LSR reads 0xff: no device at 0x%x", COM1_BASE);
		return;
	}
	if (!scratch_holds(0x5a) || !scratch_holds(0xa5)) {
		report_fail("com1", "scratch register does not hold a value");
		return;
	}
	int echo = loopback_echo(0xae);
	report_expect("com1", echo == 0xae, "loopback sent 0xae, got %d", echo);
}
