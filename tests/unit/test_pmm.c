/* Physical page allocator and its boot-time plan over memory maps,
 * including maps that overlap, lie, or have nothing usable above 1 MiB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "platform/pmm.h"

#define MiB (1ull << 20)

static struct boot_info bi;

static void set_map(const struct mem_region *r, unsigned n)
{
	memset(&bi, 0, sizeof(bi));
	memcpy(bi.regions, r, n * sizeof(*r));
	bi.nregions = n;
}

/* Plan and populate as memory_init() does, with a host bitmap. */
static uint64_t *setup(struct pmm *p, const struct phys_range *res, unsigned nres)
{
	uint64_t npages, at;
	assert_int_equal(pmm_plan(&bi, res, nres, 4096 * MiB, 0, &npages, &at), 0);
	uint64_t *bitmap = malloc((npages + 63) / 64 * 8);
	pmm_init(p, bitmap, npages);
	pmm_populate(p, &bi, res, nres);
	pmm_mark_used(p, at, (npages + 63) / 64 * 8);	/* what the kernel's own bitmap takes */
	return bitmap;
}

static const struct mem_region simple_map[] = {
	{ 0, 0x9fc00, MEM_USABLE },
	{ 0x100000, 63 * MiB, MEM_USABLE },
};

static void test_the_low_megabyte_and_reserved_ranges_are_never_handed_out(void **state)
{
	(void)state;
	struct pmm p;
	const struct phys_range res[] = { { 8 * MiB, 10 * MiB } };
	set_map(simple_map, 2);
	uint64_t *bm = setup(&p, res, 1);
	uint64_t n = 0, a;
	while ((a = pmm_alloc(&p))) {
		assert_true(a >= MiB);
		assert_true(a < 8 * MiB || a >= 10 * MiB);
		assert_true(a < 64 * MiB);
		assert_int_equal(a % PAGE_SIZE, 0);
		n++;
	}
	assert_int_equal(p.free_pages, 0);
	/* 63 MiB above 1 MiB, minus 2 MiB reserved, minus the 2 KiB bitmap page. */
	assert_int_equal(n, (61 * MiB) / PAGE_SIZE - 1);
	free(bm);
}

static void test_reserved_wins_where_regions_overlap(void **state)
{
	(void)state;
	struct pmm p;
	const struct mem_region map[] = {
		{ 0x100000, 15 * MiB, MEM_USABLE },
		{ 4 * MiB, 1 * MiB, MEM_RESERVED },	/* inside the usable one */
		{ 2 * MiB, 4 * MiB, MEM_USABLE },	/* duplicate usable */
	};
	set_map(map, 3);
	uint64_t *bm = setup(&p, NULL, 0);
	for (uint64_t a = 4 * MiB; a < 5 * MiB; a += PAGE_SIZE)
		assert_false(pmm_is_free(&p, a));
	assert_true(pmm_is_free(&p, 6 * MiB));
	free(bm);
}

static void test_no_usable_memory_above_1mib_is_an_error(void **state)
{
	(void)state;
	const struct mem_region map[] = {
		{ 0, 0x9fc00, MEM_USABLE },
		{ 0x100000, 64 * MiB, MEM_RESERVED },
	};
	uint64_t npages = 7, at = 7;
	set_map(map, 2);
	assert_int_equal(pmm_plan(&bi, NULL, 0, 4096 * MiB, 0, &npages, &at), -12);
	set_map(map, 0);
	assert_int_equal(pmm_plan(&bi, NULL, 0, 4096 * MiB, 0, &npages, &at), -12);
}

static void test_the_bitmap_is_placed_clear_of_reserved_ranges(void **state)
{
	(void)state;
	const struct phys_range res[] = { { MiB, 3 * MiB }, { 3 * MiB, 3 * MiB + 4096 } };
	uint64_t npages, at;
	set_map(simple_map, 2);
	assert_int_equal(pmm_plan(&bi, res, 2, 4096 * MiB, 0, &npages, &at), 0);
	assert_int_equal(npages, 64 * MiB / PAGE_SIZE);
	assert_int_equal(at, 3 * MiB + 4096);
}

static void test_the_bitmap_goes_at_the_preferred_address_when_it_can(void **state)
{
	(void)state;
	uint64_t npages, at;
	set_map(simple_map, 2);
	assert_int_equal(pmm_plan(&bi, NULL, 0, 4096 * MiB, 32 * MiB, &npages, &at), 0);
	assert_int_equal(at, 32 * MiB);
	/* Nothing usable above 100 MiB: fall back to the lowest fit. */
	assert_int_equal(pmm_plan(&bi, NULL, 0, 4096 * MiB, 100 * MiB, &npages, &at), 0);
	assert_int_equal(at, MiB);
}

static void test_memory_above_the_limit_is_not_tracked(void **state)
{
	(void)state;
	const struct mem_region map[] = { { MiB, 8192 * MiB, MEM_USABLE } };
	uint64_t npages, at;
	set_map(map, 1);
	assert_int_equal(pmm_plan(&bi, NULL, 0, 4096 * MiB, 0, &npages, &at), 0);
	assert_int_equal(npages, 4096 * MiB / PAGE_SIZE);
}

static void test_contiguous_aligned_allocation_and_free(void **state)
{
	(void)state;
	struct pmm p;
	set_map(simple_map, 2);
	uint64_t *bm = setup(&p, NULL, 0);
	uint64_t before = p.free_pages;
	uint64_t a = pmm_alloc_contig(&p, 512, 2 * MiB);
	assert_int_not_equal(a, 0);
	assert_int_equal(a % (2 * MiB), 0);
	for (uint64_t i = 0; i < 512; i++)
		assert_false(pmm_is_free(&p, a + i * PAGE_SIZE));
	assert_int_equal(p.free_pages, before - 512);
	pmm_free(&p, a, 512);
	assert_int_equal(p.free_pages, before);
	pmm_free(&p, a, 512);	/* double free changes nothing */
	assert_int_equal(p.free_pages, before);
	assert_int_equal(pmm_alloc_contig(&p, 0, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc_contig(&p, 1, 3 * PAGE_SIZE), 0);	/* not a power of two */
	assert_int_equal(pmm_alloc_contig(&p, before + 1, PAGE_SIZE), 0);
	free(bm);
}

static void test_freeing_the_low_megabyte_is_refused(void **state)
{
	(void)state;
	struct pmm p;
	set_map(simple_map, 2);
	uint64_t *bm = setup(&p, NULL, 0);
	uint64_t before = p.free_pages;
	pmm_free(&p, 0x1000, 16);
	assert_int_equal(p.free_pages, before);
	free(bm);
}

static void test_marking_partial_pages(void **state)
{
	(void)state;
	struct pmm p;
	uint64_t bitmap[2];
	pmm_init(&p, bitmap, 128);
	pmm_mark_free(&p, 0x1800, 0x3000);	/* only pages 2 and 3 lie wholly inside */
	assert_int_equal(p.free_pages, 2);
	assert_false(pmm_is_free(&p, 0x1000));
	assert_true(pmm_is_free(&p, 0x2000));
	assert_true(pmm_is_free(&p, 0x3000));
	assert_false(pmm_is_free(&p, 0x4000));
	pmm_mark_free(&p, 0x10000, 0x10000);
	pmm_mark_used(&p, 0x10fff, 2);	/* touches pages 0x10 and 0x11 */
	assert_false(pmm_is_free(&p, 0x10000));
	assert_false(pmm_is_free(&p, 0x11000));
	assert_true(pmm_is_free(&p, 0x12000));
	pmm_mark_free(&p, UINT64_MAX - 10, 100);	/* wraps: ignored, no crash */
	pmm_mark_used(&p, UINT64_MAX - 10, 100);
	assert_false(pmm_is_free(&p, 1ull << 40));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_low_megabyte_and_reserved_ranges_are_never_handed_out),
		cmocka_unit_test(test_reserved_wins_where_regions_overlap),
		cmocka_unit_test(test_no_usable_memory_above_1mib_is_an_error),
		cmocka_unit_test(test_the_bitmap_is_placed_clear_of_reserved_ranges),
		cmocka_unit_test(test_the_bitmap_goes_at_the_preferred_address_when_it_can),
		cmocka_unit_test(test_memory_above_the_limit_is_not_tracked),
		cmocka_unit_test(test_contiguous_aligned_allocation_and_free),
		cmocka_unit_test(test_freeing_the_low_megabyte_is_refused),
		cmocka_unit_test(test_marking_partial_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
