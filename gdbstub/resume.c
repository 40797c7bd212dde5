/* resume.c — letting the guest go: c, s, C, S, vCont, D, k.
 *
 * A resume has no immediate reply: the stop reply comes from the next
 * gdb_serve().  When the target refuses (a dead guest cannot run, or after
 * a failed VM entry the entry checker still finds broken rules), gdb hears
 * why on its console, rule by rule, and gets the stop reply at once, so it
 * is never left waiting for a stop that will not come.  A failed entry the
 * user has fixed (`monitor vmcs`) passes the checker and runs again.
 *
 * Signals: gdb passes one with C/S (or vCont;C/S) when the user says
 * `signal N` or when "handle ... pass" is set for the stop's signal.  For a
 * guest a signal can only mean an exception to deliver; the three with an
 * evident meaning map to vectors, SIGINT and SIGTRAP (our own stops, which
 * gdb passes back by default only if told to) and SIGKILL (a dead guest)
 * deliver nothing, anything else is E22. */
#include "stub.h"

#include "platform/errno.h"

int gdb_signal_to_vector(uint64_t signal)
{
	switch (signal) {
	case GDB_SIGNAL_0:
	case GDB_SIGINT:
	case GDB_SIGTRAP:
	case GDB_SIGKILL:
		return -1;
	case GDB_SIGFPE:
		return 0;	/* #DE */
	case GDB_SIGILL:
		return 6;	/* #UD */
	case GDB_SIGSEGV:
		return 13;	/* #GP(0) */
	default:
		return -EINVAL;
	}
}

/* The guest leaves the stub's hands (D, k, a line that hung up): a new
 * gdb starts from scratch. */
void gdb_let_go(struct gdb_stub *g, enum gdb_outcome outcome)
{
	target_bp_clear_all(g->v);
	if (outcome != GDB_KILLED)
		target_resume(g->v, RESUME_DETACH, -1);
	g->outcome = outcome;
	gdb_reset_link(g);
}

/* vector: from gdb_signal_to_vector(), already checked. */
static void resume(struct gdb_stub *g, enum target_resume_mode mode, int vector)
{
	int rc = target_resume(g->v, mode, vector);
	if (rc == 0) {
		g->no_reply = true;
		g->waiting = true;
		g->outcome = GDB_RESUMED;
		return;
	}
	target_report_dead(g->v, gdb_console_line, g);
	gdb_out_stop_reply(g, gdb_stop_signal(&g->stop));
}

/* An optional resume address: RIP moves there first. */
static bool take_address(struct gdb_stub *g, struct gdb_cursor *c)
{
	uint64_t addr;
	if (gdb_at_end(c))
		return true;
	if (!gdb_take_hex(c, &addr) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return false;
	}
	int rc = target_reg_write(g->v, TREG_RIP, addr);
	if (rc)
		gdb_out_error(g, rc);
	return rc == 0;
}

static void resume_plain(struct gdb_stub *g, struct gdb_cursor *c, enum target_resume_mode mode)
{
	if (take_address(g, c))
		resume(g, mode, -1);
}

/* `C sig[;addr]`, `S sig[;addr]`: the signal is checked before RIP moves. */
static void resume_signal(struct gdb_stub *g, struct gdb_cursor *c, enum target_resume_mode mode)
{
	uint64_t sig;
	bool ok = gdb_take_hex(c, &sig);
	if (ok && gdb_take(c, ';'))
		ok = !gdb_at_end(c);
	else if (ok)
		ok = gdb_at_end(c);
	int vector = ok ? gdb_signal_to_vector(sig) : -EINVAL;
	if (vector < -1)
		gdb_out_error(g, vector);
	else if (take_address(g, c))
		resume(g, mode, vector);
}

void gdb_cmd_continue(struct gdb_stub *g, struct gdb_cursor *c)
{
	resume_plain(g, c, RESUME_CONTINUE);
}

void gdb_cmd_step(struct gdb_stub *g, struct gdb_cursor *c)
{
	resume_plain(g, c, RESUME_STEP);
}

void gdb_cmd_continue_signal(struct gdb_stub *g, struct gdb_cursor *c)
{
	resume_signal(g, c, RESUME_CONTINUE);
}

void gdb_cmd_step_signal(struct gdb_stub *g, struct gdb_cursor *c)
{
	resume_signal(g, c, RESUME_STEP);
}

/* vCont? — `r` (range stepping) is left out: the target steps one
 * instruction at a time, and gdb falls back to `s` without it. */
void gdb_cmd_vcont_query(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_out_str(g, "vCont;c;C;s;S;t");
}

struct vcont_action {
	char op;		/* c C s S t */
	uint64_t signal;
};

/* One action: c | s | t | Cxx | Sxx, then an optional :thread-id.  True
 * with *applies when it concerns our thread (no id, -1, 0 or ours). */
static bool take_action(struct gdb_cursor *c, struct vcont_action *a, bool *applies)
{
	int64_t tid = -1;

	if (gdb_at_end(c))
		return false;
	a->op = *c->p++;
	a->signal = GDB_SIGNAL_0;
	if (a->op == 'C' || a->op == 'S') {
		if (!gdb_take_hex(c, &a->signal))
			return false;
	} else if (a->op != 'c' && a->op != 's' && a->op != 't') {
		return false;
	}
	if (gdb_take(c, ':') && !gdb_take_thread(c, &tid))
		return false;
	*applies = tid == -1 || tid == 0 || tid == GDB_THREAD_ID;
	return gdb_at_end(c) || *c->p == ';';
}

/* vCont;action[:tid]... — the leftmost action for our thread wins (the
 * protocol's rule); all of them are checked for syntax first.  `t` (stop)
 * finds the guest already stopped and answers with a stop reply at once,
 * signal 0, as the protocol reports a thread stopped by request. */
void gdb_cmd_vcont(struct gdb_stub *g, struct gdb_cursor *c)
{
	struct vcont_action a, chosen = { 0, 0 };
	bool applies, found = false;

	while (gdb_take(c, ';')) {
		if (!take_action(c, &a, &applies)) {
			gdb_out_error(g, -EINVAL);
			return;
		}
		if (applies && !found) {
			chosen = a;
			found = true;
		}
	}
	if (!gdb_at_end(c) || !found) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	int vector = gdb_signal_to_vector(chosen.signal);
	if (chosen.op == 't')
		gdb_out_stop_reply(g, GDB_SIGNAL_0);
	else if (vector < -1)
		gdb_out_error(g, vector);
	else
		resume(g, chosen.op == 's' || chosen.op == 'S' ? RESUME_STEP : RESUME_CONTINUE, vector);
}

/* D (or D;pid): OK first, then the breakpoints go and the guest runs. */
void gdb_cmd_detach(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_out_str(g, "OK");
	gdb_send(g);
	g->no_reply = true;
	gdb_let_go(g, GDB_DETACHED);
}

/* k has no reply (gdb does not wait for one). */
void gdb_cmd_kill(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	g->no_reply = true;
	gdb_let_go(g, GDB_KILLED);
}
