/* query.c — general queries: qSupported, no-ack mode, attach state and
 * the target description (the thread queries are threads.c's).
 *
 * What qSupported offers, and why:
 *   PacketSize=4000           16 KiB each way (stub.h says why that size);
 *   qXfer:features:read+      target.xml: gdb learns the registers from us
 *                             (x87, SSE, segment bases, control registers)
 *                             instead of guessing a layout;
 *   swbreak+ hwbreak+         stop replies say which kind of breakpoint hit,
 *                             so gdb need not guess whether to adjust the PC
 *                             (ours points at the int3, not after it);
 *   vContSupported+           vCont? lists what we do (c C s S t);
 *   qXfer:threads:read+       gdb refreshes its thread list after every
 *                             stop: one round trip this way, two with
 *                             qfThreadInfo/qsThreadInfo (kept for lldb);
 *   QStartNoAckMode+          on a reliable line (a pty, a TCP relay) acks
 *                             only cost time; gdb asks for it by itself.
 * Not offered: multiprocess+ (one guest, no pids: thread ids stay plain,
 * and a `p` form is malformed, E22), ConditionalBreakpoints
 * and BreakpointCommands (gdb evaluates conditions itself), QNonStop,
 * tracepoints. */
#include "stub.h"

#include "platform/errno.h"
#include "platform/kstring.h"

/* qSupported opens every connection (gdb's first packet, lldb's second):
 * the new debugger starts clean, with its own view. */
void gdb_cmd_supported(struct gdb_stub *g, struct gdb_cursor *c)
{
	gdb_new_debugger(g);
	if (gdb_take(c, ':')) {
		while (!gdb_at_end(c)) {
			struct gdb_cursor f = *c;
			while (!gdb_at_end(c) && *c->p != ';')
				c->p++;
			f.end = c->p;
			gdb_take(c, ';');
			if (gdb_take_str(&f, "swbreak+") && gdb_at_end(&f))
				g->gdb_swbreak = true;
			else if (gdb_take_str(&f, "hwbreak+") && gdb_at_end(&f))
				g->gdb_hwbreak = true;
		}
	}
	gdb_out_fmt(g, "PacketSize=%x;qXfer:features:read+;qXfer:threads:read+;swbreak+;"
		    "hwbreak+;vContSupported+;QStartNoAckMode+", GDB_PACKET_SIZE);
}

/* The OK still goes in ack mode; no-ack mode starts once gdb has
 * acknowledged it (the protocol's rule; packet.c switches). */
void gdb_cmd_no_ack(struct gdb_stub *g, struct gdb_cursor *c)
{
	if (!gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	gdb_out_str(g, "OK");
	if (!g->no_ack)
		g->no_ack_next = true;
}

/* 1: gdb attached to a running system, so on quit it detaches (the guest
 * runs on) rather than kills. */
void gdb_cmd_attached(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_out_str(g, "1");
}

/* qXfer reads: "annex:offset,length" → 'm' and a piece while more
 * follows, 'l' and the last piece.  E02 (ENOENT) for an annex we do not
 * have, E22 for a malformed request or an offset past the end. */
void gdb_xfer(struct gdb_stub *g, struct gdb_cursor *c, const char *annex, const char *doc, size_t size)
{
	uint64_t offset, length;

	if (!gdb_take(c, ':')) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	if (!gdb_take_str(c, annex) || !gdb_take(c, ':')) {
		gdb_out_error(g, -ENOENT);
		return;
	}
	if (!gdb_take_hex(c, &offset) || !gdb_take(c, ',') || !gdb_take_hex(c, &length) ||
	    !gdb_at_end(c) || offset > size) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	if (!doc) {
		gdb_out_error(g, -EIO);
		return;
	}
	gdb_out_char(g, 'm');
	size_t at = (size_t)offset;
	/* Escapes may double a byte: stop with room for one more pair. */
	while (at < size && length-- > 0 && gdb_out_room(g) >= 2)
		gdb_out_escaped(g, doc + at++, 1);
	if (at == size)
		g->out[0] = 'l';
}

/* qXfer:features:read:target.xml:... — one document, no xi:include, of
 * the connection's view (chosen here if not yet). */
void gdb_cmd_features(struct gdb_stub *g, struct gdb_cursor *c)
{
	size_t size;
	const char *xml = gdb_target_xml(gdb_view(g), &size);
	gdb_xfer(g, c, "target.xml", xml, size);
	if (g->out_len && g->out[0] == 'l')
		g->xml_read = true;	/* the whole description: its layout is agreed */
}
