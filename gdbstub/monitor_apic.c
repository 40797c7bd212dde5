/* monitor_apic.c — `monitor apic`: the selected vCPU's local APIC in
 * words (hv/target_apic.c, hv/apic_view.c): the virtual-APIC page with
 * RVI/SVI under apic=virtual, the physical APIC in pass-through.  Registered
 * by the composition root (hv/main.c) like the other extra commands. */
#include "monitor_apic.h"

#include "gdbstub.h"

static void monitor_apic(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	if (*args) {
		out(ctx, "usage: monitor apic");
		return;
	}
	target_report_apic(gdb_vcpu(g), out, ctx);
}

void monitor_apic_register(void)
{
	gdb_monitor_register("apic", "the selected vCPU's local APIC in words (virtual-APIC page and RVI/SVI, or the "
			     "physical APIC)", monitor_apic);
}
