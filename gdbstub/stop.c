/* stop.c — stop replies.
 *
 * Always the T form: `T` signal, the vCPU that stopped as `thread:N;` and
 * `core:n;` (thread n+1 is vCPU n), then the registers gdb needs first
 * after any stop (frame pointer, stack pointer, PC, by their numbers in
 * the connection's view: 06 07 10 for amd64, 05 04 08 for i386), for lldb
 * after QListThreadsInStopReply `threads:01,02;`, then the reason.  With
 * those expedited, gdb builds the innermost frame without a `g`.  A `stepi` still costs three round
 * trips, the other two gdb's own after every stop: the thread list
 * (normal_stop refreshes it) and the caller's return address (its DWARF
 * unwinder reads it to look for tail calls) — tools/bench_gdb.py counts.
 *
 * Signals (gdb's numbering):
 *   05 SIGTRAP  breakpoints, watchpoints, steps, the first attach, Lua hooks;
 *   02 SIGINT   a break-in (0x03), as gdb expects after Ctrl-C;
 *   09 SIGKILL  the guest is dead (triple fault, invalid state): like a
 *               killed process it cannot run on, yet its registers and
 *               memory stay there to inspect.  Not SIGSEGV: gdb passes
 *               SIGSEGV back on `continue` by default, and it would read as
 *               a guest page fault, which this is not;
 *   00          `vCont;t` (a stop request, reported as "no signal").
 * swbreak/hwbreak are sent only to a gdb that asked for them in qSupported
 * (older ones do not parse them); watch/rwatch/awatch always.
 *
 * Registers are expedited only once gdb has read target.xml.  An expedited
 * register is only "number:bytes", sized by the layout gdb believes in: a
 * gdb that has not read the description (lldb before its qXfer, a gdb
 * with another architecture from its ELF) would read 4-byte values as
 * 8-byte ones ("Invalid hex digit") or worse.  Without them gdb asks with
 * `g`, one round trip more.
 *
 * A guest that powers off ends like a process: `W` and its exit code.  A
 * dead guest's stop comes after the reason and, for a failed VM entry, the
 * entry checker's findings, as console lines (`O`), so gdb prints them. */
#include "stub.h"

#include "platform/kstring.h"

int gdb_stop_signal(const struct target_stop *s)
{
	switch (s->kind) {
	case STOP_INTERRUPT:
		return GDB_SIGINT;
	case STOP_GUEST_DEAD:
		return GDB_SIGKILL;
	default:
		return GDB_SIGTRAP;
	}
}

static void out_expedited(struct gdb_stub *g, unsigned n)
{
	uint8_t bytes[GDB_REG_BYTES_MAX];
	if (gdb_reg_get(g, n, bytes) == 0) {
		gdb_out_fmt(g, "%02x:", n);
		gdb_out_hex(g, bytes, gdb_view(g)->regs[n].bits / 8);
		gdb_out_char(g, ';');
	}
}

static void out_reason(struct gdb_stub *g)
{
	const struct target_stop *s = &g->stop;

	if (s->kind == STOP_SW_BREAKPOINT && g->gdb_swbreak) {
		gdb_out_str(g, "swbreak:;");
	} else if (s->kind == STOP_HW_BREAKPOINT && g->gdb_hwbreak) {
		gdb_out_str(g, "hwbreak:;");
	} else if (s->kind == STOP_WATCHPOINT) {
		const char *name = s->watch_type == BP_READ ? "rwatch" :
				   s->watch_type == BP_ACCESS ? "awatch" : "watch";
		gdb_out_fmt(g, "%s:%llx;", name, (unsigned long long)s->addr);
	}
}

/* v's stop reply: its registers are read with v selected for a moment
 * (gdb_reg_get reads the Hg vCPU); only the stopping vCPU has a reason. */
void gdb_out_thread_stop(struct gdb_stub *g, struct vcpu *v, int signal)
{
	struct vcpu *selected = g->v;
	unsigned index = target_vcpu_index(v);

	gdb_out_reset(g);
	gdb_out_fmt(g, "T%02xthread:%02x;core:%x;", signal, index + 1, index);
	const struct gdb_view *view = gdb_view(g);
	g->v = v;
	for (unsigned i = 0; g->xml_read && i < sizeof(view->expedite); i++)
		out_expedited(g, view->expedite[i]);
	g->v = selected;
	if (g->list_threads) {
		gdb_out_str(g, "threads:");
		gdb_out_thread_list(g);
		gdb_out_char(g, ';');
	}
	if (index == g->stop.vcpu && signal == gdb_stop_signal(&g->stop))
		out_reason(g);
}

void gdb_out_stop_reply(struct gdb_stub *g, int signal)
{
	gdb_out_thread_stop(g, gdb_stopped_vcpu(g), signal);
}

void gdb_console_line(void *ctx, const char *line)
{
	struct gdb_stub *g = ctx;

	gdb_out_reset(g);
	gdb_out_char(g, 'O');
	gdb_out_hex(g, "vmxdbg: ", 8);
	gdb_out_hex(g, line, strlen(line));
	gdb_out_hex(g, "\n", 1);
	gdb_send(g);
}

/* For a gdb waiting on a resume: why, in words, on its console (only for
 * the stops whose reason the hypervisor spells out), then the stop reply. */
void gdb_report_stop(struct gdb_stub *g)
{
	const struct target_stop *s = &g->stop;

	if (s->kind == STOP_GUEST_DEAD)
		target_report_dead(gdb_stopped_vcpu(g), gdb_console_line, g);
	else if (s->kind == STOP_HOOK && s->reason[0])
		gdb_console_line(g, s->reason);
	gdb_out_stop_reply(g, gdb_stop_signal(s));
	gdb_send(g);
}

bool gdb_exited(struct gdb_stub *g, int code)
{
	if (!g->waiting)
		return false;
	g->waiting = false;
	gdb_out_reset(g);
	gdb_out_fmt(g, "W%02x", code & 0xff);
	gdb_send(g);
	gdb_reset_link(g);
	return true;
}
