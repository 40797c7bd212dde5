/* exit_msr.c — RDMSR/WRMSR of the MSRs the MSR bitmap guards (SDM Vol. 3C
 * §25.6.9): IA32_FEATURE_CONTROL and the VMX capability MSRs.  The guest sees
 * a CPU without VMX: IA32_FEATURE_CONTROL locked with VMX disabled, the
 * capability MSRs absent (#GP, as on a CPU whose CPUID.1:ECX.VMX is 0). */
#include "exits.h"
#include "platform/cpu.h"
#include "platform/log.h"
#include "vmx_msr.h"

static bool is_vmx_capability_msr(uint32_t msr)
{
	return msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_EXIT_CTLS2;
}

enum exit_action exit_msr_read(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint32_t msr = (uint32_t)g->rcx;
	uint64_t value;

	if (msr == MSR_IA32_FEATURE_CONTROL) {
		value = (rdmsr(msr) | FEATURE_CONTROL_LOCKED) &
			~(FEATURE_CONTROL_VMX_INSIDE_SMX | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	} else if (is_vmx_capability_msr(msr)) {
		log_info("guest: RDMSR 0x%x (%s) refused with #GP: VMX is hidden", msr, vmx_msr_name(msr));
		inject_gp(v);
		return EXIT_RESUME;
	} else {
		log_warn("guest: RDMSR 0x%x exited but is not guarded; #GP", msr);
		inject_gp(v);
		return EXIT_RESUME;
	}
	g->rax = (uint32_t)value;
	g->rdx = value >> 32;
	return EXIT_ADVANCE;
}

enum exit_action exit_msr_write(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint32_t msr = (uint32_t)g->rcx;
	uint64_t value = (g->rdx << 32) | (uint32_t)g->rax;

	/* Locked IA32_FEATURE_CONTROL and absent MSRs both #GP on write. */
	log_info("guest: WRMSR 0x%x <- 0x%llx refused with #GP (%s)", msr, (unsigned long long)value,
		 msr == MSR_IA32_FEATURE_CONTROL ? "IA32_FEATURE_CONTROL is locked" : "VMX is hidden");
	inject_gp(v);
	return EXIT_RESUME;
}
