/* attack_vmx_state.c — the switches that would let the guest use VMX:
 * CR4.VMXE (bit 13; reserved, so #GP, where VMX is absent — SDM Vol. 3A
 * §2.5), IA32_FEATURE_CONTROL (0x3a; a write once locked #GPs — SDM Vol.
 * 3C, "Enabling and Entering VMX Operation") and the VMX capability MSRs
 * (0x480; #GP where VMX is absent — SDM Vol. 3D §A.1). */
#include "attacks.h"
#include "probe.h"
#include "qemu_tcg.h"
#include "say.h"
#include "x86.h"

#define FEATURE_CONTROL_LOCK		(1u << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX	(1u << 2)

static void try_cr4_vmxe(void)
{
	if (running_under_qemu_tcg()) {
		/* QEMU 7.2's TCG re-executes a MOV to CR4 that sets an
		 * unsupported bit forever instead of raising #GP. */
		say("cr4.vmxe", "skipped (QEMU TCG hangs on it)");
		return;
	}
	uint32_t before = read_cr4();
	int fault = probe_write_cr4(before | CR4_VMXE);
	uint32_t after = read_cr4();
	if (fault != PROBE_NONE)
		say("cr4.vmxe", "%s(0x%x)", fault_text(fault), probe_result.error);
	else if (after & CR4_VMXE)
		say("cr4.vmxe", "accepted (CR4 reads 0x%08x)", after);
	else
		say("cr4.vmxe", "refused without a fault (CR4 reads 0x%08x)", after);
	write_cr4(before);
}

static void try_rdmsr(const char *attempt, uint32_t msr)
{
	uint64_t v;
	int fault = probe_rdmsr(msr, &v);
	if (fault != PROBE_NONE)
		say(attempt, "%s(0x%x)", fault_text(fault), probe_result.error);
	else
		say(attempt, "read 0x%llx", v);
}

/* Lock it with VMX allowed outside SMX: what a BIOS does to enable VMXON. */
static void try_enable_vmx_msr(void)
{
	uint64_t v = 0;
	probe_rdmsr(MSR_IA32_FEATURE_CONTROL, &v);
	uint64_t want = v | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	int fault = probe_wrmsr(MSR_IA32_FEATURE_CONTROL, want);
	if (fault != PROBE_NONE) {
		say("wrmsr 0x3a", "%s(0x%x)", fault_text(fault), probe_result.error);
		return;
	}
	uint64_t after = 0;
	int reread = probe_rdmsr(MSR_IA32_FEATURE_CONTROL, &after);
	if (reread != PROBE_NONE)
		say("wrmsr 0x3a", "no fault writing 0x%llx; reading back raised %s", want, fault_text(reread));
	else
		say("wrmsr 0x3a", "no fault writing 0x%llx (reads back 0x%llx)", want, after);
}

void attack_vmx_state(void)
{
	try_cr4_vmxe();
	try_rdmsr("rdmsr 0x3a", MSR_IA32_FEATURE_CONTROL);
	try_enable_vmx_msr();
	try_rdmsr("rdmsr 0x480", MSR_IA32_VMX_BASIC);
}
