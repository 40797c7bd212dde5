/* text.c — building replies and reading packet fields.  Every reader takes
 * a cursor with an end, because packets are not trusted to be well formed
 * (or NUL-free: X carries binary data). */
#include "stub.h"

#include <stdarg.h>

#include "platform/fmt.h"
#include "platform/kstring.h"

static const char hexdigits[] = "0123456789abcdef";

void gdb_out_reset(struct gdb_stub *g)
{
	g->out_len = 0;
	g->out_overflow = false;
	g->out_binary = false;
	g->out[0] = 0;
}

size_t gdb_out_room(const struct gdb_stub *g)
{
	return GDB_PACKET_SIZE - g->out_len;
}

void gdb_out_char(struct gdb_stub *g, char c)
{
	if (g->out_len < GDB_PACKET_SIZE)
		g->out[g->out_len++] = c;
	else
		g->out_overflow = true;
}

void gdb_out_str(struct gdb_stub *g, const char *s)
{
	while (*s)
		gdb_out_char(g, *s++);
}

void gdb_out_fmt(struct gdb_stub *g, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		g->out_overflow = true;
	gdb_out_str(g, buf);
}

void gdb_out_hex(struct gdb_stub *g, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < n; i++) {
		gdb_out_char(g, hexdigits[p[i] >> 4]);
		gdb_out_char(g, hexdigits[p[i] & 15]);
	}
}

/* Binary data in replies (qXfer): '#', '$', '}' and '*' go as '}' and the
 * byte XOR 0x20, and the packet is not run-length encoded (gdb expands
 * runs before it unescapes, lldb in the same pass: no encoding suits both). */
void gdb_out_escaped(struct gdb_stub *g, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	g->out_binary = true;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '#' || p[i] == '$' || p[i] == '}' || p[i] == '*') {
			gdb_out_char(g, '}');
			gdb_out_char(g, (char)(p[i] ^ 0x20));
		} else {
			gdb_out_char(g, (char)p[i]);
		}
	}
}

/* Errors are errno-style: 'E' and the errno value in two decimal digits,
 * so E14 reads as EFAULT and E28 as ENOSPC.  gdb only displays the number
 * (it needs two hex-digit characters, which decimal digits are). */
void gdb_out_error(struct gdb_stub *g, int rc)
{
	int e = rc < 0 ? -rc : rc;
	gdb_out_reset(g);
	gdb_out_fmt(g, "E%02d", e > 99 ? 99 : e);
}

int gdb_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool gdb_at_end(const struct gdb_cursor *c)
{
	return c->p >= c->end;
}

bool gdb_take(struct gdb_cursor *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

bool gdb_take_str(struct gdb_cursor *c, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

bool gdb_take_hex(struct gdb_cursor *c, uint64_t *value)
{
	uint64_t v = 0;
	int digits = 0;
	while (c->p < c->end && gdb_hexval(*c->p) >= 0) {
		if (++digits > 16)
			return false;
		v = v << 4 | (uint64_t)gdb_hexval(*c->p++);
	}
	*value = v;
	return digits > 0;
}

bool gdb_take_hex_bytes(struct gdb_cursor *c, uint8_t *out, size_t n)
{
	if ((size_t)(c->end - c->p) / 2 < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = gdb_hexval(c->p[0]), lo = gdb_hexval(c->p[1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
		c->p += 2;
	}
	return true;
}

/* A thread id: hex, or -1 for "all threads" (no multiprocess "p" form: we
 * do not advertise multiprocess+). */
bool gdb_take_thread(struct gdb_cursor *c, int64_t *tid)
{
	uint64_t v;
	if (gdb_take_str(c, "-1")) {
		*tid = -1;
		return true;
	}
	if (!gdb_take_hex(c, &v) || v > 0x7fffffff)
		return false;
	*tid = (int64_t)v;
	return true;
}

/* Monitor arguments follow C: 0x for hex, else decimal. */
bool gdb_parse_number(const char **s, uint64_t *value)
{
	const char *p = *s;
	unsigned base = 10;
	uint64_t v = 0;
	int digits = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (int d; (d = gdb_hexval(*p)) >= 0 && (unsigned)d < base; p++, digits++) {
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return false;
		v = v * base + (unsigned)d;
	}
	if (!digits)
		return false;
	*s = p;
	*value = v;
	return true;
}
