/* resume.c — letting the guest go: c, s, C, S, vCont, D, k.
 *
 * A resume has no immediate reply: the stop reply comes from the next
 * gdb_serve().  When the target refuses (a dead guest cannot run, or after
 * a failed VM entry the entry checker still finds broken rules), gdb hears
 * why on its console, rule by rule, and gets the stop reply at once, so it
 * is never left waiting for a stop that will not come.  A failed entry the
 * user has fixed (`monitor vmcs`) passes the checker and runs again.
 *
 * Per vCPU (all-stop, hv/target.h): a vCPU given no action stays stopped.
 * c and C let every vCPU run; s and S step the Hc vCPU alone (Hg's after
 * Hc0 or Hc-1; after a stop both are the vCPU that stopped): a step moves
 * only the stepped vCPU unless vCont, which gives each vCPU its own
 * action, says otherwise.  The signal and a resume address of c, s, C and
 * S are the Hc vCPU's.
 *
 * Signals: gdb passes one with C/S (or vCont;C/S) when the user says
 * `signal N` or when "handle ... pass" is set for the stop's signal.  For a
 * guest a signal can only mean an exception to deliver; the three with an
 * evident meaning map to vectors, SIGINT and SIGTRAP (our own stops, which
 * gdb passes back by default only if told to) and SIGKILL (a dead guest)
 * deliver nothing, anything else is E22. */
#include "stub.h"

#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

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

/* Every vCPU's action for this resume: none yet. */
static void plan_clear(struct gdb_stub *g)
{
	memset(g->plan, 0, sizeof(g->plan));
}

static void plan_set(struct gdb_stub *g, const struct vcpu *v, char op, int vector)
{
	g->plan[target_vcpu_index(v)] = (struct gdb_action){ op, vector };
}

static bool runs(const struct gdb_action *a)
{
	return a->op == 'c' || a->op == 's';
}

static int run_one(struct vcpu *v, const struct gdb_action *a)
{
	return target_resume(v, a->op == 's' ? RESUME_STEP : RESUME_CONTINUE, a->vector);
}

/* Lets the planned vCPUs go, first (which must have an action) before the
 * others.  If first refuses, nothing runs: gdb hears why and gets the stop
 * reply at once.  Another vCPU that refuses stays stopped, and gdb's
 * console says so; the rest run. */
static void go(struct gdb_stub *g, struct vcpu *first)
{
	char line[64];
	unsigned i0 = target_vcpu_index(first);

	if (run_one(first, &g->plan[i0])) {
		target_report_dead(first, gdb_console_line, g);
		gdb_out_stop_reply(g, gdb_stop_signal(&g->stop));
		return;
	}
	for (unsigned i = 0; i < gdb_thread_count(); i++) {
		struct vcpu *v = target_vcpu(i);
		if (i == i0 || !v || !runs(&g->plan[i]) || run_one(v, &g->plan[i]) == 0)
			continue;
		ksnprintf(line, sizeof(line), "vCPU %u cannot run: it stays stopped", i);
		gdb_console_line(g, line);
		target_report_dead(v, gdb_console_line, g);
	}
	g->no_reply = true;
	g->waiting = true;
	g->outcome = GDB_RESUMED;
}

/* The vCPU c, s, C and S are about: Hc's, or with Hc0/Hc-1 Hg's. */
static struct vcpu *hc_vcpu(struct gdb_stub *g)
{
	return g->vc ? g->vc : g->v;
}

/* c and C let every vCPU run; s and S step only the Hc one (the others
 * stay stopped).  The signal goes to that one. */
static void resume(struct gdb_stub *g, enum target_resume_mode mode, int vector)
{
	struct vcpu *v = hc_vcpu(g);

	plan_clear(g);
	for (unsigned i = 0; mode == RESUME_CONTINUE && i < gdb_thread_count(); i++)
		g->plan[i] = (struct gdb_action){ 'c', -1 };
	plan_set(g, v, mode == RESUME_STEP ? 's' : 'c', vector);
	go(g, v);
}

/* An optional resume address: the Hc vCPU's RIP moves there first. */
static bool take_address(struct gdb_stub *g, struct gdb_cursor *c)
{
	uint64_t addr;
	if (gdb_at_end(c))
		return true;
	if (!gdb_take_hex(c, &addr) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return false;
	}
	int rc = target_reg_write(hc_vcpu(g), TREG_RIP, addr);
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
 * instruction at a time, and gdb falls back to `s` without it.  Every
 * action takes a thread. */
void gdb_cmd_vcont_query(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_out_str(g, "vCont;c;C;s;S;t");
}

/* One action: c | s | t | Cxx | Sxx (op in lower case, the signal apart),
 * then an optional :thread-id; none means -1, every vCPU. */
static bool take_action(struct gdb_cursor *c, char *op, uint64_t *signal, int64_t *tid)
{
	if (gdb_at_end(c))
		return false;
	*op = *c->p++;
	*signal = GDB_SIGNAL_0;
	*tid = -1;
	if (*op == 'C' || *op == 'S') {
		if (!gdb_take_hex(c, signal))
			return false;
		*op = *op == 'C' ? 'c' : 's';
	} else if (*op != 'c' && *op != 's' && *op != 't') {
		return false;
	}
	if (gdb_take(c, ':') && !gdb_take_thread(c, tid))
		return false;
	return gdb_at_end(c) || *c->p == ';';
}

/* The planned resume: `t` alone finds the guest already stopped and
 * answers with a stop reply at once, signal 0, as the protocol reports a
 * thread stopped by request.  Else the first stepping vCPU goes first (a
 * step that cannot happen makes the whole resume pointless), else the Hg
 * one if it runs, else the lowest that runs. */
static void run_plan(struct gdb_stub *g)
{
	struct vcpu *first = NULL;
	for (unsigned i = 0; i < gdb_thread_count() && !first; i++)
		if (g->plan[i].op == 's')
			first = target_vcpu(i);
	if (!first && runs(&g->plan[target_vcpu_index(g->v)]))
		first = g->v;
	for (unsigned i = 0; i < gdb_thread_count() && !first; i++)
		if (runs(&g->plan[i]))
			first = target_vcpu(i);
	if (first)
		go(g, first);
	else
		gdb_out_stop_reply(g, GDB_SIGNAL_0);
}

/* vCont;action[:tid]... — each vCPU gets the action naming its thread (0:
 * the Hg vCPU), else the one without a thread, else none: it stays
 * stopped.  `vCont;s:2;c` steps vCPU 1 and lets the others run,
 * `vCont;s:2` steps it alone.  Refused before anything runs: bad syntax, a
 * signal that is no exception, a second action for one vCPU or anything
 * after the thread-less one (the protocol's leftmost-wins would ignore
 * it, and gdb never sends one) are E22; a thread that is no vCPU E02. */
void gdb_cmd_vcont(struct gdb_stub *g, struct gdb_cursor *c)
{
	struct gdb_action all = { 0, -1 };
	bool any = false;
	uint64_t signal;
	int64_t tid;
	char op;

	plan_clear(g);
	while (gdb_take(c, ';')) {
		if (!take_action(c, &op, &signal, &tid) || all.op) {
			gdb_out_error(g, -EINVAL);
			return;
		}
		int vector = gdb_signal_to_vector(signal);
		struct vcpu *v = tid == 0 ? g->v : gdb_thread_vcpu(tid);
		if (vector < -1 || (v && g->plan[target_vcpu_index(v)].op)) {
			gdb_out_error(g, -EINVAL);
			return;
		}
		if (!v && tid != -1) {
			gdb_out_error(g, -ENOENT);
			return;
		}
		if (v)
			plan_set(g, v, op, vector);
		else
			all = (struct gdb_action){ op, vector };
		any = true;
	}
	if (!gdb_at_end(c) || !any) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	for (unsigned i = 0; i < gdb_thread_count(); i++)
		if (!g->plan[i].op)
			g->plan[i] = all;
	run_plan(g);
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
