/* stealth_bp.c — hidden breakpoints (issue 13): an int3 in the execute view
 * of a split page (ept_views.c), never in guest memory.  Owned by the
 * debugger (gdb's Z0 under `monitor bp-mode stealth`) or by a script
 * (target_script_bp_add, Lua's bp.add).  Both may sit on one byte: the
 * int3 stays while either does.  A hit of the debugger's stops for gdb
 * (debugger_on_breakpoint); a script's runs its callback, then the
 * instruction once on the original bytes (ept_views_step_original), and the
 * guest goes on without a stop.
 * Limit: STEALTH_BP_MAX (debugger.h) and ept_views.h's per-page ones;
 * past one -ENOSPC and a log line. */
#include "debugger.h"

#include "ept_views.h"
#include "guest.h"
#include "allstop.h"
#include "hooks.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/log.h"
#include "vcpu_kick.h"
#include "vmx.h"

#define OWNER_DEBUGGER 0u

struct stealth_bp {
	uint64_t gva, gpa;
	unsigned owner;		/* OWNER_DEBUGGER, or a script's handle */
};

static struct stealth_bp bps[STEALTH_BP_MAX];	/* bps[0, nbps) in use */
static unsigned nbps;

static int find(uint64_t gva, unsigned owner)
{
	for (unsigned i = 0; i < nbps; i++)
		if (bps[i].gva == gva && bps[i].owner == owner)
			return (int)i;
	return -ENOENT;
}

static bool gpa_in_use(uint64_t gpa)
{
	for (unsigned i = 0; i < nbps; i++)
		if (bps[i].gpa == gpa)
			return true;
	return false;
}

unsigned stealth_bp_count(void)
{
	return nbps;
}

/* The other vCPUs in the guest intercept #BP from their next exit on: a
 * kick makes that exit now and its poll (debugger_poll: ept_views_sync)
 * refreshes their exception bitmap.  Parked ones do it when they leave the
 * park, APs not started yet when they start. */
static void kick_others(struct vcpu *v)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (&vcpus[i] != v && vcpus[i].state == VCPU_RUNNING && !vcpus[i].parked)
			vcpu_kick(&vcpus[i]);
}

static int insert(struct vcpu *v, uint64_t gva, unsigned owner)
{
	uint64_t gpa;
	if (owner == OWNER_DEBUGGER && find(gva, owner) >= 0)
		return 0;	/* gdb may insert twice */
	if (nbps == STEALTH_BP_MAX) {
		log_warn("stealth: all %u hidden breakpoints in use: none at 0x%llx", STEALTH_BP_MAX,
			 (unsigned long long)gva);
		return -ENOSPC;
	}
	if (target_virt_to_phys(v, gva, &gpa)) {
		log_warn("stealth: 0x%llx is not mapped by the guest's page tables: no hidden breakpoint there",
			 (unsigned long long)gva);
		return -EFAULT;
	}
	int rc = ept_views_add_int3(v, gpa);
	if (rc)
		return rc;
	bps[nbps++] = (struct stealth_bp){ gva, gpa, owner };
	debugger_update_exception_bitmap(v);
	kick_others(v);
	return 0;
}

static int remove_at(struct vcpu *v, int i)
{
	uint64_t gpa = bps[i].gpa;
	bps[i] = bps[--nbps];
	int rc = gpa_in_use(gpa) ? 0 : ept_views_remove_int3(v, gpa);
	debugger_update_exception_bitmap(v);
	return rc;
}

int stealth_bp_insert(struct vcpu *v, uint64_t gva)
{
	return insert(v, gva, OWNER_DEBUGGER);
}

int stealth_bp_remove(struct vcpu *v, uint64_t gva)
{
	int i = find(gva, OWNER_DEBUGGER);
	return i < 0 ? i : remove_at(v, i);
}

void stealth_bp_clear_debuggers(struct vcpu *v)
{
	for (unsigned i = nbps; i-- > 0;)
		if (bps[i].owner == OWNER_DEBUGGER)
			remove_at(v, (int)i);
}

bool stealth_bp_is_debuggers(uint64_t gva)
{
	return find(gva, OWNER_DEBUGGER) >= 0;
}

int target_script_bp_add(struct vcpu *v, uint64_t gva, unsigned id)
{
	if (id == OWNER_DEBUGGER)
		return -EINVAL;
	if (vcpu_vmcs_use(v))	/* `monitor lua` while another VMCS is current */
		return -EBUSY;
	return insert(v, gva, id);
}

int target_script_bp_remove(struct vcpu *v, unsigned id)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	for (unsigned i = 0; i < nbps; i++)
		if (bps[i].owner == id)
			return remove_at(v, (int)i);
	return -ENOENT;
}

/* Every script breakpoint at rip has its say; the first "stop" stops. */
bool stealth_bp_script_hit(struct vcpu *v, uint64_t rip)
{
	unsigned ids[16], n = 0;
	uint64_t gpa = 0;
	for (unsigned i = 0; i < nbps && n < 16; i++) {
		if (bps[i].gva == rip && bps[i].owner != OWNER_DEBUGGER) {
			ids[n++] = bps[i].owner;
			gpa = bps[i].gpa;
		}
	}
	if (!n)
		return false;
	bool stop = false;
	char reason[96];
	for (unsigned i = 0; i < n; i++) {
		char why[96];
		if (breakpoint_hook_run(v, ids[i], rip, why, sizeof(why)) == HOOK_STOP && !stop) {
			stop = true;
			ksnprintf(reason, sizeof(reason), "%s", why);
		}
	}
	if (stop) {
		struct target_stop s = { .kind = STOP_HOOK };
		ksnprintf(s.reason, sizeof(s.reason), "%s", reason);
		debugger_stop(v, &s);
	}
	/* A callback may have removed it: then the int3 is gone already. */
	if (vmread(GUEST_RIP) == rip)
		ept_views_step_original(v, gpa);
	return true;
}

void target_report_bp_mode(target_emit_fn out, void *ctx)
{
	struct ept_views_stats s;
	char line[240];
	unsigned debuggers = 0;
	for (unsigned i = 0; i < nbps; i++)
		debuggers += bps[i].owner == OWNER_DEBUGGER;
	ept_views_stats(&s);
	ksnprintf(line, sizeof(line), "bp-mode %s: gdb's breakpoints are %s",
		  target_bp_get_mode() == BP_MODE_STEALTH ? "stealth" : "int3",
		  target_bp_get_mode() == BP_MODE_STEALTH ?
		  "hidden (execute-only EPT view with int3, the guest reads its own bytes)" :
		  "int3 bytes in guest memory (the guest reading its code sees them)");
	out(ctx, line);
	ksnprintf(line, sizeof(line), "hidden breakpoints: %u (gdb %u, scripts %u) on %u split pages, %u int3s",
		  nbps, debuggers, nbps - debuggers, s.pages, s.int3s);
	out(ctx, line);
	ksnprintf(line, sizeof(line), "view changes: %llu to execute, %llu to data, %llu steps on the original bytes, "
		  "%llu shadow copies, %llu stale TLB exits",
		  (unsigned long long)s.to_exec, (unsigned long long)s.to_data, (unsigned long long)s.steps,
		  (unsigned long long)s.copies, (unsigned long long)s.stale);
	out(ctx, line);
}
