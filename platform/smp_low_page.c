/* smp_low_page.c — a free page below 640 KiB for the AP trampoline. */
#include "smp_low_page.h"

#include <stdbool.h>

#include "pmm.h"

#define LOW_MEMORY_END 0xa0000ull

static bool overlaps(uint64_t a, uint64_t len, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + len;
}

static bool usable(const struct boot_info *bi, uint64_t p)
{
	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct mem_region *r = &bi->regions[i];
		if (r->type == MEM_USABLE && p >= r->base && p + PAGE_SIZE <= r->base + r->len)
			return true;
	}
	return false;
}

static bool busy(const struct boot_info *bi, uint64_t p)
{
	if (overlaps(p, PAGE_SIZE, bi->info_addr, bi->info_len))
		return true;
	for (unsigned i = 0; i < bi->nmodules; i++)
		if (overlaps(p, PAGE_SIZE, bi->modules[i].start, bi->modules[i].end - bi->modules[i].start))
			return true;
	return false;
}

uint64_t smp_low_page(const struct boot_info *bi)
{
	for (uint64_t p = LOW_MEMORY_END - PAGE_SIZE; p >= PAGE_SIZE; p -= PAGE_SIZE)
		if (usable(bi, p) && !busy(bi, p))
			return p;
	return 0;
}
