/* attack_vmx_instructions.c — VMXON, VMCALL, VMREAD from the guest.
 * Bare, with CR4.VMXE = 0, VMXON raises #UD (SDM Vol. 2C, VMXON) and
 * VMCALL/VMREAD outside VMX operation raise #UD too.  In VMX non-root they
 * exit unconditionally (SDM Vol. 3C, "Instructions That Cause VM Exits
 * Unconditionally"): vmxdbg offers no nested VMX, so it must answer #UD. */
#include "attacks.h"
#include "probe.h"
#include "say.h"
#include "x86.h"

#define VMCS_GUEST_RIP	0x681e	/* a field any VMCS has (SDM Vol. 3D, Appendix B) */

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));

static uint32_t flags_after;

static void report(const char *attempt, int vector, const char *detail_if_no_fault, uint32_t value)
{
	if (vector != PROBE_NONE)
		say(attempt, "%s", fault_text(vector));
	else
		say(attempt, "no fault (EFLAGS.CF=%u ZF=%u, %s 0x%x)", flags_after & EFLAGS_CF ? 1 : 0,
		    flags_after & EFLAGS_ZF ? 1 : 0, detail_if_no_fault, value);
}

static void try_vmxon(void)
{
	/* The operand is a 64-bit physical address in memory. */
	static uint64_t region_pa;
	region_pa = (uint32_t)vmxon_region;
	probe_begin();
	__asm__ volatile(PROBE_ASM("vmxon %1") "pushfl; popl %0"
			 : "=r"(flags_after) : "m"(region_pa) : "cc", "memory");
	report("vmxon", probe_end(), "region at", (uint32_t)vmxon_region);
}

static void try_vmcall(void)
{
	uint32_t eax = 0x686f7374;	/* "host": shows whether anything answered */
	probe_begin();
	__asm__ volatile(PROBE_ASM("vmcall") "pushfl; popl %1"
			 : "+a"(eax), "=r"(flags_after) : : "ebx", "ecx", "edx", "cc", "memory");
	report("vmcall", probe_end(), "EAX now", eax);
}

static void try_vmread(void)
{
	uint32_t field = VMCS_GUEST_RIP, value = 0;
	probe_begin();
	__asm__ volatile(PROBE_ASM("vmread %2, %0") "pushfl; popl %1"
			 : "+r"(value), "=r"(flags_after) : "r"(field) : "cc", "memory");
	report("vmread", probe_end(), "GUEST_RIP reads", value);
}

void attack_vmx_instructions(void)
{
	try_vmxon();
	try_vmcall();
	try_vmread();
}
