/* monitor_bp.c — `monitor bp-mode [int3|stealth]`: how gdb's software
 * breakpoints (Z0) are made from now on (issue 13).  int3: the byte in
 * guest memory; stealth: hidden in an execute-only EPT view of the page
 * (hv/ept_views.h).  Breakpoints already set stay as they were made. */
#include "stub.h"

#include "platform/kstring.h"

void gdb_monitor_bp_mode(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	(void)g;
	if (!strcmp(args, "int3")) {
		target_bp_set_mode(BP_MODE_INT3);
	} else if (!strcmp(args, "stealth")) {
		target_bp_set_mode(BP_MODE_STEALTH);
	} else if (*args) {
		out(ctx, "usage: monitor bp-mode [int3|stealth]");
		return;
	}
	target_report_bp_mode(out, ctx);
}
