/* pmm.c — a bitmap page allocator with a next-fit hint. */
#include "pmm.h"

#include "errno.h"
#include "kstring.h"

#define LOW_RESERVED (1ull << 20)	/* real-mode IVT, BIOS data, EBDA, ROMs */

static bool test_bit(const struct pmm *p, uint64_t i) { return p->bitmap[i / 64] >> (i % 64) & 1; }
static void set_bit(struct pmm *p, uint64_t i) { p->bitmap[i / 64] |= 1ull << (i % 64); }
static void clear_bit(struct pmm *p, uint64_t i) { p->bitmap[i / 64] &= ~(1ull << (i % 64)); }

void pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t npages)
{
	*p = (struct pmm){ .bitmap = bitmap, .npages = npages };
	memset(bitmap, 0xff, (npages + 63) / 64 * 8);
}

static uint64_t clamp_page(const struct pmm *p, uint64_t page)
{
	return page < p->npages ? page : p->npages;
}

void pmm_mark_free(struct pmm *p, uint64_t base, uint64_t len)
{
	if (base > UINT64_MAX - PAGE_SIZE)
		return;
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	uint64_t first = clamp_page(p, (base + PAGE_SIZE - 1) >> PAGE_SHIFT);
	uint64_t last = clamp_page(p, end >> PAGE_SHIFT);
	for (uint64_t i = first; i < last; i++) {
		if (test_bit(p, i)) {
			clear_bit(p, i);
			p->free_pages++;
		}
	}
}

void pmm_mark_used(struct pmm *p, uint64_t base, uint64_t len)
{
	if (len == 0)
		return;
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	uint64_t first = clamp_page(p, base >> PAGE_SHIFT);
	uint64_t last = clamp_page(p, (end >> PAGE_SHIFT) + ((end & (PAGE_SIZE - 1)) != 0));
	for (uint64_t i = first; i < last; i++) {
		if (!test_bit(p, i)) {
			set_bit(p, i);
			p->free_pages--;
		}
	}
}

bool pmm_is_free(const struct pmm *p, uint64_t addr)
{
	uint64_t i = addr >> PAGE_SHIFT;
	return i < p->npages && !test_bit(p, i);
}

uint64_t pmm_alloc(struct pmm *p)
{
	return pmm_alloc_contig(p, 1, PAGE_SIZE);
}

uint64_t pmm_alloc_contig(struct pmm *p, uint64_t count, uint64_t align)
{
	uint64_t step = align >> PAGE_SHIFT;
	if (count == 0 || count > p->free_pages || step == 0 || (step & (step - 1)))
		return 0;

	/* Two passes: from the hint to the end, then from the start. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t start = pass == 0 ? p->hint : 0;
		start = (start + step - 1) & ~(step - 1);
		for (uint64_t i = start; i + count <= p->npages; i += step) {
			uint64_t run = 0;
			while (run < count && !test_bit(p, i + run))
				run++;
			if (run < count)
				continue;
			for (uint64_t j = 0; j < count; j++)
				set_bit(p, i + j);
			p->free_pages -= count;
			p->hint = i + count;
			return i << PAGE_SHIFT;
		}
	}
	return 0;
}

void pmm_free(struct pmm *p, uint64_t addr, uint64_t count)
{
	uint64_t first = addr >> PAGE_SHIFT;
	for (uint64_t i = first; i < first + count && i < p->npages; i++) {
		if (i << PAGE_SHIFT < LOW_RESERVED || !test_bit(p, i))
			continue;	/* double free or a page we never hand out */
		clear_bit(p, i);
		p->free_pages++;
	}
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

/* The first address >= `from` inside [r0, r1) where `size` bytes fit clear
 * of every reserved range, or 0. */
static uint64_t fit_in_region(uint64_t r0, uint64_t r1, uint64_t from, uint64_t size,
			      const struct phys_range *res, unsigned nres)
{
	uint64_t a = from > r0 ? from : r0;
	a = (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	while (a < r1 && r1 - a >= size) {
		bool moved = false;
		for (unsigned i = 0; i < nres; i++) {
			if (overlaps(a, a + size, res[i].start, res[i].end)) {
				a = (res[i].end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
				moved = true;
			}
		}
		if (!moved)
			return a;
	}
	return 0;
}

static uint64_t place_bitmap(const struct boot_info *bi, const struct phys_range *reserved,
			     unsigned nreserved, uint64_t limit, uint64_t from, uint64_t size)
{
	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct mem_region *r = &bi->regions[i];
		uint64_t end = r->base + r->len < limit ? r->base + r->len : limit;
		if (r->type != MEM_USABLE || end <= from)
			continue;
		uint64_t at = fit_in_region(r->base, end, from, size, reserved, nreserved);
		/* An overlapping non-usable region disqualifies the spot too. */
		for (unsigned j = 0; at && j < bi->nregions; j++) {
			const struct mem_region *o = &bi->regions[j];
			if (o->type != MEM_USABLE && overlaps(at, at + size, o->base, o->base + o->len))
				at = 0;
		}
		if (at)
			return at;
	}
	return 0;
}

int pmm_plan(const struct boot_info *bi, const struct phys_range *reserved, unsigned nreserved,
	     uint64_t limit, uint64_t prefer, uint64_t *npages, uint64_t *bitmap_addr)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct mem_region *r = &bi->regions[i];
		uint64_t end = r->base + r->len;
		if (r->type == MEM_USABLE && end > LOW_RESERVED)
			top = end > top ? end : top;
	}
	top = top < limit ? top : limit;
	if (top <= LOW_RESERVED)
		return -ENOMEM;

	uint64_t pages = top >> PAGE_SHIFT;
	uint64_t size = (pages + 63) / 64 * 8;
	uint64_t at = prefer > LOW_RESERVED ? place_bitmap(bi, reserved, nreserved, limit, prefer, size) : 0;
	if (!at)
		at = place_bitmap(bi, reserved, nreserved, limit, LOW_RESERVED, size);
	if (!at)
		return -ENOMEM;
	*npages = pages;
	*bitmap_addr = at;
	return 0;
}

void pmm_populate(struct pmm *p, const struct boot_info *bi, const struct phys_range *reserved,
		  unsigned nreserved)
{
	for (unsigned i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == MEM_USABLE)
			pmm_mark_free(p, bi->regions[i].base, bi->regions[i].len);
	for (unsigned i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type != MEM_USABLE)
			pmm_mark_used(p, bi->regions[i].base, bi->regions[i].len);
	pmm_mark_used(p, 0, LOW_RESERVED);
	for (unsigned i = 0; i < nreserved; i++)
		pmm_mark_used(p, reserved[i].start, reserved[i].end - reserved[i].start);
	pmm_mark_used(p, (uint64_t)(uintptr_t)p->bitmap, (p->npages + 63) / 64 * 8);
	p->hint = LOW_RESERVED >> PAGE_SHIFT;
}
