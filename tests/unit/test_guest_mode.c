/* `vmx info` names the guest's mode as the SDM does, for every combination
 * of CR0.PE/PG, CR4.PAE/LA57, EFER.LME/LMA, CS.L and RFLAGS.VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/guest_mode.h"

#define PE (1ull << 0)
#define PG (1ull << 31)
#define PAE (1ull << 5)
#define LA57 (1ull << 12)
#define LME (1ull << 8)
#define LMA (1ull << 10)
#define VM (1ull << 17)
#define CS_L (1u << 13)

static const char *mode(uint64_t cr0, uint64_t cr4, uint64_t efer, uint32_t cs_ar, uint64_t rflags)
{
	static char buf[64];
	struct guest_paging p = { .cr0 = cr0, .cr4 = cr4, .efer = efer };
	guest_mode_describe(&p, cs_ar, rflags, buf, sizeof(buf));
	return buf;
}

static void test_real_mode_has_paging_off(void **state)
{
	(void)state;
	assert_string_equal(mode(0, 0, 0, 0, 0), "real mode, paging off");
	assert_string_equal(mode(0, PAE, LME, 0, 0), "real mode, paging off");
}

static void test_protected_mode_without_paging_says_paging_off(void **state)
{
	(void)state;
	assert_string_equal(mode(PE, 0, 0, 0, 0), "protected mode, paging off");
	assert_string_equal(mode(PE, PAE, LME, 0, 0), "protected mode, paging off");
}

static void test_protected_mode_with_paging_names_the_paging(void **state)
{
	(void)state;
	assert_string_equal(mode(PE | PG, 0, 0, 0, 0), "protected mode, 32-bit paging");
	assert_string_equal(mode(PE | PG, PAE, 0, 0, 0), "protected mode, PAE paging");
}

static void test_virtual_8086_mode_is_told_apart(void **state)
{
	(void)state;
	assert_string_equal(mode(PE, 0, 0, 0, VM), "virtual-8086 mode, paging off");
	assert_string_equal(mode(PE | PG, 0, 0, 0, VM), "virtual-8086 mode, 32-bit paging");
}

static void test_ia32e_mode_is_64_bit_or_compatibility_by_cs_l(void **state)
{
	(void)state;
	assert_string_equal(mode(PE | PG, PAE, LME | LMA, CS_L, 0), "64-bit mode, 4-level paging");
	assert_string_equal(mode(PE | PG, PAE, LME | LMA, 0, 0), "compatibility mode, 4-level paging");
	assert_string_equal(mode(PE | PG, PAE | LA57, LME | LMA, CS_L, 0), "64-bit mode, 5-level paging");
}

#define CS_D (1u << 14)

/* The code size the APIC-store decoder uses: CS.L only counts in IA-32e
 * mode, virtual-8086 mode is 16-bit whatever CS says, else CS.D. */
static void test_code_bits_follow_cs_l_cs_d_and_virtual_8086_mode(void **state)
{
	(void)state;
	assert_int_equal(guest_code_bits(LMA, CS_L, 0), 64);
	assert_int_equal(guest_code_bits(LMA, CS_D, 0), 32);	/* compatibility mode */
	assert_int_equal(guest_code_bits(LMA, 0, 0), 16);
	assert_int_equal(guest_code_bits(0, CS_L | CS_D, 0), 32);	/* L without LMA means nothing */
	assert_int_equal(guest_code_bits(0, CS_D, VM), 16);
	assert_int_equal(guest_code_bits(0, 0, 0), 16);		/* real mode */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_mode_has_paging_off),
		cmocka_unit_test(test_protected_mode_without_paging_says_paging_off),
		cmocka_unit_test(test_protected_mode_with_paging_names_the_paging),
		cmocka_unit_test(test_virtual_8086_mode_is_told_apart),
		cmocka_unit_test(test_ia32e_mode_is_64_bit_or_compatibility_by_cs_l),
		cmocka_unit_test(test_code_bits_follow_cs_l_cs_d_and_virtual_8086_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
