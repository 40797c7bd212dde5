/* Guest memory through m, M and X, and breakpoints and watchpoints through
 * Z and z: guest-virtual addresses, unmapped pages and the hypervisor's
 * region as error replies, short reads at the end of a mapping, absurd
 * lengths, malformed hex, slot exhaustion and idempotence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gdbstub/stub.h"
#include "platform/errno.h"
#include "tests/unit/fake_target.h"

/* Hex of guest-physical bytes, as `m` should send them. */
static const char *phys_hex(uint64_t gpa, size_t n)
{
	static char buf[2 * GDB_PACKET_SIZE + 1];
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", fake.phys[gpa + i]);
	buf[2 * n] = 0;
	return buf;
}

static void test_m_reads_guest_virtual_memory(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("m400000,10"), phys_hex(0x1000, 16));
	assert_string_equal(fake_ask("mffffffff80000ff0,4"), phys_hex(0x3ff0, 4));
}

static void test_m_across_pages_follows_the_guest_mapping(void **state)
{
	(void)state;
	char want[64];
	fake.maps[1].gpa = 0x5000;	/* the second virtual page is not physically next */
	snprintf(want, sizeof(want), "%s", phys_hex(0x1ffe, 2));
	strcat(want, phys_hex(0x5000, 2));
	assert_string_equal(fake_ask("m400ffe,4"), want);
}

static void test_m_of_an_unmapped_address_is_E14(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("m800000,4"), "E14");
}

static void test_m_of_the_hypervisors_memory_is_E01(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("m600000,4"), "E01");
}

static void test_m_into_an_unmapped_page_returns_the_bytes_before_it(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("m401ffc,8"), phys_hex(0x2ffc, 4));
}

static void test_m_of_a_huge_length_is_cut_to_half_a_packet(void **state)
{
	(void)state;
	size_t len;
	for (int i = 2; i < 8; i++) {
		fake.maps[fake.map_count].gva = FAKE_VA_DATA + 0x1000 * (uint64_t)i;
		fake.maps[fake.map_count++].gpa = 0x1000 * (uint64_t)(i + 1);
	}
	fake_line_packet("m400000,ffffffffffffffff");
	fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
	const char *r = fake_line_next(&len);
	assert_non_null(r);
	assert_int_equal(len, GDB_PACKET_SIZE);
	assert_memory_equal(r, phys_hex(0x1000, GDB_PACKET_SIZE / 2), GDB_PACKET_SIZE);
}

static void test_m_at_the_top_of_the_address_space_does_not_wrap(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("mfffffffffffffffe,10"), "E14");
}

static void test_m_of_zero_bytes_is_an_empty_hex_string(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("m400000,0"), "");
}

static void test_malformed_m_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("m400000"), "E22");
	assert_string_equal(fake_ask("m400000,"), "E22");
	assert_string_equal(fake_ask("m,4"), "E22");
	assert_string_equal(fake_ask("mxyz,4"), "E22");
	assert_string_equal(fake_ask("m400000,4,"), "E22");
	assert_string_equal(fake_ask("m10000000000000000,4"), "E22");
}

static void test_M_writes_guest_virtual_memory(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("M400100,4:deadBEEF"), "OK");
	assert_memory_equal(fake.phys + 0x1100, "\xde\xad\xbe\xef", 4);
}

static void test_M_with_odd_or_bad_hex_or_a_wrong_count_is_E22(void **state)
{
	(void)state;
	uint8_t before[8];
	memcpy(before, fake.phys + 0x1100, 8);
	assert_string_equal(fake_ask("M400100,2:abc"), "E22");
	assert_string_equal(fake_ask("M400100,2:abcdef"), "E22");
	assert_string_equal(fake_ask("M400100,2:abzz"), "E22");
	assert_string_equal(fake_ask("M400100,2abcd"), "E22");
	assert_string_equal(fake_ask("M400100:abcd"), "E22");
	assert_memory_equal(fake.phys + 0x1100, before, 8);
}

static void test_M_of_more_than_a_packet_can_carry_is_E07(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("M400000,ffffffff:00"), "E07");
}

static void test_M_to_unmapped_or_hypervisor_memory_is_refused(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("M800000,1:00"), "E14");
	assert_string_equal(fake_ask("M600000,1:00"), "E01");
	assert_int_not_equal(fake.phys[FAKE_HV_START], 0);
}

static void test_X_of_zero_bytes_answers_OK_as_gdb_probes_it(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("X800000,0:"), "OK");
}

static void test_X_writes_binary_data(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("X400200,3:a\x01z"), "OK");
	assert_memory_equal(fake.phys + 0x1200, "a\x01z", 3);
}

static void test_X_with_a_wrong_count_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("X400200,4:abc"), "E22");
	assert_string_equal(fake_ask("X400200,2:abc"), "E22");
	assert_string_equal(fake_ask("X400200,2"), "E22");
}

static void test_X_wrapping_around_the_address_space_is_E14(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Xffffffffffffffff,2:ab"), "E14");
}

static void test_Z0_to_Z4_insert_breakpoints_and_watchpoints(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z0,400010,1"), "OK");
	assert_string_equal(fake_ask("Z1,400020,1"), "OK");
	assert_string_equal(fake_ask("Z2,400100,8"), "OK");
	assert_string_equal(fake_ask("Z3,400108,4"), "OK");
	assert_string_equal(fake_ask("Z4,400110,2"), "OK");
	assert_non_null(fake_bp_find(BP_SOFTWARE, 0x400010));
	assert_non_null(fake_bp_find(BP_HARDWARE, 0x400020));
	assert_int_equal(fake_bp_find(BP_WRITE, 0x400100)->len, 8);
	assert_int_equal(fake_bp_find(BP_READ, 0x400108)->len, 4);
	assert_int_equal(fake_bp_find(BP_ACCESS, 0x400110)->len, 2);
}

static void test_z0_to_z4_remove_them(void **state)
{
	(void)state;
	fake_ask("Z0,400010,1");
	fake_ask("Z2,400100,8");
	assert_string_equal(fake_ask("z0,400010,1"), "OK");
	assert_string_equal(fake_ask("z2,400100,8"), "OK");
	assert_int_equal(fake_bp_count(BP_SOFTWARE) + fake_bp_count(BP_WRITE), 0);
}

static void test_a_fifth_hardware_breakpoint_is_E28(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z1,400000,1"), "OK");
	assert_string_equal(fake_ask("Z1,400008,1"), "OK");
	assert_string_equal(fake_ask("Z1,400010,1"), "OK");
	assert_string_equal(fake_ask("Z1,400018,1"), "OK");
	assert_string_equal(fake_ask("Z1,400020,1"), "E28");
	assert_string_equal(fake_ask("Z0,400020,1"), "OK");	/* software needs no slot */
	assert_string_equal(fake_ask("Z2,400020,8"), "OK");	/* nor a watch (EPT) */
}

static void test_a_full_target_is_E28(void **state)
{
	(void)state;
	char packet[32];
	for (unsigned i = 0; i < FAKE_BPS; i++) {
		snprintf(packet, sizeof(packet), "Z2,%x,4", 0x400000 + 4 * i);
		assert_string_equal(fake_ask(packet), "OK");
	}
	assert_string_equal(fake_ask("Z2,401000,4"), "E28");
}

static void test_inserting_twice_or_removing_twice_is_OK(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z0,400010,1"), "OK");
	assert_string_equal(fake_ask("Z0,400010,1"), "OK");
	assert_int_equal(fake_bp_count(BP_SOFTWARE), 1);
	assert_string_equal(fake_ask("z0,400010,1"), "OK");
	assert_string_equal(fake_ask("z0,400010,1"), "OK");
}

static void test_a_breakpoint_on_unmapped_memory_is_E14(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z0,800000,1"), "E14");
}

static void test_a_watchpoint_of_any_length_gdb_asks_for_is_taken(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z2,400100,14"), "OK");	/* `watch` of a 20-byte struct */
	assert_string_equal(fake_ask("Z3,400203,3"), "OK");
	assert_string_equal(fake_ask("Z4,400ff8,10"), "OK");	/* across a page boundary */
	assert_int_equal(fake_bp_find(BP_WRITE, 0x400100)->len, 20);
	assert_int_equal(fake_bp_find(BP_READ, 0x400203)->len, 3);
	assert_int_equal(fake_bp_find(BP_ACCESS, 0x400ff8)->len, 16);
}

static void test_a_watchpoint_of_no_length_or_over_32_bits_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z2,400100,0"), "E22");
	assert_string_equal(fake_ask("Z2,400100,100000000"), "E22");
	assert_int_equal(fake_bp_count(BP_WRITE), 0);
}

static void test_an_unknown_breakpoint_type_gets_the_empty_reply(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z5,400000,1"), "");
	assert_string_equal(fake_ask("Z10,400000,1"), "");
	assert_string_equal(fake_ask("z9,400000,1"), "");
	assert_string_equal(fake_ask("Z"), "");
	assert_string_equal(fake_ask("Z0400000,1"), "");	/* type 0x400000 */
}

static void test_malformed_Z_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Z0"), "E22");
	assert_string_equal(fake_ask("Z0,400000"), "E22");
	assert_string_equal(fake_ask("Z0,,1"), "E22");
	assert_string_equal(fake_ask("Z0,400000,1;X2,0a"), "E22");
	assert_string_equal(fake_ask("Z0,400000,1,"), "E22");
	assert_int_equal(fake_bp_count(BP_SOFTWARE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_m_reads_guest_virtual_memory, fake_setup),
		cmocka_unit_test_setup(test_m_across_pages_follows_the_guest_mapping, fake_setup),
		cmocka_unit_test_setup(test_m_of_an_unmapped_address_is_E14, fake_setup),
		cmocka_unit_test_setup(test_m_of_the_hypervisors_memory_is_E01, fake_setup),
		cmocka_unit_test_setup(test_m_into_an_unmapped_page_returns_the_bytes_before_it, fake_setup),
		cmocka_unit_test_setup(test_m_of_a_huge_length_is_cut_to_half_a_packet, fake_setup),
		cmocka_unit_test_setup(test_m_at_the_top_of_the_address_space_does_not_wrap, fake_setup),
		cmocka_unit_test_setup(test_m_of_zero_bytes_is_an_empty_hex_string, fake_setup),
		cmocka_unit_test_setup(test_malformed_m_is_E22, fake_setup),
		cmocka_unit_test_setup(test_M_writes_guest_virtual_memory, fake_setup),
		cmocka_unit_test_setup(test_M_with_odd_or_bad_hex_or_a_wrong_count_is_E22, fake_setup),
		cmocka_unit_test_setup(test_M_of_more_than_a_packet_can_carry_is_E07, fake_setup),
		cmocka_unit_test_setup(test_M_to_unmapped_or_hypervisor_memory_is_refused, fake_setup),
		cmocka_unit_test_setup(test_X_of_zero_bytes_answers_OK_as_gdb_probes_it, fake_setup),
		cmocka_unit_test_setup(test_X_writes_binary_data, fake_setup),
		cmocka_unit_test_setup(test_X_with_a_wrong_count_is_E22, fake_setup),
		cmocka_unit_test_setup(test_X_wrapping_around_the_address_space_is_E14, fake_setup),
		cmocka_unit_test_setup(test_Z0_to_Z4_insert_breakpoints_and_watchpoints, fake_setup),
		cmocka_unit_test_setup(test_z0_to_z4_remove_them, fake_setup),
		cmocka_unit_test_setup(test_a_fifth_hardware_breakpoint_is_E28, fake_setup),
		cmocka_unit_test_setup(test_a_full_target_is_E28, fake_setup),
		cmocka_unit_test_setup(test_inserting_twice_or_removing_twice_is_OK, fake_setup),
		cmocka_unit_test_setup(test_a_breakpoint_on_unmapped_memory_is_E14, fake_setup),
		cmocka_unit_test_setup(test_a_watchpoint_of_any_length_gdb_asks_for_is_taken, fake_setup),
		cmocka_unit_test_setup(test_a_watchpoint_of_no_length_or_over_32_bits_is_E22, fake_setup),
		cmocka_unit_test_setup(test_an_unknown_breakpoint_type_gets_the_empty_reply, fake_setup),
		cmocka_unit_test_setup(test_malformed_Z_is_E22, fake_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
