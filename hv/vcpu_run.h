/* vcpu_run.h — entering the guest, and a guest that cannot go on. */
#ifndef HV_VCPU_RUN_H
#define HV_VCPU_RUN_H

#include "vcpu.h"

/* Enters the guest (VMLAUNCH the first time, VMRESUME after) and never
 * returns: a failed entry is reported, the guest stops for the debugger,
 * and the entry is tried again once a debugger has fixed the VMCS. */
__attribute__((noreturn)) void vcpu_run(struct vcpu *v);

/* The guest cannot run on (v->stop_reason says why): log it, then serve
 * the debugger until one resumes it — which it can only after a failed
 * entry (v->entry_failed) whose VMCS the entry checker now passes.  Returns
 * then; without a debugger, stops the machine as panic= says. */
void vcpu_guest_stopped(struct vcpu *v);

/* From vmexit.S when VMRESUME fails: status 1 VMfailInvalid, 2 VMfailValid.
 * A VMCS its processor cleared while parked (all-stop) needs VMLAUNCH: that
 * failure is not reported, the entry is simply launched. */
__attribute__((noreturn)) void vmresume_failed(int status, struct vcpu *v);

#endif
