/* test_vmcs_table.c — the VMCS field table, exit reasons and VM-instruction
 * errors: encodings against the SDM's layout, look-ups, "did you mean". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "hv/vmcs_table.h"

/* The declared width and group, straight from the .def, beside the encoding. */
static const struct declared {
	const char *name;
	uint32_t encoding;
	enum vmcs_width width;
	enum vmcs_group group;
} declared[] = {
#define VMCS_FIELD(name, encoding, width, group) \
	{ #name, (encoding), VMCS_WIDTH_##width, VMCS_GROUP_##group },
#include "hv/vmcs_fields.def"
#undef VMCS_FIELD
};

#define DECLARED_COUNT (sizeof(declared) / sizeof(declared[0]))

static void test_every_field_encoding_decodes_to_its_declared_width_and_group(void **state)
{
	(void)state;
	for (size_t i = 0; i < DECLARED_COUNT; i++) {
		const struct declared *d = &declared[i];
		if (vmcs_enc_width(d->encoding) != d->width || vmcs_enc_group(d->encoding) != d->group)
			fail_msg("%s: encoding 0x%04x decodes to width %d group %d, declared %d %d",
				 d->name, (unsigned)d->encoding, vmcs_enc_width(d->encoding),
				 vmcs_enc_group(d->encoding), d->width, d->group);
	}
}

static void test_every_field_encoding_is_a_full_access_with_reserved_bits_clear(void **state)
{
	(void)state;
	for (size_t i = 0; i < vmcs_field_count(); i++) {
		const struct vmcs_field_info *f = vmcs_field_at(i);
		if (vmcs_enc_is_high(f->encoding) || (f->encoding & VMCS_ENC_RESERVED))
			fail_msg("%s: bad encoding 0x%x", f->name, (unsigned)f->encoding);
		assert_true(vmcs_enc_well_formed(f->encoding));
	}
}

static void test_the_table_holds_what_the_def_declares_in_the_same_order(void **state)
{
	(void)state;
	assert_int_equal(vmcs_field_count(), DECLARED_COUNT);
	for (size_t i = 0; i < DECLARED_COUNT; i++) {
		const struct vmcs_field_info *f = vmcs_field_at(i);
		assert_string_equal(f->name, declared[i].name);
		assert_int_equal(f->encoding, declared[i].encoding);
		assert_int_equal(f->width, declared[i].width);
		assert_int_equal(f->group, declared[i].group);
	}
	assert_null(vmcs_field_at(DECLARED_COUNT));
}

static void test_no_two_fields_share_an_encoding_or_a_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < vmcs_field_count(); i++)
		for (size_t j = i + 1; j < vmcs_field_count(); j++) {
			const struct vmcs_field_info *a = vmcs_field_at(i), *b = vmcs_field_at(j);
			if (a->encoding == b->encoding || strcasecmp(a->name, b->name) == 0)
				fail_msg("%s and %s collide", a->name, b->name);
		}
}

static void test_well_known_fields_have_their_sdm_encodings(void **state)
{
	(void)state;
	static const struct { const char *name; uint32_t enc; } known[] = {
		{ "VIRTUAL_PROCESSOR_ID", 0x0000 }, { "GUEST_CS_SELECTOR", 0x0802 },
		{ "HOST_TR_SELECTOR", 0x0c0c }, { "IO_BITMAP_A", 0x2000 },
		{ "EPT_POINTER", 0x201a }, { "SECONDARY_VM_EXIT_CONTROLS", 0x2044 },
		{ "GUEST_PHYSICAL_ADDRESS", 0x2400 }, { "VMCS_LINK_POINTER", 0x2800 },
		{ "GUEST_IA32_EFER", 0x2806 }, { "HOST_IA32_EFER", 0x2c02 },
		{ "PIN_BASED_VM_EXEC_CONTROL", 0x4000 }, { "PRIMARY_VM_EXEC_CONTROL", 0x4002 },
		{ "SECONDARY_VM_EXEC_CONTROL", 0x401e }, { "VM_INSTRUCTION_ERROR", 0x4400 },
		{ "VM_EXIT_REASON", 0x4402 }, { "GUEST_INTERRUPTIBILITY_STATE", 0x4824 },
		{ "VMX_PREEMPTION_TIMER_VALUE", 0x482e }, { "HOST_IA32_SYSENTER_CS", 0x4c00 },
		{ "CR0_GUEST_HOST_MASK", 0x6000 }, { "EXIT_QUALIFICATION", 0x6400 },
		{ "GUEST_LINEAR_ADDRESS", 0x640a }, { "GUEST_CR3", 0x6802 },
		{ "GUEST_RIP", 0x681e }, { "HOST_RIP", 0x6c16 },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct vmcs_field_info *f = vmcs_field_by_name(known[i].name);
		assert_non_null(f);
		if (f->encoding != known[i].enc)
			fail_msg("%s is 0x%x, SDM says 0x%x", known[i].name,
				 (unsigned)f->encoding, (unsigned)known[i].enc);
	}
}

static void test_enum_constants_carry_the_table_encodings(void **state)
{
	(void)state;
	assert_int_equal(GUEST_RIP, 0x681e);
	assert_int_equal(EPT_POINTER, 0x201a);
	assert_int_equal(vmcs_field_by_name("VM_EXIT_REASON")->encoding, VM_EXIT_REASON);
	assert_int_equal(VMCS_ENC(NATURAL, GUEST, 15), GUEST_RIP);
}

static void test_lookup_by_name_ignores_case(void **state)
{
	(void)state;
	const struct vmcs_field_info *f = vmcs_field_by_name("guest_rip");
	assert_non_null(f);
	assert_string_equal(f->name, "GUEST_RIP");
	assert_ptr_equal(vmcs_field_by_name("Ept_Pointer"), vmcs_field_by_name("EPT_POINTER"));
}

static void test_lookup_by_name_rejects_unknown_and_partial_names(void **state)
{
	(void)state;
	assert_null(vmcs_field_by_name("GEST_RIP"));
	assert_null(vmcs_field_by_name("GUEST_RI"));
	assert_null(vmcs_field_by_name("GUEST_RIPX"));
	assert_null(vmcs_field_by_name(""));
}

static void test_lookup_by_encoding_finds_the_field(void **state)
{
	(void)state;
	assert_string_equal(vmcs_field_by_encoding(0x4402)->name, "VM_EXIT_REASON");
	assert_string_equal(vmcs_field_by_encoding(0x0000)->name, "VIRTUAL_PROCESSOR_ID");
	assert_null(vmcs_field_by_encoding(0x482c));	/* index 22 of 32-bit guest: unassigned */
	assert_null(vmcs_field_by_encoding(0x1000));	/* reserved bit 12 */
	assert_null(vmcs_field_by_encoding(0x10000));	/* reserved bits 31:15 */
}

static void test_high_encoding_of_a_64_bit_field_resolves_to_that_field(void **state)
{
	(void)state;
	assert_int_equal(vmcs_enc_high(EPT_POINTER), 0x201b);
	const struct vmcs_field_info *f = vmcs_field_by_encoding(vmcs_enc_high(EPT_POINTER));
	assert_non_null(f);
	assert_string_equal(f->name, "EPT_POINTER");
	assert_true(vmcs_enc_is_high(0x201b));
}

static void test_high_encoding_of_a_narrower_field_is_rejected(void **state)
{
	(void)state;
	assert_false(vmcs_enc_well_formed(GUEST_RIP | 1));
	assert_null(vmcs_field_by_encoding(GUEST_RIP | 1));
	assert_null(vmcs_field_by_encoding(PIN_BASED_VM_EXEC_CONTROL | 1));
	assert_null(vmcs_field_by_encoding(GUEST_CS_SELECTOR | 1));
}

static void test_a_high_access_reads_the_upper_32_bits_of_its_field(void **state)
{
	(void)state;
	assert_int_equal(vmcs_access_read(0x2011, 0x1122334455667788ull), 0x11223344);
	assert_int_equal(vmcs_access_read(0x2010, 0x1122334455667788ull), 0x1122334455667788ull);
}

static void test_a_high_access_writes_the_upper_half_and_keeps_the_lower(void **state)
{
	(void)state;
	uint64_t full = 0;
	/* 0x2011: bits 63:32 of TSC_OFFSET (0x2010). */
	assert_true(vmcs_access_write(0x2011, 0x1122334455667788ull, 0xaabbccdd, &full));
	assert_int_equal(full, 0xaabbccdd55667788ull);
	assert_true(vmcs_access_write(0x2010, 0x1122334455667788ull, 0xaabbccdd, &full));
	assert_int_equal(full, 0xaabbccddull);
}

static void test_a_value_wider_than_the_access_is_refused(void **state)
{
	(void)state;
	uint64_t full = 7;
	assert_false(vmcs_access_write(0x2011, 0, 0x100000000ull, &full));
	assert_false(vmcs_access_write(GUEST_CS_SELECTOR, 0, 0x10000, &full));
	assert_false(vmcs_access_write(GUEST_CS_ACCESS_RIGHTS, 0, 0x100000000ull, &full));
	assert_int_equal(full, 7);
	assert_true(vmcs_access_write(GUEST_CS_SELECTOR, 0, 0xffff, &full));
	assert_true(vmcs_access_write(GUEST_RIP, 0, ~0ull, &full));
	assert_int_equal(full, ~0ull);
}

static void test_width_bits_and_group_names(void **state)
{
	(void)state;
	assert_int_equal(vmcs_width_bits(VMCS_WIDTH_16), 16);
	assert_int_equal(vmcs_width_bits(VMCS_WIDTH_32), 32);
	assert_int_equal(vmcs_width_bits(VMCS_WIDTH_64), 64);
	assert_int_equal(vmcs_width_bits(VMCS_WIDTH_NATURAL), 64);
	assert_string_equal(vmcs_group_name(VMCS_GROUP_EXIT_INFO), "exit-info");
	assert_string_equal(vmcs_group_name(vmcs_field_by_name("HOST_CR3")->group), "host");
}

static void test_a_misspelt_field_suggests_the_closest_name_first(void **state)
{
	(void)state;
	const struct vmcs_field_info *out[VMCS_SUGGEST_MAX];
	size_t n = vmcs_field_suggest("GEST_RIP", out, VMCS_SUGGEST_MAX);
	assert_true(n >= 1);
	assert_string_equal(out[0]->name, "GUEST_RIP");

	n = vmcs_field_suggest("guest_rpi", out, 1);	/* swapped letters: one edit */
	assert_int_equal(n, 1);
	assert_string_equal(out[0]->name, "GUEST_RIP");
}

static bool suggested(const struct vmcs_field_info **out, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(out[i]->name, name) == 0)
			return true;
	return false;
}

static void test_a_short_name_suggests_the_fields_that_contain_it(void **state)
{
	(void)state;
	const struct vmcs_field_info *out[VMCS_SUGGEST_MAX];
	size_t n = vmcs_field_suggest("rip", out, VMCS_SUGGEST_MAX);
	assert_true(suggested(out, n, "GUEST_RIP"));
	assert_true(suggested(out, n, "HOST_RIP"));
	assert_true(suggested(out, n, "IO_RIP"));
	assert_false(suggested(out, n, "GUEST_RSP"));
}

static void test_a_name_far_from_every_field_suggests_nothing(void **state)
{
	(void)state;
	const struct vmcs_field_info *out[VMCS_SUGGEST_MAX];
	char overlong[200];

	assert_int_equal(vmcs_field_suggest("XYZZY_PLUGH", out, VMCS_SUGGEST_MAX), 0);
	assert_int_equal(vmcs_field_suggest("", out, VMCS_SUGGEST_MAX), 0);
	memset(overlong, 'A', sizeof(overlong) - 1);
	overlong[sizeof(overlong) - 1] = '\0';
	assert_int_equal(vmcs_field_suggest(overlong, out, VMCS_SUGGEST_MAX), 0);
}

static void test_unknown_field_message_names_the_closest_match(void **state)
{
	(void)state;
	char buf[128];
	int n = vmcs_field_unknown_message(buf, sizeof(buf), "GEST_RIP");
	assert_string_equal(buf, "unknown VMCS field \"GEST_RIP\"; did you mean GUEST_RIP?");
	assert_int_equal(n, (int)strlen(buf));

	vmcs_field_unknown_message(buf, sizeof(buf), "XYZZY_PLUGH");
	assert_string_equal(buf, "unknown VMCS field \"XYZZY_PLUGH\"");
}

static void test_unknown_field_message_lists_equally_close_names(void **state)
{
	(void)state;
	char buf[128];
	vmcs_field_unknown_message(buf, sizeof(buf), "GUEST_PDPTE");
	assert_string_equal(buf, "unknown VMCS field \"GUEST_PDPTE\"; "
			    "did you mean GUEST_PDPTE0, GUEST_PDPTE1 or GUEST_PDPTE2?");
}

static void test_unknown_field_message_is_truncated_safely(void **state)
{
	(void)state;
	char buf[16];
	int n = vmcs_field_unknown_message(buf, sizeof(buf), "GEST_RIP");
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_int_equal(n, (int)strlen("unknown VMCS field \"GEST_RIP\"; did you mean GUEST_RIP?"));
}

static void test_exit_reason_names_and_numbers_round_trip(void **state)
{
	(void)state;
	unsigned named = 0;
	for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++) {
		const char *name = exit_reason_name(r);
		if (!name)
			continue;
		named++;
		assert_int_equal(exit_reason_by_name(name), (int)r);
		assert_non_null(exit_reason_description(r));
	}
	assert_int_equal(named, 80);
	assert_string_equal(exit_reason_name(EXIT_REASON_CPUID), "CPUID");
	assert_string_equal(exit_reason_name(48), "EPT_VIOLATION");
	assert_int_equal(EXIT_REASON_PREEMPTION_TIMER, 52);
	assert_int_equal(EXIT_REASON_XSETBV, 55);
	assert_int_equal(EXIT_REASON_LIMIT, 86);
}

static void test_exit_reason_by_name_accepts_the_prefix_and_any_case(void **state)
{
	(void)state;
	assert_int_equal(exit_reason_by_name("cpuid"), 10);
	assert_int_equal(exit_reason_by_name("EXIT_REASON_HLT"), 12);
	assert_int_equal(exit_reason_by_name("exit_reason_vmcall"), 18);
	assert_int_equal(exit_reason_by_name("CPUIDX"), -1);
	assert_int_equal(exit_reason_by_name("EXIT_REASON_"), -1);
}

static void test_unassigned_exit_reasons_have_no_name(void **state)
{
	(void)state;
	static const unsigned unassigned[] = { 35, 38, 42, 71, 82, 83, 86, 1000, 0xffff };
	for (size_t i = 0; i < sizeof(unassigned) / sizeof(unassigned[0]); i++) {
		assert_null(exit_reason_name(unassigned[i]));
		assert_null(exit_reason_description(unassigned[i]));
	}
}

static void test_a_misspelt_exit_reason_suggests_the_right_one(void **state)
{
	(void)state;
	unsigned out[4];
	char buf[128];

	assert_true(exit_reason_suggest("EXIT_REASON_EPT_VIOLATON", out, 4) >= 1);
	assert_int_equal(out[0], EXIT_REASON_EPT_VIOLATION);
	exit_reason_unknown_message(buf, sizeof(buf), "cpuld");
	assert_string_equal(buf, "unknown exit reason \"cpuld\"; did you mean CPUID?");
}

static void test_vm_instruction_errors_give_the_sdm_meaning(void **state)
{
	(void)state;
	assert_string_equal(vm_instruction_error_text(7), "VM entry with invalid control field(s)");
	assert_string_equal(vm_instruction_error_text(VMX_ERROR_ENTRY_INVALID_HOST_STATE),
			    "VM entry with invalid host-state field(s)");
	assert_string_equal(vm_instruction_error_name(28), "INVALID_INVEPT_INVVPID_OPERAND");
	assert_int_equal(VMX_ERROR_ENTRY_BLOCKED_BY_MOV_SS, 26);
	assert_null(vm_instruction_error_text(0));
	assert_null(vm_instruction_error_text(14));
	assert_null(vm_instruction_error_text(29));
	unsigned named = 0;
	for (unsigned e = 0; e < 64; e++)
		named += vm_instruction_error_text(e) != NULL;
	assert_int_equal(named, 25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_encoding_decodes_to_its_declared_width_and_group),
		cmocka_unit_test(test_every_field_encoding_is_a_full_access_with_reserved_bits_clear),
		cmocka_unit_test(test_the_table_holds_what_the_def_declares_in_the_same_order),
		cmocka_unit_test(test_no_two_fields_share_an_encoding_or_a_name),
		cmocka_unit_test(test_well_known_fields_have_their_sdm_encodings),
		cmocka_unit_test(test_enum_constants_carry_the_table_encodings),
		cmocka_unit_test(test_lookup_by_name_ignores_case),
		cmocka_unit_test(test_lookup_by_name_rejects_unknown_and_partial_names),
		cmocka_unit_test(test_lookup_by_encoding_finds_the_field),
		cmocka_unit_test(test_high_encoding_of_a_64_bit_field_resolves_to_that_field),
		cmocka_unit_test(test_high_encoding_of_a_narrower_field_is_rejected),
		cmocka_unit_test(test_a_high_access_reads_the_upper_32_bits_of_its_field),
		cmocka_unit_test(test_a_high_access_writes_the_upper_half_and_keeps_the_lower),
		cmocka_unit_test(test_a_value_wider_than_the_access_is_refused),
		cmocka_unit_test(test_width_bits_and_group_names),
		cmocka_unit_test(test_a_misspelt_field_suggests_the_closest_name_first),
		cmocka_unit_test(test_a_short_name_suggests_the_fields_that_contain_it),
		cmocka_unit_test(test_a_name_far_from_every_field_suggests_nothing),
		cmocka_unit_test(test_unknown_field_message_names_the_closest_match),
		cmocka_unit_test(test_unknown_field_message_lists_equally_close_names),
		cmocka_unit_test(test_unknown_field_message_is_truncated_safely),
		cmocka_unit_test(test_exit_reason_names_and_numbers_round_trip),
		cmocka_unit_test(test_exit_reason_by_name_accepts_the_prefix_and_any_case),
		cmocka_unit_test(test_unassigned_exit_reasons_have_no_name),
		cmocka_unit_test(test_a_misspelt_exit_reason_suggests_the_right_one),
		cmocka_unit_test(test_vm_instruction_errors_give_the_sdm_meaning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
