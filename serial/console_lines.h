/* console_lines.h — one console line shared by two writers, kept in whole
 * lines.  The guest owns the console UART (passed through; only its data
 * port is trapped, to see the bytes) and the hypervisor logs to it too.
 * While the guest is in the middle of a line, a hypervisor line waits for
 * the guest's newline; if the guest goes quiet, the buffer fills or
 * someone flushes, the guest's line is cut instead, cleanly and marked:
 *
 *   GUEST PASS multiboot-entry-stat >>
 *   [I] lua: exit CPUID
 *   >> e
 *
 * Pure logic over two callbacks, so the host unit tests drive it. */
#ifndef SERIAL_CONSOLE_LINES_H
#define SERIAL_CONSOLE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of hypervisor text held while the guest's line is open. */
#define CONSOLE_HOLD_BYTES 16384
/* Ticks (VMX-preemption-timer exits, ~1 M guest instructions each) without
 * a guest byte after which the guest's open line no longer holds the log. */
#define CONSOLE_QUIET_TICKS 4

#define CONSOLE_CUT_MARK " >>\n"	/* ends the guest's cut line */
#define CONSOLE_RESUME_MARK ">> "	/* starts the rest of it */

struct console_lines {
	/* The hypervisor's text to the UART; returns once it has left the
	 * transmitter, so the guest finds the FIFO as empty as it left it. */
	void (*write)(void *ctx, const char *s, size_t n);
	/* One byte of the guest's, to the UART as the guest wrote it. */
	void (*forward)(void *ctx, uint8_t byte);
	void *ctx;
	bool open;		/* the guest wrote bytes since its last newline */
	bool cut;		/* its line was cut: mark where the rest starts */
	unsigned quiet;		/* ticks since the guest's last byte */
	size_t held;
	char hold[CONSOLE_HOLD_BYTES];
};

void console_lines_init(struct console_lines *c, void (*write)(void *, const char *, size_t),
			void (*forward)(void *, uint8_t), void *ctx);
/* Hypervisor text (whole lines): written now, or held while the guest's
 * line is open and the guest is writing. */
void console_lines_log(struct console_lines *c, const char *s, size_t n);
/* A byte the guest wrote to the data register: forwarded, then what was
 * held follows the guest's newline. */
void console_lines_guest_byte(struct console_lines *c, uint8_t byte);
/* Periodic: a guest quiet for CONSOLE_QUIET_TICKS releases what is held. */
void console_lines_tick(struct console_lines *c);
/* Now (power-off, a debugger stop): release what is held, cutting the
 * guest's line if it is open, and hold nothing until the guest writes again. */
void console_lines_flush(struct console_lines *c);

#endif
