/* The MADT parser on hand-built tables: what Bochs' BIOS gives for two
 * CPUs, x2APIC entries, disabled and online-capable processors, and
 * malformed tables that must be counted and never read past their end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "platform/acpi_madt.h"
#include "platform/errno.h"

static uint8_t table[2048];
static uint32_t table_len;
static struct madt_info info;

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void begin(void)
{
	memset(table, 0xcc, sizeof(table));
	memcpy(table, "APIC", 4);
	memset(table + 8, 0, 36);
	put32(table + 36, 0xfee00000);
	table_len = 44;
}

static void raw(const uint8_t *bytes, unsigned n)
{
	memcpy(table + table_len, bytes, n);
	table_len += n;
}

static void lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, apic_id };
	put32(e + 4, flags);
	raw(e, sizeof(e));
}

static void x2apic(uint32_t apic_id, uint32_t flags, uint32_t uid)
{
	uint8_t e[16] = { 9, 16 };
	put32(e + 4, apic_id);
	put32(e + 8, flags);
	put32(e + 12, uid);
	raw(e, sizeof(e));
}

static int parse(void)
{
	put32(table + 4, table_len);
	return madt_parse(table, &info);
}

static void test_two_enabled_local_apics_and_an_io_apic(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	lapic(1, 1, 1);
	const uint8_t ioapic[12] = { 1, 12, 2, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0 };
	raw(ioapic, sizeof(ioapic));
	assert_int_equal(parse(), 0);
	assert_int_equal(info.lapic_addr, 0xfee00000);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(info.cpus[0].apic_id, 0);
	assert_int_equal(info.cpus[1].apic_id, 1);
	assert_int_equal(info.cpus[1].acpi_uid, 1);
	assert_false(info.cpus[1].x2apic);
	assert_int_equal(info.malformed + info.duplicates + info.overflow + info.online_capable, 0);
	assert_false(info.truncated);
}

static void test_x2apic_entries_carry_32_bit_ids(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	x2apic(0x100, 1, 7);
	assert_int_equal(parse(), 0);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(info.cpus[1].apic_id, 0x100);
	assert_int_equal(info.cpus[1].acpi_uid, 7);
	assert_true(info.cpus[1].x2apic);
}

static void test_disabled_processors_are_not_listed_online_capable_counted(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	lapic(1, 1, 0);		/* absent */
	lapic(2, 2, 2);		/* hot-pluggable */
	x2apic(3, 2, 3);
	assert_int_equal(parse(), 0);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.online_capable, 2);
}

static void test_duplicate_apic_ids_are_listed_once(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	lapic(1, 1, 1);
	x2apic(1, 1, 1);	/* the same processor again, as x2APIC */
	assert_int_equal(parse(), 0);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(info.duplicates, 1);
}

static void test_wrong_entry_lengths_are_skipped_and_counted(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	const uint8_t short_lapic[6] = { 0, 6, 1, 1, 1, 0 };
	raw(short_lapic, sizeof(short_lapic));
	const uint8_t long_x2apic[20] = { 9, 20, 0, 0, 5, 0, 0, 0, 1 };
	raw(long_x2apic, sizeof(long_x2apic));
	lapic(2, 2, 1);
	assert_int_equal(parse(), 0);
	assert_int_equal(info.malformed, 2);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(info.cpus[1].apic_id, 2);
	assert_false(info.truncated);
}

static void test_an_entry_past_the_end_stops_the_walk(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	lapic(1, 1, 1);
	table_len -= 4;		/* the second entry's flags lie beyond the table */
	assert_int_equal(parse(), 0);
	assert_true(info.truncated);
	assert_int_equal(info.ncpus, 1);
}

static void test_zero_length_entry_does_not_loop(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	const uint8_t zero[2] = { 0, 0 };
	raw(zero, sizeof(zero));
	lapic(1, 1, 1);
	assert_int_equal(parse(), 0);
	assert_true(info.truncated);
	assert_int_equal(info.ncpus, 1);
}

static void test_one_trailing_byte_is_truncation(void **state)
{
	(void)state;
	begin();
	lapic(0, 0, 1);
	const uint8_t one[1] = { 0 };
	raw(one, sizeof(one));
	assert_int_equal(parse(), 0);
	assert_true(info.truncated);
	assert_int_equal(info.ncpus, 1);
}

static void test_more_cpus_than_the_limit_are_counted(void **state)
{
	(void)state;
	begin();
	for (unsigned i = 0; i < MADT_MAX_CPUS + 3; i++)
		x2apic(i, 1, i);
	assert_int_equal(parse(), 0);
	assert_int_equal(info.ncpus, MADT_MAX_CPUS);
	assert_int_equal(info.overflow, 3);
}

static void test_bad_headers_are_refused(void **state)
{
	(void)state;
	begin();
	assert_int_equal(madt_parse(NULL, &info), -EINVAL);
	memcpy(table, "FACP", 4);
	assert_int_equal(parse(), -EINVAL);
	begin();
	table_len = 43;
	assert_int_equal(parse(), -EINVAL);
	assert_int_equal(info.ncpus, 0);
	begin();
	assert_int_equal(parse(), 0);	/* no entries: a valid, empty MADT */
	assert_int_equal(info.ncpus, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_enabled_local_apics_and_an_io_apic),
		cmocka_unit_test(test_x2apic_entries_carry_32_bit_ids),
		cmocka_unit_test(test_disabled_processors_are_not_listed_online_capable_counted),
		cmocka_unit_test(test_duplicate_apic_ids_are_listed_once),
		cmocka_unit_test(test_wrong_entry_lengths_are_skipped_and_counted),
		cmocka_unit_test(test_an_entry_past_the_end_stops_the_walk),
		cmocka_unit_test(test_zero_length_entry_does_not_loop),
		cmocka_unit_test(test_one_trailing_byte_is_truncation),
		cmocka_unit_test(test_more_cpus_than_the_limit_are_counted),
		cmocka_unit_test(test_bad_headers_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
