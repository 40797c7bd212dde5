/* lapic.c — NMI IPIs between the hypervisor's processors. */
#include "lapic.h"

#include "cpu.h"
#include "percpu.h"
#include "trap.h"

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ADDRESS 0xfffff000ull
#define MSR_X2APIC_ICR 0x830
#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310
#define ICR_PENDING (1u << 12)
#define ICR_NMI 0x00004400u	/* delivery mode NMI, level assert, physical */

/* The xAPIC page is identity-mapped (boot.S maps 4 GiB). */
static volatile uint32_t *xapic_reg(uint64_t base, uint32_t offset)
{
	return (volatile uint32_t *)(uintptr_t)((base & APIC_BASE_ADDRESS) + offset);
}

void lapic_send_ipi(uint32_t dest, uint32_t low)
{
	/* What the IPI announces must be visible first: WRMSR to the x2APIC
	 * ICR is not serializing (SDM Vol. 3A §12.12.3). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_X2APIC) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | low);	/* one write (§12.12.9) */
		return;
	}
	/* xAPIC: the destination first, then the low word, which sends (§12.6.1). */
	*xapic_reg(base, XAPIC_ICR_HIGH) = dest << 24;
	*xapic_reg(base, XAPIC_ICR_LOW) = low;
}

void lapic_send_nmi(uint32_t apic_id)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	/* A guest IPI still in flight on this xAPIC goes first (bounded wait). */
	if (!(base & APIC_BASE_X2APIC))
		for (unsigned i = 0; i < 100000 && (*xapic_reg(base, XAPIC_ICR_LOW) & ICR_PENDING); i++)
			pause();
	lapic_send_ipi(apic_id, ICR_NMI);
}

extern const uint8_t cpu_wait_nmi_window[], cpu_wait_nmi_hlt[], cpu_wait_nmi_done[];
void cpu_wait_nmi_check(uint64_t seen, volatile uint64_t *count);

uint64_t cpu_nmi_count(void)
{
	return __atomic_load_n(&this_cpu()->nmis, __ATOMIC_ACQUIRE);
}

void cpu_wait_nmi_since(uint64_t seen)
{
	cpu_wait_nmi_check(seen, &this_cpu()->nmis);
}

void cpu_wait_nmi_fixup(struct trap_frame *f)
{
	__atomic_add_fetch(&this_cpu()->nmis, 1, __ATOMIC_SEQ_CST);
	if (f->rip >= (uintptr_t)cpu_wait_nmi_window && f->rip <= (uintptr_t)cpu_wait_nmi_hlt)
		f->rip = (uintptr_t)cpu_wait_nmi_done;	/* the wait ends now */
}
