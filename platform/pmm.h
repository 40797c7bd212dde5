/* pmm.h — physical page allocator: one bit per 4 KiB page (1 = in use).
 * Pure bookkeeping over addresses: the host tests drive it with a heap
 * buffer for the bitmap and never touch the pages themselves. */
#ifndef PLATFORM_PMM_H
#define PLATFORM_PMM_H

#include <stdbool.h>
#include <stdint.h>

#include "bootinfo.h"

#define PAGE_SIZE 4096ull
#define PAGE_SHIFT 12

struct pmm {
	uint64_t *bitmap;
	uint64_t npages;	/* pages [0, npages) are tracked */
	uint64_t free_pages;
	uint64_t hint;		/* search starts here */
};

struct phys_range {
	uint64_t start, end;	/* [start, end) */
};

/* Every tracked page starts in use. */
void pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t npages);
/* Frees the whole pages inside [base, base+len). */
void pmm_mark_free(struct pmm *p, uint64_t base, uint64_t len);
/* Takes every page touching [base, base+len). */
void pmm_mark_used(struct pmm *p, uint64_t base, uint64_t len);
bool pmm_is_free(const struct pmm *p, uint64_t addr);
/* A physical page address, or 0 when memory is exhausted (page 0 is never
 * handed out: the low 1 MiB stays reserved). */
uint64_t pmm_alloc(struct pmm *p);
/* `count` contiguous pages aligned to `align` bytes (a power of two >= 4 KiB), or 0. */
uint64_t pmm_alloc_contig(struct pmm *p, uint64_t count, uint64_t align);
void pmm_free(struct pmm *p, uint64_t addr, uint64_t count);

/* Boot-time plan: how many pages to track (usable memory up to `limit`) and
 * where the bitmap can live (usable, above 1 MiB, clear of `reserved`; at or
 * above `prefer` when possible).  Returns 0 or -ENOMEM when no usable memory
 * above 1 MiB can hold it. */
int pmm_plan(const struct boot_info *bi, const struct phys_range *reserved, unsigned nreserved,
	     uint64_t limit, uint64_t prefer, uint64_t *npages, uint64_t *bitmap_addr);
/* Frees usable regions, then re-reserves everything not usable (overlaps:
 * reserved wins), the low 1 MiB, `reserved` and the bitmap itself. */
void pmm_populate(struct pmm *p, const struct boot_info *bi, const struct phys_range *reserved,
		  unsigned nreserved);

#endif
