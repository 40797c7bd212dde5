/* Dirty-page tracking's pure half (hv/ept_dirty_log.c): the written-page
 * set, the PML page read into it (unaligned addresses as Bochs logs them,
 * empty slots, addresses above RAM), and the EPT leaf walk that clears
 * A/D flags and collects dirty leaves, 4 KiB and 2 MiB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/ept_dirty_log.h"

#define MiB (1ull << 20)

/* Table pages whose "physical" address is their pointer. */
static void *alloc_page(void *ctx, uint64_t *phys)
{
	(void)ctx;
	void *p = aligned_alloc(4096, 4096);
	*phys = (uintptr_t)p;
	return p;
}

static void free_page(void *ctx, void *page, uint64_t phys)
{
	(void)ctx;
	(void)phys;
	free(page);
}

static void *phys_to_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)(uintptr_t)phys;
}

static const struct ept_ops ops = { NULL, alloc_page, free_page, phys_to_virt };
static uint64_t bits[(64 * MiB / 4096) / 64];
static struct dirty_set set = { bits, 64 * MiB / 4096, 0 };

static int setup(void **state)
{
	(void)state;
	dirty_set_clear(&set);
	return 0;
}

static void test_the_set_keeps_pages_and_counts_what_lies_above(void **state)
{
	(void)state;
	dirty_set_add(&set, 0x5123);
	dirty_set_add(&set, 0x5fff);
	dirty_set_add(&set, 0x3ff000);
	dirty_set_add(&set, 64 * MiB);
	assert_true(dirty_set_has(&set, 0x5000));
	assert_false(dirty_set_has(&set, 0x6000));
	assert_int_equal(dirty_set_count(&set), 2);
	assert_int_equal(set.outside, 1);
	assert_int_equal(dirty_set_next(&set, 0), 0x5000);
	assert_int_equal(dirty_set_next(&set, 0x6000), 0x3ff000);
	assert_true(dirty_set_next(&set, 0x400000) == UINT64_MAX);
}

static void test_a_pml_page_is_read_once_with_its_addresses_masked(void **state)
{
	(void)state;
	uint64_t log[PML_ENTRIES];
	memset(log, 0xff, sizeof(log));
	log[511] = 0x113123;	/* the first logged: index 511 (SDM §29.3.6) */
	log[510] = 0x116123;
	log[509] = 0x113000;	/* the same page again */
	assert_int_equal(pml_drain(log, &set), 3);
	assert_int_equal(dirty_set_count(&set), 2);
	assert_true(dirty_set_has(&set, 0x116000));
	for (unsigned i = 0; i < PML_ENTRIES; i++)
		assert_true(log[i] == PML_EMPTY);
	assert_int_equal(pml_drain(log, &set), 0);
}

static void test_the_leaf_walk_clears_and_collects_dirty_flags(void **state)
{
	(void)state;
	struct ept e;
	assert_int_equal(ept_init(&e, &ops, true, false), 0);
	assert_int_equal(ept_map(&e, 0, 0, 4 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 0x3000, 0x1000, EPT_R), 0);	/* splits the first 2 MiB */
	/* What the CPU would do: A and D on the 4 KiB leaf of 0x7000 and on
	 * the 2 MiB leaf at 2 MiB; A only on 0x8000. */
	uint64_t *pdpt = phys_to_virt(NULL, e.pml4[0] & EPT_ENTRY_ADDR_MASK);
	uint64_t *pd = phys_to_virt(NULL, pdpt[0] & EPT_ENTRY_ADDR_MASK);
	uint64_t *pt = phys_to_virt(NULL, pd[0] & EPT_ENTRY_ADDR_MASK);
	pt[7] |= EPT_ENTRY_ACCESSED | EPT_ENTRY_DIRTY;
	pt[8] |= EPT_ENTRY_ACCESSED;
	pd[1] |= EPT_ENTRY_ACCESSED | EPT_ENTRY_DIRTY;
	ept_leaves(&e, ept_leaf_collect_dirty, &set);
	assert_int_equal(dirty_set_count(&set), 1 + 512);
	assert_true(dirty_set_has(&set, 0x7000));
	assert_false(dirty_set_has(&set, 0x8000));
	assert_true(dirty_set_has(&set, 2 * MiB) && dirty_set_has(&set, 4 * MiB - 4096));
	ept_leaves(&e, ept_leaf_clear_ad, NULL);
	assert_int_equal(pt[7] & (EPT_ENTRY_ACCESSED | EPT_ENTRY_DIRTY), 0);
	assert_int_equal(pd[1] & (EPT_ENTRY_ACCESSED | EPT_ENTRY_DIRTY), 0);
	assert_int_equal(pt[3] & EPT_RWX, EPT_R);	/* rights untouched */
	dirty_set_clear(&set);
	ept_leaves(&e, ept_leaf_collect_dirty, &set);
	assert_int_equal(dirty_set_count(&set), 0);
	ept_destroy(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_the_set_keeps_pages_and_counts_what_lies_above, setup),
		cmocka_unit_test_setup(test_a_pml_page_is_read_once_with_its_addresses_masked, setup),
		cmocka_unit_test_setup(test_the_leaf_walk_clears_and_collects_dirty_flags, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
