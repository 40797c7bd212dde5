/* serve.c — the stub's life cycle: the command loop while the guest is
 * stopped, the break-in poll while it runs, and the way back out. */
#include "stub.h"

#include "platform/kstring.h"

struct gdb_stub gdb_stub0;

void gdb_init(struct gdb_stub *g, const struct gdb_io *io, struct vcpu *v)
{
	memset(g, 0, sizeof(*g));
	g->io = *io;
	g->v = g->vc = v;
	g->outcome = -1;
	gdb_reset_link(g);
}

/* A debugger that vanished (killed, or `disconnect` on a line that does
 * not hang up) left its breakpoints and watchpoints behind, invisible to
 * the next one: they go, and the EPT watch pages get their rights back. */
void gdb_new_debugger(struct gdb_stub *g)
{
	target_bp_clear_all(g->v);
	g->gdb_swbreak = g->gdb_hwbreak = g->list_threads = false;
	gdb_select_stopped(g);
	gdb_view_forget(g);
}

struct vcpu *gdb_vcpu(struct gdb_stub *g)
{
	return g->v;
}

/* The line is gone: nobody will resume the guest, so detach — a guest must
 * never stay stopped (or keep our int3s) for a debugger that left. */
static enum gdb_outcome hang_up(struct gdb_stub *g)
{
	gdb_let_go(g, GDB_DETACHED);
	return GDB_DETACHED;
}

/* Reads until a whole packet is in g->rx (true) or the line hangs up. */
static bool next_packet(struct gdb_stub *g)
{
	while (!g->hangup) {
		int c = g->io.getc(g->io.ctx);
		if (c == GDB_IO_HANGUP)
			g->hangup = true;
		else if (c >= 0 && gdb_rx_byte(g, c) == GDB_RX_PACKET)
			return true;
		/* GDB_IO_NONE: busy-poll; the guest is stopped anyway.
		 * 0x03 now: the guest is already stopped, nothing to do. */
	}
	return false;
}

enum gdb_outcome gdb_serve(struct gdb_stub *g, const struct target_stop *why)
{
	g->stop = *why;
	g->stop.reason[sizeof(g->stop.reason) - 1] = 0;
	gdb_select_stopped(g);
	g->outcome = -1;
	g->hangup = false;
	gdb_fpu_forget(g);
	if (g->waiting) {
		g->waiting = false;
		gdb_report_stop(g);
	}
	while (g->outcome < 0) {
		if (!next_packet(g))
			return hang_up(g);
		gdb_dispatch(g);
		if (g->hangup && g->outcome < 0)
			return hang_up(g);
	}
	return (enum gdb_outcome)g->outcome;
}

/* At most this many bytes per poll, so a babbling line cannot hold the
 * guest: the UART's FIFO is smaller anyway. */
#define POLL_BUDGET 64

bool gdb_poll(struct gdb_stub *g)
{
	if (!gdb_rx_idle(g))	/* a packet is still arriving: serve it */
		return true;
	for (int i = 0; i < POLL_BUDGET; i++) {
		int c = g->io.getc(g->io.ctx);
		if (c < 0)
			return false;
		switch (gdb_rx_byte(g, c)) {
		case GDB_RX_BREAK:
			return true;
		case GDB_RX_START:
			/* In all-stop mode gdb sends nothing but 0x03 while
			 * the guest runs: a packet now is a new gdb (the old
			 * one vanished), which asks `?` itself. */
			g->waiting = false;
			return true;
		default:
			break;
		}
	}
	return false;
}
