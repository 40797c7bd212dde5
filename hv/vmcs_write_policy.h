/* vmcs_write_policy.h — what a debugger user or a script may write into the
 * VMCS, and whether the guest could still be entered afterwards.  One
 * policy for every path (gdb's `monitor vmcs`, Lua's vmcs.write, register
 * writes, event injection): hv/target.c asks it before any VMWRITE.
 *
 * - VM-exit information and host state: never (read-only, or vmxdbg's own).
 * - Control fields: only the bits of the table in vmcs_write_policy.c, which
 *   can add exits or change what the guest reads but cannot open a device,
 *   memory or the debugger's own mechanisms to the guest.  Addresses,
 *   bitmaps, EPT, VPID, MSR areas and the controls isolation rests on stay.
 * - Guest state: anything the VM-entry checker (hv/entry_check.h) accepts.
 *   Every write, controls included, is judged on the proposed VMCS: a rule
 *   it breaks that the current VMCS does not is the reason for refusing.
 *
 * Pure: the VMCS is read through a struct vmcs_reader, so host tests judge
 * writes against a fake one. */
#ifndef HV_VMCS_WRITE_POLICY_H
#define HV_VMCS_WRITE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "entry_check.h"

/* One field's proposed value: full encoding, full value. */
struct vmcs_write {
	uint32_t field;
	uint64_t value;
};

#define VMCS_POLICY_WHY_MAX 320

/* Judges writes that go in together (an event's information, error code
 * and length).  0: they may go in.  -EPERM: a field or a bit vmxdbg keeps;
 * -EINVAL: a value the field cannot hold or VM entry would refuse.  why
 * gets one sentence that names the field and the rule. */
int vmcs_policy_check(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
		      const struct vmcs_write *w, int n, char *why, size_t len);

/* The first VM-entry rule the proposed VMCS breaks and the live one does
 * not: -EINVAL with why, or 0. */
int vmcs_policy_new_violation(const struct vmcs_reader *live, const struct vmcs_reader *proposed,
			      const struct vmx_caps_raw *caps, char *why, size_t len);

#endif
