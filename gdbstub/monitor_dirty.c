/* monitor_dirty.c — `monitor dirty start [scan] | stop | list`: which
 * guest-physical pages the guest wrote in an interval (hv/ept_dirty.h).
 * list gives runs of consecutive pages, one line each:
 *     dirty: 3 pages written (PML, tracking)
 *       0x113000-0x113fff  1 page
 *       0x116000-0x117fff  2 pages */
#include "stub.h"

#include "hv/ept_dirty.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

struct runs {
	target_emit_fn out;
	void *ctx;
	uint64_t start, next;	/* the run being gathered: [start, next) */
};

static void emit_run(struct runs *r)
{
	char line[96];
	uint64_t pages = (r->next - r->start) / 4096;
	if (!pages)
		return;
	ksnprintf(line, sizeof(line), "  0x%llx-0x%llx  %llu page%s", (unsigned long long)r->start,
		  (unsigned long long)r->next - 1, (unsigned long long)pages, pages == 1 ? "" : "s");
	r->out(r->ctx, line);
}

static void page(void *p, uint64_t gpa)
{
	struct runs *r = p;
	if (gpa != r->next) {
		emit_run(r);
		r->start = gpa;
	}
	r->next = gpa + 4096;
}

static void count_only(void *p, uint64_t gpa)
{
	(void)p;
	(void)gpa;
}

static void list(target_emit_fn out, void *ctx)
{
	char line[160];
	uint64_t outside;
	long n = ept_dirty_list(count_only, NULL, &outside);	/* counts first: the heading leads */
	if (n < 0) {
		out(ctx, "dirty: tracking never started (monitor dirty start)");
		return;
	}
	enum dirty_method m = ept_dirty_method();
	ksnprintf(line, sizeof(line), "dirty: %ld page%s written (%s)", n, n == 1 ? "" : "s",
		  m == DIRTY_OFF ? "stopped" : m == DIRTY_PML ? "PML, tracking" : "dirty-flag scan, tracking");
	out(ctx, line);
	struct runs r = { out, ctx, 0, 0 };
	ept_dirty_list(page, &r, &outside);
	emit_run(&r);
	if (outside) {
		ksnprintf(line, sizeof(line), "dirty: and %llu page%s above the guest's RAM (MMIO)",
			  (unsigned long long)outside, outside == 1 ? "" : "s");
		out(ctx, line);
	}
}

void gdb_monitor_dirty(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	char msg[200];
	(void)g;
	if (!strcmp(args, "start") || !strcmp(args, "start scan")) {
		ept_dirty_start(args[5] != 0, msg, sizeof(msg));
		out(ctx, msg);
	} else if (!strcmp(args, "stop")) {
		out(ctx, ept_dirty_stop() ? "dirty: not tracking" : "dirty: stopped (monitor dirty list: what was written)");
	} else if (!strcmp(args, "list")) {
		list(out, ctx);
	} else {
		out(ctx, "usage: monitor dirty start [scan] | stop | list");
	}
}
