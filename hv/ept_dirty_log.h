/* ept_dirty_log.h — the pure half of dirty-page tracking (ept_dirty.c):
 * the set of written guest pages, the page-modification log read into it,
 * and a walk over the EPT's leaves for their dirty flags.  Host-tested
 * (tests/unit/test_ept_dirty.c). */
#ifndef HV_EPT_DIRTY_LOG_H
#define HV_EPT_DIRTY_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "ept.h"

/* The PML page: 512 guest-physical addresses, logged from index 511 down
 * (SDM Vol. 3C §29.3.6).  Slots we have read hold PML_EMPTY, so a log can
 * be read without the VMCS's PML index (another vCPU's). */
#define PML_ENTRIES 512
#define PML_EMPTY UINT64_MAX

/* One bit per 4 KiB guest page below npages << 12; writes above it (MMIO
 * the guest's RAM does not reach) are counted, not kept. */
struct dirty_set {
	uint64_t *bits;
	uint64_t npages;
	uint64_t outside;
};

void dirty_set_clear(struct dirty_set *s);
/* Adds the page holding gpa: a PML entry is the address written, which
 * need not be page-aligned (Bochs 2.7 logs the full address). */
void dirty_set_add(struct dirty_set *s, uint64_t gpa);
bool dirty_set_has(const struct dirty_set *s, uint64_t gpa);
/* The first written page at or above gpa; UINT64_MAX when none. */
uint64_t dirty_set_next(const struct dirty_set *s, uint64_t gpa);
uint64_t dirty_set_count(const struct dirty_set *s);

/* Every logged entry of one PML page into s, each slot read left
 * PML_EMPTY; how many there were. */
unsigned pml_drain(uint64_t log[PML_ENTRIES], struct dirty_set *s);

/* Every present leaf of the EPT, with its guest-physical base and size:
 * fn may change the entry (clear its A/D flags). */
typedef void (*ept_leaf_fn)(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry);
void ept_leaves(const struct ept *e, ept_leaf_fn fn, void *ctx);

/* Leaf visitors: clear A and D (a new interval); add the pages of each
 * dirty leaf to a struct dirty_set (ctx). */
void ept_leaf_clear_ad(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry);
void ept_leaf_collect_dirty(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry);

#endif
