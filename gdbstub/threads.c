/* threads.c — vCPUs as gdb's threads: vCPU n is thread n+1 (thread ids
 * start at 1; 0 means "any thread" and -1 "all" in H and vCont), on core n.
 *
 * Two selections, as the protocol has them: Hg picks the vCPU whose
 * registers, guest-virtual memory (its own CR3), breakpoint addresses and
 * `monitor` reports the next packets mean; Hc the one `s` steps (resume.c).
 * After every stop both name the vCPU that stopped: gdb assumes so (it
 * records the stop reply's thread as the selected one and sends Hg only
 * when it wants another), and so does the stop reply to `?`.
 *
 * The thread list: qXfer:threads:read (what gdb reads after every stop),
 * qfThreadInfo/qsThreadInfo (lldb, older gdbs), qThreadExtraInfo for
 * `info threads`, T for "is it alive".  For lldb: qThreadStopInfo<tid> (the
 * stop reply as that thread sees it; the others stopped by request,
 * signal 0) and QListThreadsInStopReply (then every stop reply lists the
 * threads, saving lldb a qfThreadInfo per stop).  jThreadsInfo gets the
 * empty reply: lldb falls back to the packets above.
 *
 * All vCPUs are listed, including an AP the guest has not started yet:
 * its registers are the state it will start from, and gdb shows it
 * "waiting for SIPI". */
#include "stub.h"

#include "platform/errno.h"
#include "platform/fmt.h"

unsigned gdb_thread_count(void)
{
	unsigned n = target_vcpu_count();
	return n < GDB_THREADS_MAX ? n : GDB_THREADS_MAX;
}

struct vcpu *gdb_thread_vcpu(int64_t tid)
{
	if (tid < 1 || tid > (int64_t)gdb_thread_count())
		return NULL;
	return target_vcpu((unsigned)(tid - 1));
}

unsigned gdb_vcpu_thread(const struct vcpu *v)
{
	return target_vcpu_index(v) + 1;
}

struct vcpu *gdb_stopped_vcpu(struct gdb_stub *g)
{
	struct vcpu *v = target_vcpu(g->stop.vcpu);
	return v ? v : g->v;
}

/* A stop names a vCPU the target has; one it does not (a bug below us)
 * falls back to vCPU 0, so the stop reply never names a missing thread. */
void gdb_select_stopped(struct gdb_stub *g)
{
	struct vcpu *v = g->stop.vcpu < gdb_thread_count() ? target_vcpu(g->stop.vcpu) : NULL;
	if (!v)
		v = target_vcpu(0);
	if (v)
		g->v = v;
	g->vc = g->v;
	g->stop.vcpu = target_vcpu_index(g->v);
}

void gdb_out_thread_list(struct gdb_stub *g)
{
	for (unsigned i = 0; i < gdb_thread_count(); i++)
		gdb_out_fmt(g, i ? ",%02x" : "%02x", i + 1);
}

/* `Hg tid`, `Hc tid`.  0 ("any") and -1 ("all") keep Hg's choice and
 * release Hc's: `s` then steps the Hg vCPU.  An unknown thread is E02. */
void gdb_cmd_thread_select(struct gdb_stub *g, struct gdb_cursor *c)
{
	int64_t tid;
	char op = gdb_at_end(c) ? 0 : *c->p++;

	if ((op != 'g' && op != 'c') || !gdb_take_thread(c, &tid) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	struct vcpu *v = gdb_thread_vcpu(tid);
	if (!v && tid != 0 && tid != -1) {
		gdb_out_error(g, -ENOENT);
		return;
	}
	if (op == 'g' && v) {
		g->v = v;
		target_vcpu_select(v);	/* `monitor vmcs` and the VMCS reads mean it too */
	} else if (op == 'c')
		g->vc = v;
	gdb_out_str(g, "OK");
}

/* `T tid`: OK, or E01 — the protocol's "thread is dead", for a thread
 * that never was. */
void gdb_cmd_thread_alive(struct gdb_stub *g, struct gdb_cursor *c)
{
	int64_t tid;
	if (!gdb_take_thread(c, &tid) || !gdb_at_end(c))
		gdb_out_error(g, -EINVAL);
	else if (!gdb_thread_vcpu(tid))
		gdb_out_str(g, "E01");
	else
		gdb_out_str(g, "OK");
}

void gdb_cmd_current_thread(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_out_fmt(g, "QC%02x", gdb_vcpu_thread(g->v));
}

/* The whole list fits one reply (64 threads, 3 bytes each). */
void gdb_cmd_first_thread(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_out_char(g, 'm');
	gdb_out_thread_list(g);
}

void gdb_cmd_next_thread(struct gdb_stub *g, struct gdb_cursor *c)
{
	(void)c;
	gdb_out_char(g, 'l');
}

/* What `info threads` shows in parentheses: "APIC id 2", and ", waiting
 * for SIPI" for an AP the guest has not started. */
static const char *describe(const struct vcpu *v)
{
	static char text[48];
	ksnprintf(text, sizeof(text), "APIC id %u%s", (unsigned)target_vcpu_apic_id(v),
		  target_vcpu_started(v) ? "" : ", waiting for SIPI");
	return text;
}

/* qThreadExtraInfo,tid — for debuggers without qXfer:threads: the name too. */
void gdb_cmd_thread_info(struct gdb_stub *g, struct gdb_cursor *c)
{
	char text[80];
	int64_t tid;

	if (!gdb_take(c, ',') || !gdb_take_thread(c, &tid) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	struct vcpu *v = gdb_thread_vcpu(tid);
	if (!v) {
		gdb_out_error(g, -ENOENT);
		return;
	}
	int n = ksnprintf(text, sizeof(text), "vCPU %u, %s", target_vcpu_index(v), describe(v));
	gdb_out_hex(g, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* qXfer:threads:read::... — the list with the names and descriptions
 * `info threads` shows (gdb, having this, never sends qThreadExtraInfo),
 * built for each piece (the vCPUs cannot change while the guest is
 * stopped).  gdb reads it after every stop, a `stepi` included, so it is
 * kept short: no XML declaration, which the format does not need.  id is
 * hex like every thread id; core is decimal (gdb reads it as a number). */
void gdb_cmd_threads(struct gdb_stub *g, struct gdb_cursor *c)
{
	char *doc = (char *)g->scratch;
	size_t size = sizeof(g->scratch), n;

	n = (size_t)ksnprintf(doc, size, "<threads>");
	for (unsigned i = 0; i < gdb_thread_count() && n < size; i++)
		n += (size_t)ksnprintf(doc + n, size - n, "<thread id=\"%02x\" core=\"%u\" name=\"vCPU %u\">%s</thread>",
				       i + 1, i, i, describe(target_vcpu(i)));
	if (n < size)
		n += (size_t)ksnprintf(doc + n, size - n, "</threads>");
	gdb_xfer(g, c, "", n < size ? doc : NULL, n < size ? n : 0);
}

void gdb_cmd_list_threads(struct gdb_stub *g, struct gdb_cursor *c)
{
	if (!gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	g->list_threads = true;
	gdb_out_str(g, "OK");
}

/* qThreadStopInfo<tid> (lldb): the stop reply of the vCPU that stopped,
 * or T00 for the others, which the all-stop stopped for it. */
void gdb_cmd_thread_stop_info(struct gdb_stub *g, struct gdb_cursor *c)
{
	int64_t tid;
	if (!gdb_take_thread(c, &tid) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	struct vcpu *v = gdb_thread_vcpu(tid);
	if (!v)
		gdb_out_error(g, -ENOENT);
	else if (v == gdb_stopped_vcpu(g))
		gdb_out_stop_reply(g, gdb_stop_signal(&g->stop));
	else
		gdb_out_thread_stop(g, v, GDB_SIGNAL_0);
}
