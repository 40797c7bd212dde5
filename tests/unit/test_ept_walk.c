/* test_ept_walk.c — `monitor ept GPA`'s walk: the entries the CPU reads
 * (PML4E, PDPTE, PDE, PTE), where each lives, stopping at a large page or
 * a non-present entry, and each entry's bits in words.  Tables come from a
 * static pool whose "physical" addresses start at 0x40000000. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/ept_walk.h"
#include "platform/errno.h"

#define POOL 16
#define POOL_PHYS 0x40000000ull

static uint64_t pool[POOL][512] __attribute__((aligned(4096)));
static unsigned pool_used;

static void *pool_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	if (pool_used == POOL)
		return NULL;
	*phys = POOL_PHYS + 4096ull * pool_used;
	return pool[pool_used++];
}

static void *pool_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return pool[(phys - POOL_PHYS) / 4096];
}

static struct ept make(void)
{
	static const struct ept_ops ops = { .alloc_page = pool_alloc, .phys_to_virt = pool_virt };
	struct ept e;
	pool_used = 0;
	memset(pool, 0, sizeof(pool));
	assert_int_equal(ept_init(&e, &ops, true, false), 0);
	return e;
}

static void test_a_4k_page_walks_four_levels(void **state)
{
	(void)state;
	struct ept e = make();
	struct ept_walk_step s[4];
	char buf[200];
	assert_int_equal(ept_map(&e, 0x1000, 0x7000000, 0x1000, EPT_R | EPT_X, EPT_MT_WB), 0);
	assert_int_equal(ept_walk(&e, 0x1234, s), 4);
	assert_int_equal(s[0].level, 4);
	assert_int_equal(s[0].entry_hpa, POOL_PHYS);	/* PML4 index 0 */
	assert_int_equal(s[3].level, 1);
	assert_int_equal(s[3].entry_hpa & 0xfff, 8);	/* PTE index 1 */
	ept_walk_describe(&s[0], buf, sizeof(buf));
	assert_non_null(strstr(buf, "PML4E @0x40000000 = 0x"));
	assert_non_null(strstr(buf, "rwx, next table 0x40001000"));
	ept_walk_describe(&s[3], buf, sizeof(buf));
	assert_non_null(strstr(buf, "PTE "));
	assert_non_null(strstr(buf, "r-x, 4 KiB page 0x7000000, memory type WB (6)"));
	assert_null(strstr(buf, "large"));
}

static void test_a_2m_page_stops_at_the_pde(void **state)
{
	(void)state;
	struct ept e = make();
	struct ept_walk_step s[4];
	char buf[200];
	assert_int_equal(ept_map(&e, 0x200000, 0x800000, 0x200000, EPT_RWX, EPT_MT_UC), 0);
	assert_int_equal(ept_walk(&e, 0x212345, s), 3);
	assert_int_equal(s[2].level, 2);
	ept_walk_describe(&s[2], buf, sizeof(buf));
	assert_non_null(strstr(buf, "PDE "));
	assert_non_null(strstr(buf, "rwx, 2 MiB page 0x800000, memory type UC (0), large"));
	/* Accessed, dirty and ignore-PAT as the CPU or a user would set them. */
	s[2].value |= EPT_ENTRY_ACCESSED | EPT_ENTRY_DIRTY | EPT_ENTRY_IGNORE_PAT;
	ept_walk_describe(&s[2], buf, sizeof(buf));
	assert_non_null(strstr(buf, "ignore-PAT, large, accessed, dirty"));
}

static void test_an_unmapped_address_stops_at_the_first_empty_entry(void **state)
{
	(void)state;
	struct ept e = make();
	struct ept_walk_step s[4];
	char buf[200];
	assert_int_equal(ept_walk(&e, 0x5000, s), 1);
	ept_walk_describe(&s[0], buf, sizeof(buf));
	assert_non_null(strstr(buf, "not present (R, W, X all clear)"));
	/* A page protected to "---" keeps its translation (bit 11), and says so. */
	assert_int_equal(ept_map(&e, 0x5000, 0x9000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 0x5000, 0x1000, 0), 0);
	assert_int_equal(ept_walk(&e, 0x5000, s), 4);
	ept_walk_describe(&s[3], buf, sizeof(buf));
	assert_non_null(strstr(buf, "not present (R, W, X all clear); vmxdbg keeps the translation"));
}

static void test_an_address_beyond_48_bits_is_refused(void **state)
{
	(void)state;
	struct ept e = make();
	struct ept_walk_step s[4];
	assert_int_equal(ept_walk(&e, EPT_GPA_LIMIT, s), -EINVAL);
	assert_int_equal(ept_walk(&e, ~0ull, s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_4k_page_walks_four_levels),
		cmocka_unit_test(test_a_2m_page_stops_at_the_pde),
		cmocka_unit_test(test_an_unmapped_address_stops_at_the_first_empty_entry),
		cmocka_unit_test(test_an_address_beyond_48_bits_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
