/* console.c — the console UART as the log's sink, with the guest's bytes
 * passing through console_lines so that neither writer cuts the other's
 * lines. */
#include "console.h"

#include "console_lines.h"
#include "platform/cpu.h"
#include "platform/fmt.h"
#include "platform/kstring.h"
#include "platform/log.h"

/* 16550 registers and bits (PC16550D datasheet): LCR.DLAB turns the data
 * port into the divisor latch, MCR.LOOP keeps bytes off the line. */
#define REG_LCR 3
#define REG_MCR 4
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10

static struct uart *console;
static struct console_lines lines;

/* While the guest has the UART in loopback (its self-test) or its data port
 * switched to the divisor latch (setting the baud rate), a byte of ours
 * would land in the guest's receiver or its divisor: our text waits here
 * until the UART is plain again (bytes beyond the buffer are counted, and
 * the 0xE9 copy of the log keeps them). */
#define DEFERRED_BYTES 4096
static char deferred[DEFERRED_BYTES];
static size_t deferred_n, deferred_lost;

static bool guest_owns_the_port(const struct uart *u)
{
	return (inb(u->base + REG_LCR) & LCR_DLAB) || (inb(u->base + REG_MCR) & MCR_LOOP);
}

static void write_deferred(struct uart *u)
{
	if (deferred_n)
		uart_write(u, deferred, deferred_n);
	if (deferred_lost) {
		char note[96];
		int len = ksnprintf(note, sizeof(note),
				    "[W] console: %llu bytes of log held back past the buffer (see port 0xE9)\n",
				    (unsigned long long)deferred_lost);
		uart_write(u, note, (size_t)len);
	}
	deferred_n = deferred_lost = 0;
}

/* Waits for the transmitter to drain after the hypervisor's text: a guest
 * that saw room in the FIFO before the exit still has it after. */
static void write_text(void *ctx, const char *s, size_t n)
{
	if (guest_owns_the_port(ctx)) {
		size_t room = DEFERRED_BYTES - deferred_n, take = n < room ? n : room;
		memcpy(deferred + deferred_n, s, take);
		deferred_n += take;
		deferred_lost += n - take;
		return;
	}
	write_deferred(ctx);
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

/* Every vCPU may write the console: the log's lock keeps the line state
 * and the UART one processor's at a time. */
void console_guest_out(uint8_t byte)
{
	if (!console)
		return;
	int taken = log_hold();
	/* A divisor byte, or a byte for the loopback test, is no text. */
	if (guest_owns_the_port(console))
		forward(console, byte);
	else
		console_lines_guest_byte(&lines, byte);
	log_release(taken);
}

void console_tick(void)
{
	if (!console)
		return;
	int taken = log_hold();
	if ((deferred_n || deferred_lost) && !guest_owns_the_port(console)) {
		write_deferred(console);
		uart_flush(console);
	}
	console_lines_tick(&lines);
	log_release(taken);
}
