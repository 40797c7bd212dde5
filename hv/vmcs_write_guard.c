/* vmcs_write_guard.c — the write policy applied to the live VMCS, and the
 * save/restore around a debugger stop (vmcs_write_guard.h). */
#include "vmcs_write_guard.h"

#include "entry_failure.h"
#include "event_monitor.h"
#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/log.h"
#include "vmcs_present.h"
#include "vmx.h"

#define EXC_DEBUGGER ((1u << 1) | (1u << 3))	/* #DB, #BP: debugger_update_exception_bitmap() */

static int live_read(void *ctx, uint32_t field, uint64_t *value)
{
	(void)ctx;
	return vmread_checked(field, value) == VMX_OK ? 0 : -1;
}

/* The VMCS through VMREAD, with the address widths of CPUID.80000008H. */
static struct vmcs_reader live_reader(void)
{
	struct vmcs_reader r = { .read = live_read };
	uint32_t max, widths, unused;

	cpuid(0x80000000u, 0, &max, &unused, &unused, &unused);
	if (max >= 0x80000008u) {
		cpuid(0x80000008u, 0, &widths, &unused, &unused, &unused);
		r.phys_addr_bits = widths & 0xff;
		r.linear_addr_bits = (widths >> 8) & 0xff;
	}
	return r;
}

/* The vcpu keeps copies that later VMWRITEs start from (inject.c,
 * breakpoints.c, target.c): a user's change must survive them. */
static void sync_vcpu(struct vcpu *v, uint32_t field, uint64_t value)
{
	switch (field) {
	case PRIMARY_VM_EXEC_CONTROL:
		v->proc_ctls = (uint32_t)value;
		break;
	case CR0_GUEST_HOST_MASK:
		v->cr0_mask = value;
		break;
	case CR4_GUEST_HOST_MASK:
		v->cr4_mask = value;
		break;
	case EXCEPTION_BITMAP:
		/* The vectors scripts' event hooks watch are theirs too: a
		 * read-modify-write must not keep them after the last hook. */
		v->user_exceptions = (uint32_t)value & ~EXC_DEBUGGER & ~event_monitor_exception_bits();
		break;
	default:
		break;
	}
}

int vmcs_guarded_write(struct vcpu *v, const struct vmcs_write *w, int n, char *err, size_t errlen)
{
	struct vmcs_reader live = live_reader();
	int rc = vmcs_policy_check(&live, &vmx_caps, w, n, err, errlen);

	if (rc)
		return rc;
	for (int i = 0; i < n; i++) {
		enum vmx_status st = vmwrite_checked(w[i].field, w[i].value);
		if (st != VMX_OK) {
			char how[96];
			vmx_describe_failure(st, how, sizeof(how));
			ksnprintf(err, errlen, "VMWRITE of field 0x%x failed: %s", w[i].field, how);
			return -EINVAL;
		}
		sync_vcpu(v, w[i].field, w[i].value);
	}
	return 0;
}

/* ---- around a debugger stop (all-stop: one CPU at a time uses these) */

#define SAVED_MAX 256
static struct vmcs_write saved[SAVED_MAX];
static int saved_n;

/* Only fields the CPU has: a VMREAD of a missing one would set
 * VM_INSTRUCTION_ERROR to 12 (SDM Vol. 3C §31.4) at every debugger stop,
 * and the user would never see the real error. */
void vmcs_guard_save(void)
{
	const struct vmcs_field_info *f;

	saved_n = 0;
	for (size_t i = 0; (f = vmcs_field_at(i)) && saved_n < SAVED_MAX; i++)
		if ((f->group == VMCS_GROUP_CONTROL || f->group == VMCS_GROUP_GUEST) &&
		    vmcs_field_present(&vmx_caps, f->encoding) && vmread_checked(f->encoding, &saved[saved_n].value) == VMX_OK)
			saved[saved_n++].field = f->encoding;
}

/* The VMCS as saved; host state and exit information cannot change meanwhile. */
static int saved_read(void *ctx, uint32_t field, uint64_t *value)
{
	for (int i = 0; i < saved_n; i++)
		if (saved[i].field == field) {
			*value = saved[i].value;
			return 0;
		}
	return live_read(ctx, field, value);
}

bool vmcs_guard_before_entry(struct vcpu *v)
{
	struct vmcs_reader now = live_reader(), then = now;
	char why[VMCS_POLICY_WHY_MAX];
	int restored = 0;

	then.read = saved_read;
	if (!saved_n || !vmcs_policy_new_violation(&then, &now, &vmx_caps, why, sizeof(why)))
		return false;
	for (int i = 0; i < saved_n; i++) {
		uint64_t value;
		if (live_read(NULL, saved[i].field, &value) || value == saved[i].value)
			continue;
		vmwrite(saved[i].field, saved[i].value);
		sync_vcpu(v, saved[i].field, saved[i].value);
		restored++;
	}
	log_error("vmentry: refused the debugger's changes: %s", why);
	log_error("vmentry: restored the %d VMCS field%s changed while the guest was stopped; the guest runs on",
		  restored, restored == 1 ? "" : "s");
	saved_n = 0;
	return true;
}
