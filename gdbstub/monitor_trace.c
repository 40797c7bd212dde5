/* monitor_trace.c — `monitor trace`: the exit trace (hv/trace.h) read,
 * cleared, switched on or off from gdb.
 *
 *   monitor trace             state, then the newest 16 exits (all vCPUs)
 *   monitor trace N [VCPU]    the newest N exits, of all vCPUs or of one
 *   monitor trace N csv [VCPU] the same as "tsc,vcpu,reason,code,qual,rip,ticks,hook"
 *                             lines for the gdb helper's `vmx trace save`
 *   monitor trace clear|on|off
 *
 * Asked for more than is held, it gives what there is and says so on a
 * line of its own beginning "trace:" (as every message of its own does). */
#include "stub.h"

#include "hv/trace.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

#define TRACE_DEFAULT_SHOWN 16

struct shown {
	target_emit_fn out;
	void *ctx;
	bool csv;
};

static void show(void *p, const struct trace_entry *e)
{
	struct shown *s = p;
	char line[200];
	if (s->csv)
		trace_format_csv(line, sizeof(line), e);
	else
		trace_format(line, sizeof(line), e);
	s->out(s->ctx, line);
}

static void state_line(target_emit_fn out, void *ctx)
{
	char line[160];
	ksnprintf(line, sizeof(line), "trace: %s, %u records per vCPU, %u held", trace_enabled() ? "on" : "off",
		  trace_capacity(), trace_count(-1));
	out(ctx, line);
}

static bool word_is(const char **s, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(*s, w, n) || ((*s)[n] && (*s)[n] != ' '))
		return false;
	*s += n;
	while (**s == ' ')
		(*s)++;
	return true;
}

static void usage(target_emit_fn out, void *ctx, const char *why)
{
	char line[200];
	ksnprintf(line, sizeof(line), "trace: %s; usage: monitor trace [N [csv] [VCPU] | clear | on | off]", why);
	out(ctx, line);
}

/* The newest n exits of one vCPU (vcpu >= 0) or all, with a word when
 * fewer are held. */
static void show_records(uint64_t n, bool csv, int vcpu, target_emit_fn out, void *ctx)
{
	char line[160];
	struct shown s = { out, ctx, csv };
	unsigned held = trace_count(vcpu);
	if (n > held) {
		ksnprintf(line, sizeof(line), "trace: asked for %llu, %u held%s (the ring keeps %u per vCPU)",
			  (unsigned long long)n, held, vcpu >= 0 ? " for this vCPU" : "", trace_capacity());
		out(ctx, line);
	}
	if (csv)
		out(ctx, "tsc,vcpu,reason,code,qual,rip,ticks,hook");
	trace_walk(vcpu, n > held ? held : (unsigned)n, show, &s);
}

void gdb_monitor_trace(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	uint64_t n, vcpu;
	(void)g;
	if (!*args) {
		state_line(out, ctx);
		show_records(TRACE_DEFAULT_SHOWN < trace_count(-1) ? TRACE_DEFAULT_SHOWN : trace_count(-1), false,
			     -1, out, ctx);
	} else if (!strcmp(args, "clear")) {
		trace_clear();
		out(ctx, "trace: cleared");
	} else if (!strcmp(args, "on")) {
		trace_enable(true);
		state_line(out, ctx);
	} else if (!strcmp(args, "off")) {
		trace_enable(false);
		state_line(out, ctx);
	} else if (*args == '-' || !gdb_parse_number(&args, &n) || (*args && *args != ' ')) {
		usage(out, ctx, *args == '-' ? "N must be a positive number of records" : "not a number of records");
	} else if (!n) {
		usage(out, ctx, "N must be a positive number of records");
	} else {
		while (*args == ' ')
			args++;
		bool csv = word_is(&args, "csv");
		if (!*args)
			vcpu = UINT64_MAX;
		else if (!gdb_parse_number(&args, &vcpu) || *args || vcpu >= target_vcpu_count()) {
			usage(out, ctx, "no such vCPU");
			return;
		}
		show_records(n, csv, vcpu == UINT64_MAX ? -1 : (int)vcpu, out, ctx);
	}
}
