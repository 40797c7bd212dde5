/* IA32_APIC_BASE writes (hv/apic_base.c): what the CPU would refuse with
 * #GP is refused, the mode changes of SDM Vol. 3A Figure 12-27 pass, and
 * the xAPIC page is there only while the APIC is an enabled xAPIC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/apic_base.h"

#define XAPIC (0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP)
#define X2APIC (XAPIC | APIC_BASE_EXTD)
#define OFF 0xfee00000ull

static void test_the_sdm_mode_changes_are_accepted(void **state)
{
	(void)state;
	assert_true(apic_base_write_valid(XAPIC, X2APIC, 39, true));	/* xAPIC -> x2APIC */
	assert_true(apic_base_write_valid(X2APIC, OFF, 39, true));	/* x2APIC -> disabled */
	assert_true(apic_base_write_valid(OFF, XAPIC, 39, true));	/* disabled -> xAPIC */
	assert_true(apic_base_write_valid(XAPIC, OFF, 39, true));
	assert_true(apic_base_write_valid(XAPIC, 0xfec00000ull | APIC_BASE_EN, 39, true));	/* moved */
	assert_true(apic_base_write_valid(X2APIC, X2APIC, 39, true));
}

static void test_writes_the_cpu_refuses_are_refused(void **state)
{
	(void)state;
	assert_false(apic_base_write_valid(X2APIC, XAPIC, 39, true));		/* x2APIC -> xAPIC */
	assert_false(apic_base_write_valid(OFF, X2APIC, 39, true));		/* disabled -> x2APIC */
	assert_false(apic_base_write_valid(XAPIC, OFF | APIC_BASE_EXTD, 39, true));	/* EXTD without EN */
	assert_false(apic_base_write_valid(XAPIC, X2APIC, 39, false));		/* no x2APIC in CPUID */
	assert_false(apic_base_write_valid(XAPIC, XAPIC | 1, 39, true));	/* bits 7:0 */
	assert_false(apic_base_write_valid(XAPIC, XAPIC | (1ull << 9), 39, true));
	assert_false(apic_base_write_valid(XAPIC, XAPIC | (1ull << 39), 39, true));	/* past MAXPHYADDR */
	assert_true(apic_base_write_valid(XAPIC, XAPIC | (1ull << 38), 39, true));
}

static void test_the_xapic_page_exists_only_for_an_enabled_xapic(void **state)
{
	(void)state;
	assert_int_equal(apic_base_xapic_page(XAPIC), 0xfee00000ull);
	assert_int_equal(apic_base_xapic_page(0xfec01000ull | APIC_BASE_EN), 0xfec01000ull);
	assert_int_equal(apic_base_xapic_page(X2APIC), 0);
	assert_int_equal(apic_base_xapic_page(OFF), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_sdm_mode_changes_are_accepted),
		cmocka_unit_test(test_writes_the_cpu_refuses_are_refused),
		cmocka_unit_test(test_the_xapic_page_exists_only_for_an_enabled_xapic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
