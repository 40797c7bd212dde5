/* entry_failure.h — "why did VM entry fail?" at run time (book ch. 4): the
 * processor's own verdict decoded, then the software checker of
 * hv/entry_check.h run over the current VMCS, every broken rule logged with
 * its field and SDM section. */
#ifndef HV_ENTRY_FAILURE_H
#define HV_ENTRY_FAILURE_H

#include <stdint.h>

#include "vmx_caps.h"

struct vcpu;

/* The capability MSRs as read at start-up; the checker judges the controls
 * and fixed CR bits against them. */
extern struct vmx_caps_raw vmx_caps;

/* A VM exit with bit 31 of VM_EXIT_REASON set: VM entry failed while or
 * after loading guest state (exit reason 33, 34 or 41; SDM 27.7). Logs the
 * reason, what its exit qualification says, and the checker's findings. */
void entry_failure_report(struct vcpu *v, uint32_t exit_reason);

/* VMLAUNCH/VMRESUME fell through: status 1 is VMfailInvalid, 2 VMfailValid
 * (enum vmx_status). Logs the VM-instruction error by name and meaning; for
 * error 7 (controls) or 8 (host state) also the checker's findings. */
void entry_failure_report_vmfail(struct vcpu *v, int status);

/* What the last report (or recheck) logged, one line per '\n', for the
 * debugger; "" when nothing was reported. */
const char *entry_failure_notes(void);

/* Before a retried entry: the checker over the VMCS as it is now (a
 * debugger may have fixed it).  Returns the number of broken rules, each
 * logged and in the notes; 0 lets the entry be tried again. */
int entry_failure_recheck(struct vcpu *v);

/* The checker over the current VMCS now, for `monitor why` on a guest
 * that runs: each broken rule through emit ("  " and its sentence),
 * nothing when it finds none.  Returns the number of broken rules. */
int entry_failure_check_now(void (*emit)(void *ctx, const char *line), void *ctx);

#endif
