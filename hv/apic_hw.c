/* apic_hw.c — the real local APIC, as apic_icr.c forwards IPIs to it.  The
 * guest owns IA32_APIC_BASE (its writes pass through, exit_msr.c), so the
 * mode and base are read from it each time rather than cached at boot. */
#include "apic_base.h"
#include "apic_icr.h"
#include "platform/cpu.h"

#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310

/* The xAPIC page is identity-mapped by boot.S (4 GiB) and by EPT: its
 * guest-physical address is its physical and our virtual address. */
static volatile uint32_t *xapic_reg(uint64_t base, uint32_t offset)
{
	return (volatile uint32_t *)(uintptr_t)((base & APIC_BASE_PAGE_MASK) + offset);
}

/* SDM Vol. 3A §12.6.1: in xAPIC mode writing the low word sends; the
 * high word (the destination) goes first.  x2APIC: one WRMSR (§12.12.9). */
void apic_hw_send_ipi(uint32_t dest, uint32_t low)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_EXTD) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | low);
		return;
	}
	*xapic_reg(base, XAPIC_ICR_HIGH) = dest << 24;
	*xapic_reg(base, XAPIC_ICR_LOW) = low;
}

uint64_t apic_hw_now(void)
{
	return rdtsc();
}
