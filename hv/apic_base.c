/* apic_base.c — IA32_APIC_BASE write rules and the xAPIC page. */
#include "apic_base.h"

bool apic_base_write_valid(uint64_t old, uint64_t new, unsigned maxphyaddr, bool x2apic_cpu)
{
	uint64_t reserved = 0xffull | (1ull << 9);
	if (maxphyaddr < 64)
		reserved |= ~0ull << maxphyaddr;
	if (new & reserved)
		return false;
	if ((new & APIC_BASE_EXTD) && !x2apic_cpu)
		return false;
	bool was_x2 = (old & APIC_BASE_EN) && (old & APIC_BASE_EXTD);
	bool was_off = !(old & APIC_BASE_EN);
	bool en = new & APIC_BASE_EN, extd = new & APIC_BASE_EXTD;
	if (extd && !en)
		return false;		/* "invalid" state */
	if (was_x2 && en && !extd)
		return false;		/* x2APIC -> xAPIC: disable first */
	if (was_off && extd)
		return false;		/* disabled -> x2APIC: through xAPIC */
	return true;
}

uint64_t apic_base_xapic_page(uint64_t base)
{
	if (!(base & APIC_BASE_EN) || (base & APIC_BASE_EXTD))
		return 0;
	return base & APIC_BASE_PAGE_MASK;
}
