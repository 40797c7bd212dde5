/* test_vmcs_explain.c — VMCS values in words, checked field by field
 * against known values: control fields bit by bit with the names of
 * vmx_controls.def, interruption information, exit reasons, exit
 * qualifications (CR access, I/O, EPT violation, #PF, #DB), the
 * VM-instruction error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vmcs_explain.h"
#include "hv/vmcs_table.h"

static char out[4096];

static void collect(void *ctx, const char *line)
{
	(void)ctx;
	strncat(out, line, sizeof(out) - strlen(out) - 2);
	strcat(out, "\n");
}

static const char *explain(uint32_t enc, uint64_t value, unsigned reason, uint32_t intr)
{
	out[0] = 0;
	vmcs_explain_field(enc, value, reason, intr, collect, NULL);
	return out;
}

static void test_primary_controls_bit_by_bit(void **state)
{
	(void)state;
	/* The value the issue quotes: vmxdbg's primary controls under Bochs. */
	assert_string_equal(explain(PRIMARY_VM_EXEC_CONTROL, 0x960061f2, 0, 0),
			    "      bit  1 (reserved: default 1)\n"
			    "      bit  4 (reserved: default 1)\n"
			    "      bit  5 (reserved: default 1)\n"
			    "      bit  6 (reserved: default 1)\n"
			    "      bit  7 HLT_EXITING\n"
			    "      bit  8 (reserved: default 1)\n"
			    "      bit 13 (reserved: default 1)\n"
			    "      bit 14 (reserved: default 1)\n"
			    "      bit 25 USE_IO_BITMAPS\n"
			    "      bit 26 (reserved: default 1)\n"
			    "      bit 28 USE_MSR_BITMAPS\n"
			    "      bit 31 ACTIVATE_SECONDARY_CONTROLS\n");
}

static void test_every_control_group_uses_its_own_names(void **state)
{
	(void)state;
	static const struct {
		uint32_t field;
		uint64_t value;
		const char *words;
	} cases[] = {
		{ PIN_BASED_VM_EXEC_CONTROL, 0x41,
		  "      bit  0 EXTERNAL_INTERRUPT_EXITING\n      bit  6 ACTIVATE_VMX_PREEMPTION_TIMER\n" },
		{ SECONDARY_VM_EXEC_CONTROL, 0xa2,
		  "      bit  1 ENABLE_EPT\n      bit  5 ENABLE_VPID\n      bit  7 UNRESTRICTED_GUEST\n" },
		{ PRIMARY_VM_EXIT_CONTROLS, 0x200, "      bit  9 HOST_ADDRESS_SPACE_SIZE\n" },
		{ VM_ENTRY_CONTROLS, 0x8200, "      bit  9 IA32E_MODE_GUEST\n      bit 15 LOAD_IA32_EFER\n" },
		{ TERTIARY_VM_EXEC_CONTROL, 0x10, "      bit  4 IPI_VIRTUALIZATION\n" },
		{ SECONDARY_VM_EXIT_CONTROLS, 2, "      bit  1 LOAD_IA32_FRED\n" },
		{ PIN_BASED_VM_EXEC_CONTROL, 0, "" },
		{ GUEST_RIP, 0x1000, "" },	/* nothing to explain */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(explain(cases[i].field, cases[i].value, 0, 0), cases[i].words);
}

static void test_interruption_information_in_words(void **state)
{
	(void)state;
	char buf[160];
	vmcs_describe_intr_info(0x80000b0e, buf, sizeof(buf));
	assert_string_equal(buf, "valid, hardware exception, vector 14 (#PF), error code delivered");
	vmcs_describe_intr_info(0x80000020, buf, sizeof(buf));
	assert_string_equal(buf, "valid, external interrupt, vector 32, no error code");
	vmcs_describe_intr_info(0x80000202, buf, sizeof(buf));
	assert_string_equal(buf, "valid, NMI, vector 2, no error code");
	vmcs_describe_intr_info(0x80001603, buf, sizeof(buf));
	assert_string_equal(buf, "valid, software exception, vector 3 (#BP), no error code, NMI unblocking due to IRET");
	vmcs_describe_intr_info(0x0000030e, buf, sizeof(buf));
	assert_string_equal(buf, "not valid");
	assert_string_equal(explain(IDT_VECTORING_INFO, 0x80000b0d, 0, 0),
			    "      = valid, hardware exception, vector 13 (#GP), error code delivered\n");
	assert_string_equal(explain(VM_ENTRY_INTERRUPTION_INFO, 0, 0, 0), "      = not valid\n");
}

static void test_exit_reason_in_words(void **state)
{
	(void)state;
	char buf[200];
	vmcs_describe_exit_reason(10, buf, sizeof(buf));
	assert_string_equal(buf, "10 CPUID (CPUID)");
	vmcs_describe_exit_reason(0x80000021, buf, sizeof(buf));
	assert_string_equal(buf, "33 INVALID_GUEST_STATE (VM-entry failure: invalid guest state); "
				 "VM-entry failure: the guest never ran");
	vmcs_describe_exit_reason(0xfffe, buf, sizeof(buf));
	assert_string_equal(buf, "65534 unassigned (not a reason the SDM assigns)");
}

static void test_instruction_error_in_words(void **state)
{
	(void)state;
	assert_string_equal(explain(VM_INSTRUCTION_ERROR, 12, 0, 0),
			    "      = 12: VMREAD/VMWRITE from/to unsupported VMCS component\n");
	assert_string_equal(explain(VM_INSTRUCTION_ERROR, 7, 0, 0),
			    "      = 7: VM entry with invalid control field(s)\n");
	char buf[160];
	vmcs_describe_instruction_error(0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "0: no error"));
	vmcs_describe_instruction_error(14, buf, sizeof(buf));
	assert_string_equal(buf, "14: not an error number the SDM assigns");
	vmcs_describe_instruction_error(1ull << 40, buf, sizeof(buf));
	assert_string_equal(buf, "1099511627776: not an error number the SDM assigns");
}

static void test_qualifications_in_words(void **state)
{
	(void)state;
	char buf[200];
	/* MOV to CR3 from RAX; MOV from CR8 to RBX; CLTS; LMSW memory 0x11. */
	vmcs_describe_exit_qualification(EXIT_REASON_CR_ACCESS, 0, 0x003, buf, sizeof(buf));
	assert_string_equal(buf, "MOV to CR3 from RAX");
	vmcs_describe_exit_qualification(EXIT_REASON_CR_ACCESS, 0, 0x318, buf, sizeof(buf));
	assert_string_equal(buf, "MOV from CR8 to RBX");
	vmcs_describe_exit_qualification(EXIT_REASON_CR_ACCESS, 0, 0x20, buf, sizeof(buf));
	assert_string_equal(buf, "CLTS");
	vmcs_describe_exit_qualification(EXIT_REASON_CR_ACCESS, 0, 0x110070, buf, sizeof(buf));
	assert_string_equal(buf, "LMSW with source data 0x11 (memory operand)");
	/* OUT of 1 byte to 0x3f8 through DX; REP INSB from 0x60 immediate. */
	vmcs_describe_exit_qualification(EXIT_REASON_IO_INSTRUCTION, 0, 0x03f80000, buf, sizeof(buf));
	assert_string_equal(buf, "OUT of 1 byte at port 0x3f8, port in DX");
	vmcs_describe_exit_qualification(EXIT_REASON_IO_INSTRUCTION, 0, 0x00600078 | 1, buf, sizeof(buf));
	assert_string_equal(buf, "INS (string) of 2 bytes at port 0x60, REP prefixed, immediate port operand");
	/* #PF: the linear address; #DB: single step. */
	vmcs_describe_exit_qualification(EXIT_REASON_EXCEPTION_NMI, 0x80000b0e, 0xdead000, buf, sizeof(buf));
	assert_string_equal(buf, "page fault at linear address 0xdead000");
	vmcs_describe_exit_qualification(EXIT_REASON_EXCEPTION_NMI, 0x80000301, 0x4000, buf, sizeof(buf));
	assert_string_equal(buf, "debug exception: BS (single step)");
	/* EPT violation: ept_violation_describe's words. */
	vmcs_describe_exit_qualification(EXIT_REASON_EPT_VIOLATION, 0, 0x181, buf, sizeof(buf));
	assert_non_null(strstr(buf, "read of"));
	/* A reason without words: nothing. */
	assert_int_equal(vmcs_describe_exit_qualification(EXIT_REASON_CPUID, 0, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_string_equal(explain(EXIT_QUALIFICATION, 0, EXIT_REASON_CPUID, 0), "");
	assert_string_equal(explain(EXIT_QUALIFICATION, 0x03f80000, EXIT_REASON_IO_INSTRUCTION, 0),
			    "      = OUT of 1 byte at port 0x3f8, port in DX\n");
}

static void test_instruction_information_in_words(void **state)
{
	(void)state;
	char buf[200];
	/* LIDT [RAX + RBX*4 + disp] through DS, 64-bit addresses: scaling 2,
	 * address size 2 (bits 9:7), segment 3 (17:15), index 3 (21:18), base 0 (26:23). */
	uint32_t info = 2 | 2u << 7 | 3u << 15 | 3u << 18 | 0u << 23;
	vmcs_describe_instruction_info(EXIT_REASON_GDTR_IDTR, 0, info, buf, sizeof(buf));
	assert_string_equal(buf, "memory operand DS:[RAX + RBX*4 + displacement], 64-bit address");
	/* No index (bit 22), no base (bit 27): the displacement alone, through SS, 32-bit. */
	info = 1u << 7 | 2u << 15 | 1u << 22 | 1u << 27;
	vmcs_describe_instruction_info(EXIT_REASON_VMPTRLD, 0, info, buf, sizeof(buf));
	assert_string_equal(buf, "memory operand SS:[displacement], 32-bit address");
	info = 1u << 22 | 5u << 23;	/* base RBP only, 16-bit, ES */
	vmcs_describe_instruction_info(EXIT_REASON_INVEPT, 0, info, buf, sizeof(buf));
	assert_string_equal(buf, "memory operand ES:[RBP + displacement], 16-bit address");
	/* VMREAD into a register: bit 10, the register in 6:3. */
	vmcs_describe_instruction_info(EXIT_REASON_VMREAD, 0, 1u << 10 | 9u << 3, buf, sizeof(buf));
	assert_string_equal(buf, "register operand R9");
	vmcs_describe_instruction_info(EXIT_REASON_RDRAND, 0, 2u << 3 | 2u << 11, buf, sizeof(buf));
	assert_string_equal(buf, "destination RDX, 64-bit operand");
	/* OUTS through FS with 32-bit addresses; a plain OUT has none. */
	vmcs_describe_instruction_info(EXIT_REASON_IO_INSTRUCTION, 16, 1u << 7 | 4u << 15, buf, sizeof(buf));
	assert_string_equal(buf, "32-bit address, segment FS");
	assert_int_equal(vmcs_describe_instruction_info(EXIT_REASON_IO_INSTRUCTION, 0, 0, buf, sizeof(buf)), 0);
	assert_int_equal(vmcs_describe_instruction_info(EXIT_REASON_CPUID, 0, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_short_buffers_are_cut_not_overrun(void **state)
{
	(void)state;
	char buf[8];
	memset(buf, 'x', sizeof(buf));
	int n = vmcs_describe_intr_info(0x80000b0e, buf, 5);
	assert_true(n > 5);
	assert_int_equal(strlen(buf), 4);
	assert_int_equal(buf[5], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary_controls_bit_by_bit),
		cmocka_unit_test(test_every_control_group_uses_its_own_names),
		cmocka_unit_test(test_interruption_information_in_words),
		cmocka_unit_test(test_exit_reason_in_words),
		cmocka_unit_test(test_instruction_error_in_words),
		cmocka_unit_test(test_qualifications_in_words),
		cmocka_unit_test(test_instruction_information_in_words),
		cmocka_unit_test(test_short_buffers_are_cut_not_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
