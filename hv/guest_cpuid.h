/* guest_cpuid.h — CPUID as the guest sees it: the real CPU with VMX hidden
 * (no nested virtualization, docs/design.md) and machine checks hidden (MCE,
 * MCA: a machine check in the guest is a VM exit, the hypervisor's
 * business; and Bochs advertises both without implementing IA32_MCG_STATUS,
 * whose #GP Linux treats as fatal) and MONITOR/MWAIT hidden (as KVM does:
 * an idle guest should HLT, which exits, rather than MWAIT on a CPU it
 * shares; and Linux's intel_idle, which needs MWAIT, reads model-specific
 * C-state MSRs by CPU model -- 0xe2 MSR_PKG_CST_CONFIG_CONTROL -- that
 * Bochs lacks: "unchecked MSR access error: RDMSR from 0xe2").  And the
 * hypervisor-present bit (CPUID.1:ECX[31], the convention every hypervisor
 * and OS follow) set: the guest runs virtualized, so it should not load
 * microcode -- Linux's loader, seeing the bit, never reads
 * IA32_PLATFORM_ID (0x17), which Bochs lacks.  Inline: the CPUID exit is the hot path
 * `make bench` measures. */
#ifndef HV_GUEST_CPUID_H
#define HV_GUEST_CPUID_H

#include <stdint.h>

#include "platform/cpu.h"
#include "vmx.h"

/* Features whose MSRs this processor lacks (an emulator may advertise
 * both and implement neither): hidden, so the guest never touches an MSR
 * that is not there (guest_cpuid.c probes them once at start). */
extern uint32_t guest_cpuid_hidden_1_ecx, guest_cpuid_hidden_1_edx, guest_cpuid_hidden_6_ecx;
void guest_cpuid_init(void);

#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_MCE (1u << 7)
#define CPUID_1_EDX_MCA (1u << 14)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_7_ECX_OSPKE (1u << 4)
#define GUEST_CR4_OSXSAVE (1ull << 18)
#define GUEST_CR4_PKE (1ull << 22)

/* Two bits report CR4 rather than the CPU (SDM Vol. 2A CPUID): CPUID runs
 * in root mode, where CR4 is the hypervisor's (OSXSAVE on, for the guest FPU
 * state Lua hooks need saved), so they follow the guest's CR4.  A guest that
 * has not enabled XSAVE -- Linux turns it off when XSAVE's sizes disagree --
 * must see OSXSAVE clear, or its C library executes XGETBV and takes #UD. */
static inline uint32_t mirror_guest_cr4(uint32_t reg, uint32_t bit, uint64_t cr4_bit)
{
	return (reg & ~bit) | ((vmread(GUEST_CR4) & cr4_bit) ? bit : 0);
}

/* Valid in root mode with the guest's VMCS current (exit handlers, the
 * debug target API). */
static inline void guest_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	cpuid(leaf, subleaf, &out[0], &out[1], &out[2], &out[3]);
	if (leaf == 1) {
		out[2] &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_MONITOR | guest_cpuid_hidden_1_ecx);
		out[2] |= CPUID_1_ECX_HYPERVISOR;
		out[2] = mirror_guest_cr4(out[2], CPUID_1_ECX_OSXSAVE, GUEST_CR4_OSXSAVE);
		out[3] &= ~(CPUID_1_EDX_MCE | CPUID_1_EDX_MCA | guest_cpuid_hidden_1_edx);
	} else if (leaf == 7 && subleaf == 0) {
		out[2] = mirror_guest_cr4(out[2], CPUID_7_ECX_OSPKE, GUEST_CR4_PKE);
	} else if (leaf == 6) {
		out[2] &= ~guest_cpuid_hidden_6_ecx;
	}
}

#endif
