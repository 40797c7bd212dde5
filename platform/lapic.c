/* lapic.c — NMI IPIs between the hypervisor's processors. */
#include "lapic.h"

#include "cpu.h"
#include "trap.h"

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ADDRESS 0xfffff000ull
#define MSR_X2APIC_ICR 0x830
#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310
#define ICR_PENDING (1u << 12)
#define ICR_NMI 0x00004400u	/* delivery mode NMI, level assert, physical */

void lapic_send_nmi(uint32_t apic_id)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_X2APIC) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)apic_id << 32 | ICR_NMI);
		return;
	}
	volatile uint32_t *hi = (volatile uint32_t *)(uintptr_t)((base & APIC_BASE_ADDRESS) + XAPIC_ICR_HIGH);
	volatile uint32_t *lo = (volatile uint32_t *)(uintptr_t)((base & APIC_BASE_ADDRESS) + XAPIC_ICR_LOW);
	/* A guest IPI still in flight on this APIC goes first (bounded wait). */
	for (unsigned i = 0; i < 100000 && (*lo & ICR_PENDING); i++)
		pause();
	*hi = apic_id << 24;
	*lo = ICR_NMI;
}

extern const uint8_t cpu_wait_nmi_hlt[];

void cpu_wait_nmi_fixup(struct trap_frame *f)
{
	if (f->rip == (uintptr_t)cpu_wait_nmi_hlt)
		f->rip++;	/* HLT is one byte: the wait ends now */
}
