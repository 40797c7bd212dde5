/* vmx_caps.c — reads the VMX capability MSRs, each only when the CPU says it
 * exists: with ignore_bad_msrs=0 (Bochs) or on hardware, any other RDMSR #GPs. */
#include "vmx_caps.h"

#include "platform/cpu.h"
#include "platform/log.h"

static void read_cap(struct vmx_caps_raw *caps, uint32_t have, uint64_t *dst, uint32_t msr)
{
	*dst = rdmsr(msr);
	caps->have |= have;
}

static uint32_t allowed1(uint64_t cap)
{
	return (uint32_t)(cap >> 32);
}

bool vmx_caps_read(struct vmx_caps_raw *caps)
{
	uint32_t eax, ebx, edx;

	*caps = (struct vmx_caps_raw){ 0 };
	cpuid(1, 0, &eax, &ebx, &caps->cpuid1_ecx, &edx);
	/* The VMX MSRs exist only when CPUID.1:ECX.VMX = 1 (SDM Vol. 3D, A.1). */
	if (!(caps->cpuid1_ecx & CPUID_1_ECX_VMX))
		return false;

	read_cap(caps, VMX_HAVE_FEATURE_CONTROL, &caps->feature_control, MSR_IA32_FEATURE_CONTROL);
	read_cap(caps, VMX_HAVE_BASIC, &caps->basic, MSR_IA32_VMX_BASIC);
	read_cap(caps, VMX_HAVE_PINBASED, &caps->pinbased, MSR_IA32_VMX_PINBASED_CTLS);
	read_cap(caps, VMX_HAVE_PROCBASED, &caps->procbased, MSR_IA32_VMX_PROCBASED_CTLS);
	read_cap(caps, VMX_HAVE_EXIT, &caps->exit, MSR_IA32_VMX_EXIT_CTLS);
	read_cap(caps, VMX_HAVE_ENTRY, &caps->entry, MSR_IA32_VMX_ENTRY_CTLS);
	read_cap(caps, VMX_HAVE_MISC, &caps->misc, MSR_IA32_VMX_MISC);
	caps->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	caps->have |= VMX_HAVE_CR_FIXED;
	read_cap(caps, VMX_HAVE_VMCS_ENUM, &caps->vmcs_enum, MSR_IA32_VMX_VMCS_ENUM);

	/* TRUE controls: A.1 (IA32_VMX_BASIC[55]). */
	if (caps->basic & VMX_BASIC_TRUE_CTLS) {
		read_cap(caps, VMX_HAVE_TRUE_PINBASED, &caps->true_pinbased, MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		read_cap(caps, VMX_HAVE_TRUE_PROCBASED, &caps->true_procbased, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		read_cap(caps, VMX_HAVE_TRUE_EXIT, &caps->true_exit, MSR_IA32_VMX_TRUE_EXIT_CTLS);
		read_cap(caps, VMX_HAVE_TRUE_ENTRY, &caps->true_entry, MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	/* Secondary, tertiary and secondary-exit MSRs: A.3.3, A.3.4, A.4.2. */
	if (allowed1(caps->procbased) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS)
		read_cap(caps, VMX_HAVE_PROCBASED2, &caps->procbased2, MSR_IA32_VMX_PROCBASED_CTLS2);
	if (allowed1(caps->procbased) & VMX_PROC_ACTIVATE_TERTIARY_CONTROLS)
		read_cap(caps, VMX_HAVE_PROCBASED3, &caps->procbased3, MSR_IA32_VMX_PROCBASED_CTLS3);
	if (allowed1(caps->exit) & VMX_EXIT_ACTIVATE_SECONDARY_CONTROLS)
		read_cap(caps, VMX_HAVE_EXIT2, &caps->exit2, MSR_IA32_VMX_EXIT_CTLS2);

	/* EPT/VPID capabilities: A.10; VM functions: A.11. */
	uint32_t secondary = (caps->have & VMX_HAVE_PROCBASED2) ? allowed1(caps->procbased2) : 0;
	if (secondary & (VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID))
		read_cap(caps, VMX_HAVE_EPT_VPID_CAP, &caps->ept_vpid_cap, MSR_IA32_VMX_EPT_VPID_CAP);
	if (secondary & VMX_PROC2_ENABLE_VM_FUNCTIONS)
		read_cap(caps, VMX_HAVE_VMFUNC, &caps->vmfunc, MSR_IA32_VMX_VMFUNC);
	return true;
}

static void log_line(void *ctx, const char *line)
{
	log_msg(*(const enum log_level *)ctx, "vmx: %s", line);
}

void vmx_caps_log(const struct vmx_caps_raw *caps, enum log_level level)
{
	vmx_caps_report(caps, log_line, &level);
}
