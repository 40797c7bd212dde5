/* guest_cpuid.h — CPUID as the guest sees it: the real CPU with VMX hidden
 * (no nested virtualization, DESIGN.md) and machine checks hidden (MCE,
 * MCA: a machine check in the guest is a VM exit, the hypervisor's
 * business; and Bochs advertises both without implementing IA32_MCG_STATUS,
 * whose #GP Linux treats as fatal).  Inline: the CPUID exit is the hot path
 * `make bench` measures. */
#ifndef HV_GUEST_CPUID_H
#define HV_GUEST_CPUID_H

#include <stdint.h>

#include "platform/cpu.h"

#define CPUID_1_EDX_MCE (1u << 7)
#define CPUID_1_EDX_MCA (1u << 14)

static inline void guest_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	cpuid(leaf, subleaf, &out[0], &out[1], &out[2], &out[3]);
	if (leaf == 1) {
		out[2] &= ~CPUID_1_ECX_VMX;
		out[3] &= ~(CPUID_1_EDX_MCE | CPUID_1_EDX_MCA);
	}
}

#endif
