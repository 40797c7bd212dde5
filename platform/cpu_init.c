/* cpu_init.c — control-register bits the hypervisor itself needs, set once
 * at boot before the VMCS copies CR0/CR4 into its host-state area.
 *
 * The hypervisor proper never touches x87/SSE (-mgeneral-regs-only), but
 * Lua and musl do, after saving the guest's state: CR0.MP=1, EM=0, TS=0 and
 * CR4.OSFXSR/OSXMMEXCPT (SDM Vol. 3A §2.5, §13.1); CR4.OSXSAVE where the
 * CPU has XSAVE, so XSAVE/XRSTOR and the XSETBV exit handler work in root
 * mode (SDM Vol. 1 §13.3).  And the caches, below. */
#include "cpu_init.h"

#include "cpu.h"

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define CPUID_1_ECX_XSAVE (1u << 26)

void cpu_init(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	/* Caches on: VM entry leaves CR0.CD/NW as they are (SDM Vol. 3C
	 * §27.3.2.1), so a guest would inherit the firmware's cache-disabled
	 * CR0 (the Bochs BIOS leaves CD and NW set). */
	write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS | CR0_CD | CR0_NW));
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | ((c & CPUID_1_ECX_XSAVE) ? CR4_OSXSAVE : 0));
}
