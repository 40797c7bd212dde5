/* uart.c — 16550A, polled.  Register map: PC16550D datasheet (THR/RBR 0,
 * IER 1, IIR/FCR 2, LCR 3, MCR 4, LSR 5, MSR 6, SCR 7; DLL/DLM at 0/1 with
 * LCR.DLAB set). */
#include "uart.h"

#include "platform/cpu.h"
#include "platform/errno.h"

enum {
	REG_DATA = 0, REG_IER = 1, REG_FCR = 2, REG_LCR = 3,
	REG_MCR = 4, REG_LSR = 5, REG_SCR = 7,
};
#define LCR_8N1		0x03
#define LCR_DLAB	0x80
#define FCR_ENABLE_CLEAR_14	0xc7	/* FIFOs on, both cleared, RX trigger 14 */
#define MCR_DTR_RTS_OUT2	0x0b
#define MCR_LOOP	0x10
#define LSR_DATA_READY	0x01
#define LSR_THR_EMPTY	0x20
#define LSR_TX_IDLE	0x40	/* THR and the shift register both empty */

/* ~10 ms at 115200 baud even on slow port I/O: a byte takes 87 us. */
#define TX_SPIN_LIMIT	100000

static bool probe(uint16_t base)
{
	/* Scratch register: a missing device floats the bus to 0xFF. */
	outb(base + REG_SCR, 0x5a);
	if (inb(base + REG_SCR) != 0x5a)
		return false;
	outb(base + REG_SCR, 0xa5);
	if (inb(base + REG_SCR) != 0xa5)
		return false;

	/* Loopback: a byte sent must come back. */
	outb(base + REG_MCR, MCR_LOOP | 0x0f);
	while (inb(base + REG_LSR) & LSR_DATA_READY)
		inb(base + REG_DATA);
	outb(base + REG_DATA, 0xae);
	bool echoed = false;
	for (int i = 0; i < 10000 && !echoed; i++)
		echoed = inb(base + REG_LSR) & LSR_DATA_READY;
	bool ok = echoed && inb(base + REG_DATA) == 0xae;
	outb(base + REG_MCR, MCR_DTR_RTS_OUT2);
	return ok;
}

int uart_init(struct uart *u, uint16_t base, uint32_t baud)
{
	*u = (struct uart){ .base = base, .baud = baud };
	outb(base + REG_IER, 0);	/* polled: no interrupts */
	outb(base + REG_LCR, LCR_8N1);
	if (!probe(base))
		return -ENODEV;

	uint16_t divisor = (uint16_t)(UART_CLOCK_BAUD / baud);
	outb(base + REG_LCR, LCR_DLAB);
	outb(base + REG_DATA, divisor & 0xff);
	outb(base + REG_IER, divisor >> 8);
	outb(base + REG_LCR, LCR_8N1);
	outb(base + REG_FCR, FCR_ENABLE_CLEAR_14);
	outb(base + REG_MCR, MCR_DTR_RTS_OUT2);
	u->present = true;
	return 0;
}

void uart_putc(struct uart *u, char c)
{
	if (!u->present || u->dead)
		return;
	for (int i = 0; !(inb(u->base + REG_LSR) & LSR_THR_EMPTY); i++) {
		if (i == TX_SPIN_LIMIT) {
			u->dead = true;
			return;
		}
		pause();
	}
	outb(u->base + REG_DATA, (uint8_t)c);
}

void uart_write(struct uart *u, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc(u, '\r');
		uart_putc(u, s[i]);
	}
}

void uart_write_raw(struct uart *u, const void *buf, size_t n)
{
	const char *p = buf;
	for (size_t i = 0; i < n; i++)
		uart_putc(u, p[i]);
}

bool uart_rx_ready(const struct uart *u)
{
	return u->present && (inb(u->base + REG_LSR) & LSR_DATA_READY);
}

int uart_getc(struct uart *u, uint32_t spins)
{
	for (uint32_t i = 0; i <= spins; i++) {
		if (uart_rx_ready(u))
			return inb(u->base + REG_DATA);
		pause();
	}
	return -1;
}

void uart_flush(struct uart *u)
{
	for (int i = 0; u->present && !u->dead && i < TX_SPIN_LIMIT; i++) {
		if (inb(u->base + REG_LSR) & LSR_TX_IDLE)
			return;
		pause();
	}
}
