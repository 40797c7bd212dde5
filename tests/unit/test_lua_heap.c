/* The Lua heap: blocks come back aligned and intact, neighbours merge, the
 * region's size is a hard cap that fails cleanly, shrinking never fails,
 * and thousands of random operations leave it consistent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lua/port/heap.h"

#define REGION (256 * 1024)

static struct heap h;
static void *region;

static int setup(void **state)
{
	(void)state;
	region = aligned_alloc(4096, REGION);
	assert_true(heap_init(&h, region, REGION));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(region);
	return 0;
}

static void consistent(void)
{
	const char *why = heap_check(&h);
	if (why)
		fail_msg("heap inconsistent: %s", why);
}

static void test_blocks_are_16_byte_aligned_and_hold_their_size(void **state)
{
	(void)state;
	for (size_t n = 1; n < 600; n += 37) {
		uint8_t *p = heap_alloc(&h, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		assert_true(heap_usable(p) >= n);
		memset(p, 0xab, n);
	}
	consistent();
}

static void test_freeing_everything_merges_back_into_one_block(void **state)
{
	(void)state;
	void *p[50];
	for (int i = 0; i < 50; i++)
		p[i] = heap_alloc(&h, 40 + i * 13);
	for (int i = 0; i < 50; i += 2)
		heap_free(&h, p[i]);
	consistent();
	for (int i = 1; i < 50; i += 2)
		heap_free(&h, p[i]);
	consistent();
	assert_int_equal(h.used, 0);
	/* One free block again: the largest possible allocation fits. */
	void *all = heap_alloc(&h, REGION - 64);
	assert_non_null(all);
	heap_free(&h, all);
}

static void test_past_the_cap_allocation_fails_and_the_heap_stays_usable(void **state)
{
	(void)state;
	void *big = heap_alloc(&h, REGION / 2);
	assert_non_null(big);
	assert_null(heap_alloc(&h, REGION / 2));
	assert_null(heap_alloc(&h, SIZE_MAX - 8));
	assert_null(heap_realloc(&h, big, REGION));
	consistent();
	void *small = heap_alloc(&h, 100);
	assert_non_null(small);
	heap_free(&h, big);
	heap_free(&h, small);
	assert_int_equal(h.used, 0);
}

static void test_realloc_keeps_contents_grows_in_place_and_shrinks_without_failing(void **state)
{
	(void)state;
	uint8_t *p = heap_alloc(&h, 100);
	for (int i = 0; i < 100; i++)
		p[i] = (uint8_t)i;
	uint8_t *q = heap_realloc(&h, p, 4000);
	assert_ptr_equal(p, q);	/* the free space after it was absorbed */
	for (int i = 0; i < 100; i++)
		assert_int_equal(q[i], i);
	void *blocker = heap_alloc(&h, 10);
	uint8_t *r = heap_realloc(&h, q, 9000);	/* must move */
	assert_non_null(r);
	for (int i = 0; i < 100; i++)
		assert_int_equal(r[i], i);
	assert_ptr_equal(heap_realloc(&h, r, 16), r);
	consistent();
	heap_free(&h, r);
	heap_free(&h, blocker);
	assert_int_equal(h.used, 0);
}

static void test_lua_alloc_frees_on_zero_size(void **state)
{
	(void)state;
	void *p = heap_lua_alloc(&h, NULL, 5, 64);
	assert_non_null(p);
	assert_null(heap_lua_alloc(&h, p, 64, 0));
	assert_int_equal(h.used, 0);
}

static void test_random_operations_keep_the_heap_consistent(void **state)
{
	(void)state;
	enum { SLOTS = 200 };
	uint8_t *p[SLOTS] = { 0 };
	size_t len[SLOTS] = { 0 };
	unsigned seed = 12345;

	for (int step = 0; step < 20000; step++) {
		seed = seed * 1103515245 + 12345;
		int i = (seed >> 8) % SLOTS;
		size_t n = 1 + (seed >> 4) % ((seed & 7) ? 200 : 6000);
		for (size_t k = 0; p[i] && k < len[i]; k++)
			assert_int_equal(p[i][k], (uint8_t)(i + k));
		if (p[i] && (seed & 16)) {
			heap_free(&h, p[i]);
			p[i] = NULL;
			len[i] = 0;
			continue;
		}
		uint8_t *q = heap_realloc(&h, p[i], n);
		if (!q)
			continue;	/* full: p[i] is untouched */
		size_t keep = len[i] < n ? len[i] : n;
		for (size_t k = 0; k < keep; k++)
			assert_int_equal(q[k], (uint8_t)(i + k));
		for (size_t k = 0; k < n; k++)
			q[k] = (uint8_t)(i + k);
		p[i] = q;
		len[i] = n;
		if (step % 500 == 0)
			consistent();
	}
	for (int i = 0; i < SLOTS; i++)
		heap_free(&h, p[i]);
	consistent();
	assert_int_equal(h.used, 0);
	assert_true(h.peak > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blocks_are_16_byte_aligned_and_hold_their_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeing_everything_merges_back_into_one_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_past_the_cap_allocation_fails_and_the_heap_stays_usable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_realloc_keeps_contents_grows_in_place_and_shrinks_without_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lua_alloc_frees_on_zero_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_operations_keep_the_heap_consistent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
