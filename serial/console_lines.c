/* console_lines.c — whole lines on a console the guest and the hypervisor
 * share (see console_lines.h for the rules and the marks). */
#include "console_lines.h"

#include "platform/kstring.h"

void console_lines_init(struct console_lines *c, void (*write)(void *, const char *, size_t),
			void (*forward)(void *, uint8_t), void *ctx)
{
	*c = (struct console_lines){ .write = write, .forward = forward, .ctx = ctx,
				     .quiet = CONSOLE_QUIET_TICKS };
}

static void release(struct console_lines *c)
{
	if (c->held)
		c->write(c->ctx, c->hold, c->held);
	c->held = 0;
}

/* End the guest's open line here; its next byte starts with the mark. */
static void cut(struct console_lines *c)
{
	if (!c->open)
		return;
	c->write(c->ctx, CONSOLE_CUT_MARK, sizeof(CONSOLE_CUT_MARK) - 1);
	c->open = false;
	c->cut = true;
}

void console_lines_log(struct console_lines *c, const char *s, size_t n)
{
	bool guest_writing = c->open && c->quiet < CONSOLE_QUIET_TICKS;
	if (guest_writing && n <= sizeof(c->hold) - c->held) {
		memcpy(c->hold + c->held, s, n);
		c->held += n;
		return;
	}
	cut(c);
	release(c);
	c->write(c->ctx, s, n);
}

void console_lines_guest_byte(struct console_lines *c, uint8_t byte)
{
	if (c->cut && byte != '\r' && byte != '\n') {
		c->write(c->ctx, CONSOLE_RESUME_MARK, sizeof(CONSOLE_RESUME_MARK) - 1);
		c->cut = false;
	}
	c->forward(c->ctx, byte);
	c->quiet = 0;
	c->open = byte != '\n';
	if (!c->open) {
		c->cut = false;
		release(c);
	}
}

void console_lines_tick(struct console_lines *c)
{
	if (c->quiet < CONSOLE_QUIET_TICKS && ++c->quiet == CONSOLE_QUIET_TICKS && c->held) {
		cut(c);
		release(c);
	}
}

void console_lines_flush(struct console_lines *c)
{
	c->quiet = CONSOLE_QUIET_TICKS;
	if (c->held) {
		cut(c);
		release(c);
	}
}
