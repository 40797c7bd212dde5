/* Software breakpoints (hv/sw_breakpoints.c) over the fake target's
 * guest memory: the int3 in place and hidden from readers, writes landing
 * under it, 4096 at once and a clear error with a log line past that, and
 * every original byte back when they go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/debugger.h"
#include "hv/guest.h"
#include "platform/errno.h"
#include "tests/unit/fake_target.h"

static uint8_t original[FAKE_PHYS_SIZE];

/* Guest RAM is the fake's, below its hypervisor region. */
bool guest_phys_reachable(uint64_t gpa, uint64_t len)
{
	return gpa + len >= gpa && gpa + len <= FAKE_HV_START;
}

void *guest_phys_ptr(uint64_t gpa, uint64_t len)
{
	return guest_phys_reachable(gpa, len) ? &fake.phys[gpa] : NULL;
}

static int setup(void **state)
{
	(void)state;
	fake_target_reset();
	memcpy(original, fake.phys, sizeof(original));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sw_bp_clear_all();
	return 0;
}

static void test_an_int3_goes_in_and_readers_see_the_original_byte(void **state)
{
	(void)state;
	uint8_t buf[16];
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + 0x10), 0);
	assert_int_equal(fake.phys[0x1010], 0xcc);
	assert_true(debugger_is_our_breakpoint(FAKE_VA_DATA + 0x10));
	assert_false(debugger_is_our_breakpoint(FAKE_VA_DATA + 0x11));
	memcpy(buf, &fake.phys[0x1008], sizeof(buf));
	debugger_hide_breakpoints(0x1008, buf, sizeof(buf));
	assert_memory_equal(buf, &original[0x1008], sizeof(buf));
	assert_int_equal(sw_bp_count(), 1);
}

static void test_removing_puts_the_byte_back_and_twice_is_one(void **state)
{
	(void)state;
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + 0x10), 0);
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + 0x10), 0);
	assert_int_equal(sw_bp_count(), 1);
	assert_int_equal(sw_bp_remove(FAKE_VA_DATA + 0x10), 0);
	assert_int_equal(fake.phys[0x1010], original[0x1010]);
	assert_int_equal(sw_bp_remove(FAKE_VA_DATA + 0x10), -ENOENT);
}

static void test_a_write_lands_under_the_int3(void **state)
{
	(void)state;
	const uint8_t patch[4] = { 0x90, 0x91, 0x92, 0x93 };
	sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + 0x11);
	memcpy(&fake.phys[0x1010], patch, sizeof(patch));	/* what target_write_phys does */
	debugger_write_through_breakpoints(0x1010, patch, sizeof(patch));
	assert_int_equal(fake.phys[0x1011], 0xcc);
	sw_bp_remove(FAKE_VA_DATA + 0x11);
	assert_int_equal(fake.phys[0x1011], 0x91);
}

static void test_4096_at_once_then_ENOSPC_with_a_log_line_and_all_bytes_back(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SW_BREAKPOINTS_MAX; i++)
		assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + i), 0);
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + 0x1000), -ENOSPC);
	assert_string_equal(fake_last_log, "breakpoints: all 4096 software breakpoints in use: none at 0x401000");
	assert_int_equal(fake.phys[0x2000], original[0x2000]);
	for (unsigned i = 0; i < SW_BREAKPOINTS_MAX; i++)
		assert_int_equal(fake.phys[0x1000 + i], 0xcc);
	assert_true(debugger_is_our_breakpoint(FAKE_VA_DATA + 0xfff));
	assert_int_equal(sw_bp_remove(FAKE_VA_DATA + 7), 0);
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + 0x1000), 0);	/* room again */
	sw_bp_clear_all();
	assert_int_equal(sw_bp_count(), 0);
	assert_memory_equal(fake.phys, original, FAKE_HV_START);
}

static void test_unmapped_or_hypervisor_memory_is_EFAULT_and_untouched(void **state)
{
	(void)state;
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_UNMAPPED), -EFAULT);
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_HV), -EFAULT);
	assert_int_equal(sw_bp_count(), 0);
	assert_memory_equal(fake.phys, original, FAKE_PHYS_SIZE);
}

static void test_two_aliases_of_one_byte_leave_the_original_when_cleared(void **state)
{
	(void)state;
	fake.maps[fake.map_count].gva = 0x500000;	/* another name for gpa 0x1000 */
	fake.maps[fake.map_count++].gpa = 0x1000;
	assert_int_equal(sw_bp_insert(&fake.vcpu, FAKE_VA_DATA + 0x20), 0);
	assert_int_equal(sw_bp_insert(&fake.vcpu, 0x500020), 0);
	sw_bp_clear_all();
	assert_int_equal(fake.phys[0x1020], original[0x1020]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_an_int3_goes_in_and_readers_see_the_original_byte),
		T(test_removing_puts_the_byte_back_and_twice_is_one),
		T(test_a_write_lands_under_the_int3),
		T(test_4096_at_once_then_ENOSPC_with_a_log_line_and_all_bytes_back),
		T(test_unmapped_or_hypervisor_memory_is_EFAULT_and_untouched),
		T(test_two_aliases_of_one_byte_leave_the_original_when_cleared),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
