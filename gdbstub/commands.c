/* commands.c — from a packet to its handler, and `?`.
 *
 * A packet we do not know gets the empty reply: that is how the protocol
 * says "not supported", and gdb then stops asking or falls back (`vKill` to
 * `k`, `x` to `m`, `qOffsets` to nothing).  Not supported on purpose:
 * extended mode (`!`, `R`, vRun, vAttach: the guest is not a process gdb
 * may start), non-stop mode, tracepoints, Host I/O (vFile), `x` binary
 * reads (gdb 13 has none), qSymbol, qOffsets, lldb's jThreadsInfo (it
 * falls back to qThreadStopInfo per thread). */
#include "stub.h"

#include "platform/errno.h"
#include "platform/kstring.h"

typedef void (*gdb_handler)(struct gdb_stub *g, struct gdb_cursor *c);

/* `?` — gdb takes the thread it names as selected (threads.c). */
static void cmd_stop_reason(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_select_stopped(g);
	gdb_out_stop_reply(g, gdb_stop_signal(&g->stop));
}

static const gdb_handler letters[128] = {
	['?'] = cmd_stop_reason,
	['g'] = gdb_cmd_read_regs, ['G'] = gdb_cmd_write_regs,
	['p'] = gdb_cmd_read_reg, ['P'] = gdb_cmd_write_reg,
	['m'] = gdb_cmd_read_mem, ['M'] = gdb_cmd_write_mem, ['X'] = gdb_cmd_write_mem_binary,
	['c'] = gdb_cmd_continue, ['C'] = gdb_cmd_continue_signal,
	['s'] = gdb_cmd_step, ['S'] = gdb_cmd_step_signal,
	['Z'] = gdb_cmd_insert_bp, ['z'] = gdb_cmd_remove_bp,
	['H'] = gdb_cmd_thread_select, ['T'] = gdb_cmd_thread_alive,
	['D'] = gdb_cmd_detach, ['k'] = gdb_cmd_kill,
};

/* q, Q and v packets, by name; the name ends at ':', ',', ';' or the end. */
static const struct {
	const char *name;
	gdb_handler fn;
} named[] = {
	{ "qSupported", gdb_cmd_supported },
	{ "QStartNoAckMode", gdb_cmd_no_ack },
	{ "qAttached", gdb_cmd_attached },
	{ "qC", gdb_cmd_current_thread },
	{ "qfThreadInfo", gdb_cmd_first_thread },
	{ "qsThreadInfo", gdb_cmd_next_thread },
	{ "qThreadExtraInfo", gdb_cmd_thread_info },
	{ "qXfer:features:read", gdb_cmd_features },
	{ "qXfer:threads:read", gdb_cmd_threads },
	{ "QListThreadsInStopReply", gdb_cmd_list_threads },
	{ "qRcmd", gdb_cmd_monitor },
	{ "vCont?", gdb_cmd_vcont_query },
	{ "vCont", gdb_cmd_vcont },
};

static gdb_handler find_handler(struct gdb_cursor *c)
{
	char first = *c->p;

	if (first != 'q' && first != 'Q' && first != 'v') {
		c->p++;
		return (unsigned char)first < 128 ? letters[(unsigned char)first] : NULL;
	}
	struct gdb_cursor n = *c;
	if (gdb_take_str(&n, "qThreadStopInfo")) {	/* lldb's: the thread id follows at once */
		*c = n;
		return gdb_cmd_thread_stop_info;
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		n = *c;
		if (!gdb_take_str(&n, named[i].name))
			continue;
		if (gdb_at_end(&n) || *n.p == ':' || *n.p == ',' || *n.p == ';') {
			*c = n;
			return named[i].fn;
		}
	}
	return NULL;
}

void gdb_dispatch(struct gdb_stub *g)
{
	struct gdb_rx *rx = &g->rx;
	struct gdb_cursor c = { (const char *)rx->data, (const char *)rx->data + rx->len };

	gdb_out_reset(g);
	g->no_reply = false;
	g->abandon = false;
	gdb_fpu_forget(g);
	if (rx->error) {
		gdb_out_error(g, rx->error);
	} else if (rx->len) {
		gdb_handler fn = find_handler(&c);
		if (fn)
			fn(g, &c);
	}
	if (!g->no_reply)
		gdb_send(g);
}
