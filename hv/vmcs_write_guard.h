/* vmcs_write_guard.h — the write policy (vmcs_write_policy.h) on the live
 * VMCS: every VMWRITE a debugger user or a script asks for goes through
 * vmcs_guarded_write(); and around a debugger stop the VMCS is saved, so
 * that a change the per-write checks could not see (gdb's `signal`, a
 * combination) and that would make VM entry fail is undone before the
 * guest is entered again. */
#ifndef HV_VMCS_WRITE_GUARD_H
#define HV_VMCS_WRITE_GUARD_H

#include <stddef.h>

#include "vcpu.h"
#include "vmcs_write_policy.h"

/* Judges the writes (together) and makes them, keeping the vcpu's copies
 * of the controls in step.  0, or the policy's code with err filled. */
int vmcs_guarded_write(struct vcpu *v, const struct vmcs_write *w, int n, char *err, size_t errlen);

/* At a debugger stop: remember the control and guest-state fields. */
void vmcs_guard_save(void);
/* When the debugger lets the guest go: if the VMCS now breaks an entry
 * rule the saved one did not, log the rule and restore every field that
 * changed since vmcs_guard_save(); true when it did. */
bool vmcs_guard_before_entry(struct vcpu *v);

#endif
