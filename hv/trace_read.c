/* trace_read.c — reading the exit trace's rings (trace.h): which records
 * hold an exit, oldest first, one vCPU or all merged by TSC, and one
 * record as text.  Plain C over the vcpus[] table: host-tested
 * (tests/unit/test_trace.c). */
#include "trace.h"

#include "platform/fmt.h"
#include "vmcs_table.h"

/* One vCPU's records: `count` of them, the oldest at ring index `first`;
 * the last may be open (its exit not over: the debugger's stop). */
struct ring_view {
	const struct trace_rec *ring;
	unsigned first, count;
	bool open;
};

static const struct trace_rec *view_at(const struct ring_view *w, unsigned i)
{
	return &w->ring[(w->first + i) % TRACE_RECORDS];
}

/* Walking back from the ring position: written records, newest first,
 * until a never-written one or the ring is round.  The record at the
 * position itself is an exit still open when it is newer than the one
 * before it (after a wrap it is the oldest instead). */
static struct ring_view view_of(const struct vcpu *v)
{
	struct ring_view w = { .ring = v->trace_ring };
	if (!w.ring)
		return w;
	const struct trace_rec *pos = v->trace_cur;
	unsigned p = (unsigned)(pos - w.ring), done = 0;
	while (done < TRACE_RECORDS - 1) {
		const struct trace_rec *r = &w.ring[(p + TRACE_RECORDS - 1 - done) % TRACE_RECORDS];
		if (!r->tsc)
			break;
		done++;
	}
	const struct trace_rec *prev = &w.ring[(p + TRACE_RECORDS - 1) % TRACE_RECORDS];
	w.open = pos->tsc && (!done || pos->tsc > prev->tsc);
	w.count = done + w.open;
	w.first = (p + TRACE_RECORDS - done) % TRACE_RECORDS;
	return w;
}

static void entry_of(const struct ring_view *w, unsigned i, unsigned vcpu, struct trace_entry *e)
{
	const struct trace_rec *r = view_at(w, i);
	e->tsc = r->tsc;
	e->rip = r->rip;
	e->qual = r->qual;
	e->reason = r->reason | (uint32_t)r->reason_hi << 24;
	e->verdict = r->verdict;
	e->vcpu = vcpu;
	e->ticks = w->open && i == w->count - 1 ? TRACE_TICKS_OPEN : (uint32_t)(r->resume - (uint32_t)r->tsc);
}

unsigned trace_count(int vcpu)
{
	unsigned n = 0;
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpu < 0 || (unsigned)vcpu == i)
			n += view_of(&vcpus[i]).count;
	return n;
}

/* All vCPUs: first, walking back from each newest, which vCPU gives each
 * of the n newest records (how many each gives: take[]); then forward
 * from there, always the oldest next. */
static unsigned walk_all(unsigned n, trace_fn fn, void *ctx)
{
	struct ring_view w[VCPU_MAX];
	unsigned take[VCPU_MAX], given = 0;
	for (unsigned i = 0; i < vcpu_count; i++) {
		w[i] = view_of(&vcpus[i]);
		take[i] = 0;
	}
	for (; given < n; given++) {
		int best = -1;
		for (unsigned i = 0; i < vcpu_count; i++)
			if (take[i] < w[i].count &&
			    (best < 0 || view_at(&w[i], w[i].count - 1 - take[i])->tsc >
						 view_at(&w[best], w[best].count - 1 - take[best])->tsc))
				best = (int)i;
		if (best < 0)
			break;
		take[best]++;
	}
	for (unsigned k = 0; k < given; k++) {
		int best = -1;
		for (unsigned i = 0; i < vcpu_count; i++)
			if (take[i] &&
			    (best < 0 || view_at(&w[i], w[i].count - take[i])->tsc <
						 view_at(&w[best], w[best].count - take[best])->tsc))
				best = (int)i;
		struct trace_entry e;
		entry_of(&w[best], w[best].count - take[best], (unsigned)best, &e);
		take[best]--;
		fn(ctx, &e);
	}
	return given;
}

unsigned trace_walk(int vcpu, unsigned n, trace_fn fn, void *ctx)
{
	if (vcpu < 0)
		return walk_all(n, fn, ctx);
	if ((unsigned)vcpu >= vcpu_count)
		return 0;
	struct ring_view w = view_of(&vcpus[vcpu]);
	unsigned k = n < w.count ? n : w.count;
	for (unsigned i = w.count - k; i < w.count; i++) {
		struct trace_entry e;
		entry_of(&w, i, (unsigned)vcpu, &e);
		fn(ctx, &e);
	}
	return k;
}

const char *trace_verdict_name(unsigned verdict)
{
	static const char *const names[] = { "-", "default", "skip", "resume", "stop" };
	return verdict < sizeof(names) / sizeof(names[0]) ? names[verdict] : "?";
}

/* "tsc=1234 vcpu=0 reason=CPUID(10) qual=0x0 rip=0x100a ticks=106 hook=-":
 * key=value, so that a reader (the gdb helper's `vmx trace save`) needs
 * no column rules; ticks "open" for an exit not over. */
int trace_format(char *buf, unsigned len, const struct trace_entry *e)
{
	unsigned basic = e->reason & 0xffff;
	const char *name = exit_reason_name(basic);
	char ticks[24];
	if (e->ticks == TRACE_TICKS_OPEN)
		ksnprintf(ticks, sizeof(ticks), "open");
	else
		ksnprintf(ticks, sizeof(ticks), "%llu", (unsigned long long)e->ticks);
	return ksnprintf(buf, len, "tsc=%llu vcpu=%u reason=%s(%u)%s qual=0x%llx rip=0x%llx ticks=%s hook=%s",
			 (unsigned long long)e->tsc, e->vcpu, name ? name : "unassigned", basic,
			 e->reason & (1u << 31) ? ",entry-failed" : "", (unsigned long long)e->qual,
			 (unsigned long long)e->rip, ticks, trace_verdict_name(e->verdict));
}

int trace_format_csv(char *buf, unsigned len, const struct trace_entry *e)
{
	const char *name = exit_reason_name(e->reason & 0xffff);
	char ticks[24] = "";
	if (e->ticks != TRACE_TICKS_OPEN)
		ksnprintf(ticks, sizeof(ticks), "%llu", (unsigned long long)e->ticks);
	return ksnprintf(buf, len, "%llu,%u,%s,%u,0x%llx,0x%llx,%s,%s", (unsigned long long)e->tsc, e->vcpu,
			 name ? name : "unassigned", e->reason, (unsigned long long)e->qual,
			 (unsigned long long)e->rip, ticks, trace_verdict_name(e->verdict));
}
