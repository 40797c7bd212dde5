/* exit_cpuid.c — CPUID always exits in VMX non-root (SDM Vol. 3C §27.1.2).
 * The guest sees the real CPU, minus VMX: no nested virtualization. */
#include "exits.h"
#include "guest_cpuid.h"
#include "vmx.h"

#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_7_ECX_OSPKE (1u << 4)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE (1ull << 22)

/* Two bits report CR4 rather than the CPU (SDM Vol. 2A CPUID): CPUID runs
 * here in root mode, where CR4 is the hypervisor's (OSXSAVE on, for the
 * guest FPU state Lua hooks need saved), so they are set from the guest's
 * CR4.  A guest that has not enabled XSAVE -- Linux turns it off when
 * XSAVE's sizes disagree -- must see OSXSAVE clear, or its C library
 * executes XGETBV and takes #UD. */
static void mirror_cr4(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	if (leaf == 1) {
		bool on = vmread(GUEST_CR4) & CR4_OSXSAVE;
		r[2] = (r[2] & ~CPUID_1_ECX_OSXSAVE) | (on ? CPUID_1_ECX_OSXSAVE : 0);
	} else if (leaf == 7 && subleaf == 0) {
		bool on = vmread(GUEST_CR4) & CR4_PKE;
		r[2] = (r[2] & ~CPUID_7_ECX_OSPKE) | (on ? CPUID_7_ECX_OSPKE : 0);
	}
}

enum exit_action exit_cpuid(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint32_t r[4];

	guest_cpuid((uint32_t)g->rax, (uint32_t)g->rcx, r);
	if ((uint32_t)g->rax == 1 || (uint32_t)g->rax == 7)
		mirror_cr4((uint32_t)g->rax, (uint32_t)g->rcx, r);
	g->rax = r[0];
	g->rbx = r[1];
	g->rcx = r[2];
	g->rdx = r[3];
	return EXIT_ADVANCE;
}
