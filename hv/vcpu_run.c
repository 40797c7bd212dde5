/* vcpu_run.c — entering the guest, and a guest that cannot go on.
 *
 * A VM entry can fail two ways (SDM Vol. 3C ch. 27, book ch. 4): the
 * instruction itself fails (VMfailValid, with a VM-instruction error, for
 * bad controls or host state), or the guest-state checks fail and the CPU
 * exits with bit 31 of the exit reason set.  Either way nothing of the
 * guest is lost — its GPRs stay in the vcpu (vmexit.S), the rest in the
 * VMCS — and the guest stops for the debugger with the processor's verdict
 * and the entry checker's explanation (entry_failure.c).  A debugger may fix
 * the VMCS (`monitor vmcs`, Lua's vmcs.write) and resume: the checker runs
 * again first (target_resume in debugger.c), and if it finds no broken
 * rule the entry is tried again from here. */
#include "vcpu_run.h"

#include "debugger.h"
#include "entry_failure.h"
#include "exits.h"
#include "platform/fmt.h"
#include "platform/log.h"
#include "vmx.h"

int vmx_launch(struct guest_gprs *gprs);
int vmx_resume(struct guest_gprs *gprs);

/* One attempt; returns how it failed.  A VMCS never entered is launched,
 * any other resumed.  After an entry that failed with an exit the launch
 * state is not ours to assume: VMLAUNCH refuses a launched VMCS (error 4),
 * VMRESUME a clear one (error 5), and then the other instruction is right
 * (SDM Vol. 3C §31.3). */
static int enter(struct vcpu *v)
{
	bool launch = !v->launched;
	int status = launch ? vmx_launch(v->gprs) : vmx_resume(v->gprs);
	uint64_t error = 0;
	uint64_t wrong = launch ? VMX_ERROR_VMLAUNCH_NONCLEAR_VMCS : VMX_ERROR_VMRESUME_NONLAUNCHED_VMCS;

	v->launched = true;	/* the instructions return only when they fail */
	if (status == VMX_FAIL_VALID && vmread_checked(VM_INSTRUCTION_ERROR, &error) == VMX_OK &&
	    error == wrong)
		status = launch ? vmx_resume(v->gprs) : vmx_launch(v->gprs);
	return status;
}

/* The entry instruction fell through: explain, stop, and wait for a fix. */
static void entry_vmfail(struct vcpu *v, int status)
{
	char why[128];

	entry_failure_report_vmfail(v, status);
	vmx_describe_failure((enum vmx_status)status, why, sizeof(why));
	exit_stop(v, "VM entry failed: %s", why);
	v->entry_failed = true;
	vcpu_guest_stopped(v);
}

void vcpu_run(struct vcpu *v)
{
	for (;;)
		entry_vmfail(v, enter(v));
}

void vmresume_failed(int status, struct vcpu *v)
{
	uint64_t error = 0;

	if (status == VMX_FAIL_VALID && vmread_checked(VM_INSTRUCTION_ERROR, &error) == VMX_OK &&
	    error == VMX_ERROR_VMRESUME_NONLAUNCHED_VMCS)
		v->launched = false;	/* VMCLEARed while parked: launch it */
	else
		entry_vmfail(v, status);
	vcpu_run(v);
}

void vcpu_guest_stopped(struct vcpu *v)
{
	struct target_stop why = { .kind = STOP_GUEST_DEAD };

	v->stopped = true;
	log_error("guest stopped: %s", v->stop_reason);
	log_error("guest stopped at RIP 0x%llx after %llu VM exits",
		  (unsigned long long)vmread(GUEST_RIP), (unsigned long long)v->exits);
	exit_counts_log(v);
	ksnprintf(why.reason, sizeof(why.reason), "%s", v->stop_reason);
	/* Serve one gdb after another; with no debugger to wait for,
	 * debugger_stop() stops the machine itself. */
	while (v->stopped)
		debugger_stop(v, &why);
}
