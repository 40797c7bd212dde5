/* ept_dirty_log.c — the written-page set, PML reading and the EPT leaf walk
 * behind dirty-page tracking (ept_dirty_log.h). */
#include "ept_dirty_log.h"

#include "platform/kstring.h"

#define PAGE_SHIFT_4K 12

void dirty_set_clear(struct dirty_set *s)
{
	memset(s->bits, 0, (s->npages + 63) / 64 * sizeof(uint64_t));
	s->outside = 0;
}

void dirty_set_add(struct dirty_set *s, uint64_t gpa)
{
	uint64_t page = gpa >> PAGE_SHIFT_4K;
	if (page < s->npages)
		s->bits[page / 64] |= 1ull << (page % 64);
	else
		s->outside++;
}

bool dirty_set_has(const struct dirty_set *s, uint64_t gpa)
{
	uint64_t page = gpa >> PAGE_SHIFT_4K;
	return page < s->npages && (s->bits[page / 64] >> (page % 64) & 1);
}

uint64_t dirty_set_next(const struct dirty_set *s, uint64_t gpa)
{
	for (uint64_t page = gpa >> PAGE_SHIFT_4K; page < s->npages;) {
		uint64_t word = s->bits[page / 64] >> (page % 64);
		if (word)
			return (page + (uint64_t)__builtin_ctzll(word)) << PAGE_SHIFT_4K;
		page = (page / 64 + 1) * 64;
	}
	return UINT64_MAX;
}

uint64_t dirty_set_count(const struct dirty_set *s)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < (s->npages + 63) / 64; i++)
		n += (uint64_t)__builtin_popcountll(s->bits[i]);
	return n;
}

unsigned pml_drain(uint64_t log[PML_ENTRIES], struct dirty_set *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < PML_ENTRIES; i++)
		if (log[i] != PML_EMPTY) {
			dirty_set_add(s, log[i]);
			log[i] = PML_EMPTY;
			n++;
		}
	return n;
}

/* An entry that maps something: rights, or a "---" leaf ept keeps
 * (EPT_ENTRY_MAPPED). */
static bool present(uint64_t entry)
{
	return (entry & EPT_RWX) || (entry & EPT_ENTRY_MAPPED);
}

/* Level 4 is the PML4; a level-1 entry, or a level 2/3 one with bit 7, is
 * a leaf (SDM Vol. 3C, Tables 29-1..29-6). */
static void walk(const struct ept *e, uint64_t *table, int level, uint64_t base, ept_leaf_fn fn, void *ctx)
{
	uint64_t span = 1ull << (PAGE_SHIFT_4K + 9 * (level - 1));
	for (unsigned i = 0; i < 512; i++) {
		uint64_t entry = table[i];
		if (!present(entry))
			continue;
		uint64_t gpa = base + i * span;
		if (level == 1 || (level < 4 && (entry & EPT_ENTRY_LARGE)))
			fn(ctx, gpa, span, &table[i]);
		else
			walk(e, e->ops.phys_to_virt(e->ops.ctx, entry & EPT_ENTRY_ADDR_MASK), level - 1, gpa, fn, ctx);
	}
}

void ept_leaves(const struct ept *e, ept_leaf_fn fn, void *ctx)
{
	walk(e, e->pml4, 4, 0, fn, ctx);
}

void ept_leaf_clear_ad(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
	(void)ctx;
	(void)gpa;
	(void)size;
	*entry &= ~(EPT_ENTRY_ACCESSED | EPT_ENTRY_DIRTY);
}

void ept_leaf_collect_dirty(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
	struct dirty_set *s = ctx;
	if (!(*entry & EPT_ENTRY_DIRTY))
		return;
	if (gpa >> PAGE_SHIFT_4K >= s->npages) {
		s->outside += size >> PAGE_SHIFT_4K;
		return;
	}
	for (uint64_t a = gpa; a < gpa + size; a += 1ull << PAGE_SHIFT_4K)
		dirty_set_add(s, a);
}
