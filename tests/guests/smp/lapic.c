/* lapic.c — the local APIC's few registers this guest needs.  Registers are
 * named by their xAPIC offset; in x2APIC mode register offset X is MSR
 * 0x800 + X/16 (SDM Vol. 3A §11.12.1.2, Table 11-6). */
#include "lapic.h"
#include "x86.h"

#define APIC_BASE_EXTD		(1u << 10)	/* x2APIC mode */
#define APIC_BASE_EN		(1u << 11)
#define APIC_BASE_ADDR_MASK	0xfffff000u
#define XAPIC_MMIO		0xfee00000u

#define REG_ID		0x020
#define REG_TPR		0x080
#define REG_EOI		0x0b0
#define REG_SVR		0x0f0
#define REG_ICR_LOW	0x300
#define REG_ICR_HIGH	0x310
#define X2APIC_MSR(reg)	(0x800u + ((reg) >> 4))

#define SVR_APIC_ENABLE		(1u << 8)
#define ICR_DELIVERY_PENDING	(1u << 12)
#define ICR_PENDING_SPINS	1000000
#define CPUID_1_ECX_X2APIC	(1u << 21)

enum lapic_mode lapic_mode;

static volatile uint32_t *mmio(uint32_t reg)
{
	return (volatile uint32_t *)(XAPIC_MMIO + reg);
}

static uint32_t lapic_read(uint32_t reg)
{
	if (lapic_mode == LAPIC_X2APIC)
		return (uint32_t)rdmsr(X2APIC_MSR(reg));
	return *mmio(reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (lapic_mode == LAPIC_X2APIC)
		wrmsr(X2APIC_MSR(reg), v);
	else
		*mmio(reg) = v;
}

bool lapic_has_x2apic(void)
{
	return cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC;
}

int lapic_enable(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	uint64_t want = base | APIC_BASE_EN;
	/* xAPIC to x2APIC is a legal transition; the reverse needs a disable
	 * first (§11.12.5, Figure 11-27), and nobody here asks for it. */
	if (lapic_mode == LAPIC_X2APIC)
		want |= APIC_BASE_EXTD;
	else if ((base & APIC_BASE_ADDR_MASK) != XAPIC_MMIO)
		return -1;
	if (want != base)
		wrmsr(MSR_IA32_APIC_BASE, want);
	lapic_write(REG_TPR, 0);
	lapic_write(REG_SVR, SVR_APIC_ENABLE | LAPIC_SPURIOUS_VECTOR);
	return 0;
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(REG_ID);
	return lapic_mode == LAPIC_X2APIC ? id : id >> 24;	/* §11.4.6, §11.12.5.1 */
}

void lapic_send(uint32_t dest_apic_id, uint32_t icr_low)
{
	if (lapic_mode == LAPIC_X2APIC) {
		wrmsr(X2APIC_MSR(REG_ICR_LOW), ((uint64_t)dest_apic_id << 32) | icr_low);
		return;
	}
	/* The write to the low word sends (§11.6.1): the destination goes first. */
	*mmio(REG_ICR_HIGH) = dest_apic_id << 24;
	*mmio(REG_ICR_LOW) = icr_low;
	for (int i = 0; i < ICR_PENDING_SPINS && (*mmio(REG_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
		__asm__ volatile("pause");
}

void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}
