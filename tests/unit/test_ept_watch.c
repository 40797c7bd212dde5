/* EPT watchpoints (hv/ept_watch.c) over the fake target: the rights each
 * page keeps, a watch of any length and one across a page boundary (two
 * unrelated physical pages), the re-arm after an instruction that touched
 * several watched pages, which accesses are hits, and the limits with the
 * log line that names them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/debugger.h"
#include "platform/errno.h"
#include "tests/unit/fake_target.h"

/* Exit qualifications (SDM Vol. 3C Table 28-7): data read or write, the
 * linear address valid and the access to the translated address. */
#define Q_READ 0x181u
#define Q_WRITE 0x182u
#define Q_PAGE_WALK_WRITE 0x082u	/* the CPU setting an A/D bit in a guest page table */

/* A virtual range across a page boundary onto two unrelated physical
 * pages: 0x500000 -> 0x5000, 0x501000 -> 0x3000. */
#define VA_SPLIT 0x500000ull

static struct vcpu *v;
static int rearm_steps;

void debugger_arm_rearm_step(struct vcpu *vc)
{
	assert_ptr_equal(vc, v);
	rearm_steps++;
}

static unsigned perms(uint64_t gpa)
{
	return fake.ept_perms[gpa / 0x1000];
}

static int setup(void **state)
{
	(void)state;
	fake_target_reset();
	fake.maps[fake.map_count].gva = VA_SPLIT;
	fake.maps[fake.map_count++].gpa = 0x5000;
	fake.maps[fake.map_count].gva = VA_SPLIT + 0x1000;
	fake.maps[fake.map_count++].gpa = 0x3000;
	v = &fake.vcpu;
	v->ept.exec_only = true;
	rearm_steps = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ept_watch_clear_all(v);
	struct target_stop why;
	ept_watch_rearm(v, &why);	/* nothing left open for the next test */
	return 0;
}

static void test_a_20_byte_watch_takes_the_pages_write_right_until_removed(void **state)
{
	(void)state;
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x400100, 20), 0);
	assert_int_equal(perms(0x1000), EPT_R | EPT_X);
	assert_int_equal(perms(0x2000), EPT_RWX);
	assert_int_equal(ept_watch_remove(v, BP_WRITE, 0x400100, 20), 0);
	assert_int_equal(perms(0x1000), EPT_RWX);
}

static void test_a_read_watch_leaves_execute_only_or_nothing_without_the_capability(void **state)
{
	(void)state;
	assert_int_equal(ept_watch_insert(v, BP_READ, 0x400100, 3), 0);
	assert_int_equal(perms(0x1000), EPT_X);
	ept_watch_clear_all(v);
	v->ept.exec_only = false;
	assert_int_equal(ept_watch_insert(v, BP_ACCESS, 0x400100, 3), 0);
	assert_int_equal(perms(0x1000), 0);
}

static void test_a_watch_across_a_page_boundary_protects_both_physical_pages(void **state)
{
	(void)state;
	assert_int_equal(ept_watch_insert(v, BP_WRITE, VA_SPLIT + 0xff8, 16), 0);
	assert_int_equal(perms(0x5000), EPT_R | EPT_X);
	assert_int_equal(perms(0x3000), EPT_R | EPT_X);
	assert_int_equal(perms(0x4000), EPT_RWX);
	assert_int_equal(ept_watch_remove(v, BP_WRITE, VA_SPLIT + 0xff8, 16), 0);
	assert_int_equal(perms(0x5000), EPT_RWX);
	assert_int_equal(perms(0x3000), EPT_RWX);
}

static void test_a_write_beside_the_range_opens_the_page_for_one_step_without_a_hit(void **state)
{
	(void)state;
	struct target_stop why;
	ept_watch_insert(v, BP_WRITE, 0x400100, 20);
	assert_true(ept_watch_on_violation(v, 0x1800, Q_WRITE));
	assert_int_equal(rearm_steps, 1);
	assert_int_equal(perms(0x1000), EPT_RWX);
	assert_false(ept_watch_rearm(v, &why));
	assert_int_equal(perms(0x1000), EPT_R | EPT_X);
}

static void test_a_write_into_the_range_stops_with_the_watch_gdb_set(void **state)
{
	(void)state;
	struct target_stop why;
	ept_watch_insert(v, BP_WRITE, 0x400100, 20);
	assert_true(ept_watch_on_violation(v, 0x1110, Q_WRITE));
	assert_true(ept_watch_rearm(v, &why));
	assert_int_equal(why.kind, STOP_WATCHPOINT);
	assert_int_equal(why.addr, 0x400100);
	assert_int_equal(why.watch_type, BP_WRITE);
	assert_false(ept_watch_on_violation(v, 0x2000, Q_WRITE));	/* not a watched page */
}

static void test_an_access_of_the_kind_not_watched_is_no_hit(void **state)
{
	(void)state;
	struct target_stop why;
	ept_watch_insert(v, BP_READ, 0x400100, 4);
	assert_true(ept_watch_on_violation(v, 0x1100, Q_WRITE));
	assert_false(ept_watch_rearm(v, &why));
	assert_true(ept_watch_on_violation(v, 0x1100, Q_READ));
	assert_true(ept_watch_rearm(v, &why));
}

static void test_the_cpu_walking_guest_page_tables_is_no_hit(void **state)
{
	(void)state;
	struct target_stop why;
	ept_watch_insert(v, BP_WRITE, 0x400100, 8);
	assert_true(ept_watch_on_violation(v, 0x1100, Q_PAGE_WALK_WRITE));
	assert_false(ept_watch_rearm(v, &why));
}

/* The regression of issue 10, item 9: a store across the boundary exits
 * on one page, then, while stepping, on the other; the re-arm must close
 * both, and the hit on the first stands. */
static void test_one_instruction_touching_two_watched_pages_leaves_neither_open(void **state)
{
	(void)state;
	struct target_stop why;
	ept_watch_insert(v, BP_WRITE, VA_SPLIT + 0xff8, 16);
	assert_true(ept_watch_on_violation(v, 0x5ffe, Q_WRITE));
	assert_true(ept_watch_on_violation(v, 0x3000, Q_WRITE));
	assert_int_equal(perms(0x5000), EPT_RWX);
	assert_int_equal(perms(0x3000), EPT_RWX);
	assert_true(ept_watch_rearm(v, &why));
	assert_int_equal(why.addr, VA_SPLIT + 0xff8);
	assert_int_equal(perms(0x5000), EPT_R | EPT_X);
	assert_int_equal(perms(0x3000), EPT_R | EPT_X);
}

static void test_a_hit_on_the_second_page_of_an_instruction_is_reported(void **state)
{
	(void)state;
	struct target_stop why;
	ept_watch_insert(v, BP_WRITE, 0x400ff0, 4);	/* page 0x1000 */
	ept_watch_insert(v, BP_WRITE, 0x401010, 4);	/* page 0x2000 */
	assert_true(ept_watch_on_violation(v, 0x1800, Q_WRITE));	/* beside the first */
	assert_true(ept_watch_on_violation(v, 0x2010, Q_WRITE));	/* into the second */
	assert_true(ept_watch_rearm(v, &why));
	assert_int_equal(why.addr, 0x401010);
	assert_int_equal(perms(0x1000), EPT_R | EPT_X);
	assert_int_equal(perms(0x2000), EPT_R | EPT_X);
	/* The next instruction starts afresh: no hit carried over. */
	assert_true(ept_watch_on_violation(v, 0x1800, Q_WRITE));
	assert_false(ept_watch_rearm(v, &why));
}

static void test_more_pages_in_one_instruction_than_can_be_open_is_refused_with_a_log_line(void **state)
{
	(void)state;
	struct target_stop why;
	static const uint64_t gvas[] = { FAKE_VA_DATA, FAKE_VA_DATA + 0x1000, FAKE_VA_KERNEL };
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(ept_watch_insert(v, BP_WRITE, gvas[i], 4), 0);
	for (unsigned i = 0; i < EPT_WATCH_OPEN_MAX; i++)
		assert_true(ept_watch_on_violation(v, 0x1000 + (i % 3) * 0x1000, Q_WRITE));
	assert_false(ept_watch_on_violation(v, 0x1000, Q_WRITE));
	assert_non_null(strstr(fake_last_log, "more than 16 watched pages"));
	assert_true(ept_watch_rearm(v, &why));
	for (uint64_t gpa = 0x1000; gpa <= 0x3000; gpa += 0x1000)
		assert_int_equal(perms(gpa), EPT_R | EPT_X);
}

static void test_a_page_keeps_its_protection_while_another_watch_is_on_it(void **state)
{
	(void)state;
	ept_watch_insert(v, BP_WRITE, 0x400100, 4);
	ept_watch_insert(v, BP_READ, 0x400200, 4);
	assert_int_equal(perms(0x1000), EPT_X);
	assert_int_equal(ept_watch_remove(v, BP_READ, 0x400200, 4), 0);
	assert_int_equal(perms(0x1000), EPT_R | EPT_X);
	assert_int_equal(ept_watch_remove(v, BP_READ, 0x400200, 4), -ENOENT);
	assert_int_equal(ept_watch_remove(v, BP_WRITE, 0x400100, 8), -ENOENT);	/* another length */
}

static void test_inserting_twice_is_one_watch(void **state)
{
	(void)state;
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x400100, 4), 0);
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x400100, 4), 0);
	assert_int_equal(ept_watch_remove(v, BP_WRITE, 0x400100, 4), 0);
	assert_int_equal(perms(0x1000), EPT_RWX);
}

static void test_an_unmapped_or_hypervisor_address_is_EFAULT_and_leaves_nothing(void **state)
{
	(void)state;
	assert_int_equal(ept_watch_insert(v, BP_WRITE, FAKE_VA_UNMAPPED, 4), -EFAULT);
	assert_int_equal(ept_watch_insert(v, BP_WRITE, FAKE_VA_HV, 4), -EFAULT);
	/* The first page is guest RAM, the second not mapped: all or nothing. */
	assert_int_equal(ept_watch_insert(v, BP_WRITE, FAKE_VA_DATA + 0x1ffc, 8), -EFAULT);
	assert_int_equal(perms(0x2000), EPT_RWX);
	assert_int_equal(ept_watch_remove(v, BP_WRITE, FAKE_VA_DATA + 0x1ffc, 8), -ENOENT);
}

static void test_no_length_or_a_bad_type_is_EINVAL(void **state)
{
	(void)state;
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x400100, 0), -EINVAL);
	assert_int_equal(ept_watch_insert(v, BP_HARDWARE, 0x400100, 4), -EINVAL);
}

static void test_a_watch_longer_than_64_KiB_is_E2BIG_with_a_log_line(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 17; i++) {
		fake.maps[fake.map_count].gva = 0x10000000 + i * 0x1000ull;
		fake.maps[fake.map_count++].gpa = 0x4000;
	}
	/* 17 pages, all onto 0x4000: 17 pieces */
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x10000800, EPT_WATCH_MAX_LEN), 0);
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x10000000, EPT_WATCH_MAX_LEN + 1), -E2BIG);
	assert_non_null(strstr(fake_last_log, "65537 bytes: longer than the 65536 bytes one EPT watch may cover"));
	assert_int_equal(ept_watch_remove(v, BP_WRITE, 0x10000800, EPT_WATCH_MAX_LEN), 0);
	assert_int_equal(perms(0x4000), EPT_RWX);
}

static void test_past_4096_pieces_is_ENOSPC_with_a_log_line_and_all_4096_work(void **state)
{
	(void)state;
	struct target_stop why;
	for (unsigned i = 0; i < EPT_WATCH_PIECES; i++)
		assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x400000 + i, 1), 0);
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x401000, 1), -ENOSPC);
	assert_non_null(strstr(fake_last_log, "all 4096 EPT watch pieces in use"));
	assert_int_equal(perms(0x2000), EPT_RWX);
	/* The last one inserted still hits. */
	assert_true(ept_watch_on_violation(v, 0x1fff, Q_WRITE));
	assert_true(ept_watch_rearm(v, &why));
	assert_int_equal(why.addr, 0x400fff);
	/* Removing one makes room again. */
	assert_int_equal(ept_watch_remove(v, BP_WRITE, 0x400010, 1), 0);
	assert_int_equal(ept_watch_insert(v, BP_WRITE, 0x401000, 1), 0);
}

static void test_clear_all_gives_every_page_back(void **state)
{
	(void)state;
	ept_watch_insert(v, BP_WRITE, VA_SPLIT + 0xff8, 16);
	ept_watch_insert(v, BP_ACCESS, 0x400100, 20);
	ept_watch_insert(v, BP_READ, FAKE_VA_KERNEL, 1);
	ept_watch_clear_all(v);
	for (unsigned page = 0; page < FAKE_HV_START / 0x1000; page++)
		assert_int_equal(fake.ept_perms[page], EPT_RWX);
	assert_false(ept_watch_on_violation(v, 0x1100, Q_WRITE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_a_20_byte_watch_takes_the_pages_write_right_until_removed),
		T(test_a_read_watch_leaves_execute_only_or_nothing_without_the_capability),
		T(test_a_watch_across_a_page_boundary_protects_both_physical_pages),
		T(test_a_write_beside_the_range_opens_the_page_for_one_step_without_a_hit),
		T(test_a_write_into_the_range_stops_with_the_watch_gdb_set),
		T(test_an_access_of_the_kind_not_watched_is_no_hit),
		T(test_the_cpu_walking_guest_page_tables_is_no_hit),
		T(test_one_instruction_touching_two_watched_pages_leaves_neither_open),
		T(test_a_hit_on_the_second_page_of_an_instruction_is_reported),
		T(test_more_pages_in_one_instruction_than_can_be_open_is_refused_with_a_log_line),
		T(test_a_page_keeps_its_protection_while_another_watch_is_on_it),
		T(test_inserting_twice_is_one_watch),
		T(test_an_unmapped_or_hypervisor_address_is_EFAULT_and_leaves_nothing),
		T(test_no_length_or_a_bad_type_is_EINVAL),
		T(test_a_watch_longer_than_64_KiB_is_E2BIG_with_a_log_line),
		T(test_past_4096_pieces_is_ENOSPC_with_a_log_line_and_all_4096_work),
		T(test_clear_all_gives_every_page_back),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
