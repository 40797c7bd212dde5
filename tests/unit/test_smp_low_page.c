/* The AP trampoline's page: the highest free page below 640 KiB, never one
 * holding the boot information or a module, never page 0, never one a
 * usable region does not hold whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "platform/smp_low_page.h"

static struct boot_info bi;

static void region(uint64_t base, uint64_t len, uint32_t type)
{
	bi.regions[bi.nregions++] = (struct mem_region){ base, len, type };
}

static void bochs_map(void)
{
	memset(&bi, 0, sizeof(bi));
	region(0, 0x9f000, MEM_USABLE);		/* what Bochs' BIOS reports */
	region(0x9f000, 0x1000, MEM_RESERVED);
	region(0xe8000, 0x18000, MEM_RESERVED);
	region(0x100000, 0xfef0000, MEM_USABLE);
}

static void test_the_highest_usable_page_below_640k(void **state)
{
	(void)state;
	bochs_map();
	assert_int_equal(smp_low_page(&bi), 0x9e000);
}

static void test_the_boot_information_and_modules_are_stepped_over(void **state)
{
	(void)state;
	bochs_map();
	bi.info_addr = 0x9e800;
	bi.info_len = 0x100;
	bi.nmodules = 1;
	bi.modules[0] = (struct boot_module){ .start = 0x9c000, .end = 0x9d001, .cmdline = "guest" };
	assert_int_equal(smp_low_page(&bi), 0x9b000);
}

static void test_a_page_only_partly_usable_is_not_taken(void **state)
{
	(void)state;
	memset(&bi, 0, sizeof(bi));
	region(0, 0x9fc00, MEM_USABLE);		/* ends inside page 0x9f000 */
	assert_int_equal(smp_low_page(&bi), 0x9e000);
	memset(&bi, 0, sizeof(bi));
	region(0x5800, 0x1000, MEM_USABLE);	/* straddles two pages, holds neither */
	assert_int_equal(smp_low_page(&bi), 0);
}

static void test_page_zero_and_memory_above_640k_are_never_taken(void **state)
{
	(void)state;
	memset(&bi, 0, sizeof(bi));
	region(0, 0x1000, MEM_USABLE);
	region(0xa0000, 0x60000, MEM_USABLE);
	assert_int_equal(smp_low_page(&bi), 0);
}

static void test_no_usable_low_memory_gives_zero(void **state)
{
	(void)state;
	memset(&bi, 0, sizeof(bi));
	region(0, 0xa0000, MEM_RESERVED);
	assert_int_equal(smp_low_page(&bi), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_highest_usable_page_below_640k),
		cmocka_unit_test(test_the_boot_information_and_modules_are_stepped_over),
		cmocka_unit_test(test_a_page_only_partly_usable_is_not_taken),
		cmocka_unit_test(test_page_zero_and_memory_above_640k_are_never_taken),
		cmocka_unit_test(test_no_usable_low_memory_gives_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
