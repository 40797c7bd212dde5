/* console.c — the console UART as the log's sink, with the guest's bytes
 * passing through console_lines so that neither writer cuts the other's
 * lines. */
#include "console.h"

#include "console_lines.h"
#include "platform/cpu.h"
#include "platform/log.h"

/* 16550 registers and bits (PC16550D datasheet): LCR.DLAB turns the data
 * port into the divisor latch, MCR.LOOP keeps bytes off the line. */
#define REG_LCR 3
#define REG_MCR 4
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10

static struct uart *console;
static struct console_lines lines;

/* Waits for the transmitter to drain after the hypervisor's text: a guest
 * that saw room in the FIFO before the exit still has it after. */
static void write_text(void *ctx, const char *s, size_t n)
{
	uart_write(ctx, s, n);
	uart_flush(ctx);
}

static void forward(void *ctx, uint8_t byte)
{
	outb(((struct uart *)ctx)->base, byte);
}

static void sink_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	console_lines_log(&lines, s, n);
}

static void sink_flush(void *ctx)
{
	(void)ctx;
	console_lines_flush(&lines);
	uart_flush(console);
}

void console_attach(struct uart *u)
{
	console = u;
	console_lines_init(&lines, write_text, forward, u);
	log_add_sink(sink_write, sink_flush, NULL);
}

void console_guest_out(uint8_t byte)
{
	if (!console)
		return;
	/* A divisor byte, or a byte for the loopback test, is no text. */
	if ((inb(console->base + REG_LCR) & LCR_DLAB) || (inb(console->base + REG_MCR) & MCR_LOOP)) {
		forward(console, byte);
		return;
	}
	console_lines_guest_byte(&lines, byte);
}

void console_tick(void)
{
	if (console)
		console_lines_tick(&lines);
}
