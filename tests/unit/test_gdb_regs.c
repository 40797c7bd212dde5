/* Registers through g, G, p and P, by the numbers of target.xml: the
 * layout gdb expects, x87 state from the FXSAVE image (with the full tag
 * word), refusals from the target, and malformed requests. */
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

/* Byte offsets in `g` of a few registers (gdb's amd64 layout). */
#define OFF_RAX 0
#define OFF_RBX 8
#define OFF_RIP 128
#define OFF_EFLAGS 136
#define OFF_CS 140
#define OFF_ST0 164
#define OFF_FCTRL 244
#define OFF_FTAG 252
#define OFF_XMM0 276
#define OFF_MXCSR 532
#define OFF_FS_BASE 536
#define OFF_CR0 552
#define OFF_CR8 584
#define OFF_EFER 592
#define G_BYTES 600

/* Little-endian hex of the low n bytes of v. */
static const char *le(uint64_t v, int n)
{
	static char buf[4][40];
	static int which;
	char *s = buf[which++ % 4];
	for (int i = 0; i < n; i++, v >>= 8)
		sprintf(s + 2 * i, "%02x", (unsigned)(v & 0xff));
	return s;
}

static void assert_g_field(const char *g, int offset, const char *hex)
{
	assert_memory_equal(g + 2 * offset, hex, strlen(hex));
}

static void set_st(int i, uint64_t mantissa, unsigned exponent)
{
	memcpy(fake.fx.st[i], &mantissa, 8);
	fake.fx.st[i][8] = (uint8_t)exponent;
	fake.fx.st[i][9] = (uint8_t)(exponent >> 8);
}

static void test_the_register_layout_is_gdbs_amd64_one(void **state)
{
	(void)state;
	const struct gdb_reg *gdb_regs = gdb_view_amd64.regs;
	assert_int_equal(gdb_view_amd64.count, 65);
	assert_int_equal(gdb_view_bytes(&gdb_view_amd64), G_BYTES);
	assert_string_equal(gdb_regs[16].name, "rip");
	assert_string_equal(gdb_regs[7].name, "rsp");
	assert_string_equal(gdb_regs[6].name, "rbp");
	assert_string_equal(gdb_regs[17].name, "eflags");
	assert_int_equal(gdb_regs[17].bits, 32);
	assert_string_equal(gdb_regs[24].name, "st0");
	assert_string_equal(gdb_regs[40].name, "xmm0");
	assert_string_equal(gdb_regs[56].name, "mxcsr");
	assert_string_equal(gdb_regs[57].name, "fs_base");
	assert_string_equal(gdb_regs[59].name, "cr0");
	assert_string_equal(gdb_regs[64].name, "efer");
}

static void test_g_sends_every_register_in_target_xml_order(void **state)
{
	(void)state;
	size_t len;
	fake_line_packet("g");
	fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
	const char *g = fake_line_next(&len);
	assert_non_null(g);
	assert_int_equal(len, 2 * G_BYTES);
	assert_g_field(g, OFF_RAX, le(fake.regs[0], 8));
	assert_g_field(g, OFF_RBX, le(fake.regs[3], 8));
	assert_g_field(g, OFF_RIP, le(fake.regs[TREG_RIP], 8));
	assert_g_field(g, OFF_EFLAGS, "46020000");
	assert_g_field(g, OFF_CS, "10000000");
	assert_g_field(g, OFF_FCTRL, "7f030000");
	assert_g_field(g, OFF_MXCSR, "801f0000");
	assert_g_field(g, OFF_FS_BASE, le(fake.regs[TREG_FS_BASE], 8));
	assert_g_field(g, OFF_CR0, le(0x80050033, 8));
	assert_g_field(g, OFF_EFER, le(0xd01, 8));
}

static void test_an_unreadable_register_reads_as_x_digits(void **state)
{
	(void)state;
	fake.reg_read_error[TREG_CR8] = -EIO;
	const char *g = fake_ask("g");
	assert_non_null(g);
	assert_g_field(g, OFF_CR8, "xxxxxxxxxxxxxxxx");
	assert_g_field(g, OFF_EFER, le(0xd01, 8));
	assert_string_equal(fake_ask("p3f"), "xxxxxxxxxxxxxxxx");
}

static void test_without_fpu_state_the_fpu_registers_read_as_x_digits(void **state)
{
	(void)state;
	fake.fpu_read_error = -ENODEV;
	const char *g = fake_ask("g");
	assert_non_null(g);
	assert_g_field(g, OFF_ST0, "xxxxxxxxxxxxxxxxxxxx");
	assert_g_field(g, OFF_XMM0, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_g_field(g, OFF_MXCSR, "xxxxxxxx");
	assert_g_field(g, OFF_RIP, le(fake.regs[TREG_RIP], 8));
}

static void test_g_with_arguments_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("g0"), "E22");
}

static void test_p_reads_one_register_by_its_number(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("p0"), le(fake.regs[0], 8));
	assert_string_equal(fake_ask("p7"), le(fake.regs[4], 8));
	assert_string_equal(fake_ask("p10"), le(fake.regs[TREG_RIP], 8));
	assert_string_equal(fake_ask("p11"), "46020000");
	assert_string_equal(fake_ask("p3d"), le(fake.regs[TREG_CR3], 8));
}

static void test_p_reads_x87_and_sse_registers_from_the_fxsave_image(void **state)
{
	(void)state;
	set_st(0, 0x8000000000000000ull, 0x3fff);	/* 1.0 */
	memset(fake.fx.xmm[15], 0xab, 16);
	fake.fx.fop = 0xf8d9;	/* bits 15:11 are not part of the opcode */
	assert_string_equal(fake_ask("p18"), "0000000000000080ff3f");	/* st0 */
	assert_string_equal(fake_ask("p27"), "d9000000");		/* fop */
	assert_string_equal(fake_ask("p37"), "abababababababababababababababab");	/* xmm15 */
	assert_string_equal(fake_ask("p38"), "801f0000");		/* mxcsr */
}

static void test_ftag_is_the_full_tag_word_derived_from_the_contents(void **state)
{
	(void)state;
	set_st(0, 0x8000000000000000ull, 0x3fff);	/* valid */
	set_st(1, 0, 0);				/* zero */
	set_st(2, 1, 0);				/* denormal: special */
	set_st(3, 0xc000000000000000ull, 0x7fff);	/* NaN: special */
	set_st(4, 0x4000000000000000ull, 0x3fff);	/* unnormal: special */
	fake.fx.ftw = 0x1f;
	/* p0 valid 00, p1 zero 01, p2 special 10, p3 10, p4 10, p5-7 empty 11 */
	assert_string_equal(fake_ask("p22"), le(0xfea4, 4));
}

static void test_ftag_maps_physical_registers_through_the_stack_top(void **state)
{
	(void)state;
	fake.fx.fsw = 6 << 11;				/* TOP = 6 */
	set_st(0, 0, 0);				/* st0 is physical register 6 */
	fake.fx.ftw = 1 << 6;
	assert_string_equal(fake_ask("p22"), le(0xdfff, 4));	/* p6 zero, the rest empty */
}

static void test_P_turns_ftag_back_into_the_abridged_tag(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("P22=f0ff0000"), "OK");
	assert_int_equal(fake.fx.ftw, 0x03);
	assert_int_equal(fake.fpu_writes, 1);
}

static void test_p_of_an_unknown_register_or_bad_hex_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("p41"), "E22");
	assert_string_equal(fake_ask("pzz"), "E22");
	assert_string_equal(fake_ask("p"), "E22");
	assert_string_equal(fake_ask("p10x"), "E22");
	assert_string_equal(fake_ask("p00000000000000010"), "E22");
}

static void test_P_writes_a_general_register(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("P0=efbeadde00000000"), "OK");
	assert_int_equal(fake.regs[0], 0xdeadbeef);
	assert_string_equal(fake_ask("P11=02000000"), "OK");
	assert_int_equal(fake.regs[TREG_RFLAGS], 2);
}

static void test_P_with_a_value_of_the_wrong_size_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("P0=1234"), "E22");
	assert_string_equal(fake_ask("P0=efbeadde0000000000"), "E22");
	assert_string_equal(fake_ask("P0=efbeaddeZZ000000"), "E22");
	assert_string_equal(fake_ask("P0efbeadde00000000"), "E22");
	assert_string_equal(fake_ask("P41=efbeadde00000000"), "E22");
	assert_int_equal(fake.reg_writes, 0);
}

static void test_P_that_the_target_refuses_is_E01_unless_nothing_changes(void **state)
{
	(void)state;
	char pkt[64];
	assert_string_equal(fake_ask("P3b=1100000000000000"), "E01");
	snprintf(pkt, sizeof(pkt), "P3b=%s", le(0x80050033, 8));
	assert_string_equal(fake_ask(pkt), "OK");
	assert_int_equal(fake.regs[TREG_CR0], 0x80050033);
}

static void test_P_to_mxcsr_refuses_reserved_bits(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("P38=00000100"), "E22");
	fake.fx.mxcsr_mask = 0;	/* the default mask, 0xffbf: DAZ reserved */
	assert_string_equal(fake_ask("P38=c01f0000"), "E22");
	assert_string_equal(fake_ask("P38=801f0000"), "OK");
	assert_int_equal(fake.fpu_writes, 0);	/* unchanged: nothing written */
	assert_string_equal(fake_ask("P38=00010000"), "OK");
	assert_int_equal(fake.fx.mxcsr, 0x100);
}

static void test_P_to_st0_writes_the_fpu_state_once(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("P18=00000000000000c0ff3f"), "OK");
	assert_int_equal(fake.fpu_writes, 1);
	assert_int_equal(fake.fx.st[0][7], 0xc0);
	assert_int_equal(fake.fx.st[0][9], 0x3f);
}

static void test_P_fails_when_the_fpu_state_cannot_be_read(void **state)
{
	(void)state;
	fake.fpu_read_error = -ENODEV;
	assert_string_equal(fake_ask("P18=00000000000000c0ff3f"), "E19");
}

/* The `g` reply with one field replaced. */
static char *g_with(int offset, const char *hex)
{
	static char pkt[2 * G_BYTES + 2];
	const char *g = fake_ask("g");
	assert_non_null(g);
	pkt[0] = 'G';
	memcpy(pkt + 1, g, 2 * G_BYTES + 1);
	if (hex)
		memcpy(pkt + 1 + 2 * offset, hex, strlen(hex));
	return pkt;
}

static void test_G_writes_back_only_what_changed(void **state)
{
	(void)state;
	char *pkt = g_with(OFF_RAX, "0100000000000000");
	memcpy(pkt + 1 + 2 * OFF_XMM0, "ff", 2);
	assert_string_equal(fake_ask(pkt), "OK");
	assert_int_equal(fake.regs[0], 1);
	assert_int_equal(fake.reg_writes, 1);
	assert_int_equal(fake.fpu_writes, 1);
	assert_int_equal(fake.fx.xmm[0][0], 0xff);
}

static void test_G_of_an_unchanged_g_writes_nothing(void **state)
{
	(void)state;
	assert_string_equal(fake_ask(g_with(0, NULL)), "OK");
	assert_int_equal(fake.reg_writes, 0);
	assert_int_equal(fake.fpu_writes, 0);
}

static void test_G_of_the_wrong_length_is_E22(void **state)
{
	(void)state;
	char *pkt = g_with(0, NULL);
	pkt[strlen(pkt) - 2] = 0;
	assert_string_equal(fake_ask(pkt), "E22");
	assert_string_equal(fake_ask("G"), "E22");
}

static void test_G_with_bad_hex_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask(g_with(OFF_RBX, "zz")), "E22");
}

static void test_G_that_changes_a_refused_register_is_E01(void **state)
{
	(void)state;
	assert_string_equal(fake_ask(g_with(OFF_CR0, "11")), "E01");
}

static void test_target_xml_numbers_every_register_as_g_lays_them_out(void **state)
{
	(void)state;
	const struct gdb_reg *gdb_regs = gdb_view_amd64.regs;
	size_t len;
	const char *xml = gdb_target_xml(&gdb_view_amd64, &len);
	char want[160];

	assert_non_null(xml);
	assert_int_equal(strlen(xml), len);
	assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	for (unsigned n = 0; n < gdb_view_amd64.count; n++) {
		snprintf(want, sizeof(want), "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
			 gdb_regs[n].name, gdb_regs[n].bits, gdb_regs[n].type, n);
		assert_non_null(strstr(xml, want));
	}
	const char *core = strstr(xml, "org.gnu.gdb.i386.core"), *sse = strstr(xml, "org.gnu.gdb.i386.sse");
	const char *seg = strstr(xml, "org.gnu.gdb.i386.segments"), *sys = strstr(xml, "org.vmxdbg.system");
	assert_true(core && sse && seg && sys && core < sse && sse < seg && seg < sys);
	assert_true(strstr(xml, "name=\"fs_base\"") > seg && strstr(xml, "name=\"cr3\"") > sys);
}

static void test_target_xml_defines_every_type_it_uses(void **state)
{
	(void)state;
	static const char *const predefined[] = { "int", "int32", "int64", "code_ptr", "data_ptr",
						  "i387_ext" };
	const struct gdb_reg *gdb_regs = gdb_view_amd64.regs;
	size_t len;
	const char *xml = gdb_target_xml(&gdb_view_amd64, &len);
	char want[80];

	for (unsigned n = 0; n < gdb_view_amd64.count; n++) {
		bool known = false;
		for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
			known |= strcmp(gdb_regs[n].type, predefined[i]) == 0;
		if (known)
			continue;
		snprintf(want, sizeof(want), "id=\"%s\"", gdb_regs[n].type);
		assert_non_null(strstr(xml, want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_the_register_layout_is_gdbs_amd64_one, fake_setup),
		cmocka_unit_test_setup(test_g_sends_every_register_in_target_xml_order, fake_setup),
		cmocka_unit_test_setup(test_an_unreadable_register_reads_as_x_digits, fake_setup),
		cmocka_unit_test_setup(test_without_fpu_state_the_fpu_registers_read_as_x_digits, fake_setup),
		cmocka_unit_test_setup(test_g_with_arguments_is_E22, fake_setup),
		cmocka_unit_test_setup(test_p_reads_one_register_by_its_number, fake_setup),
		cmocka_unit_test_setup(test_p_reads_x87_and_sse_registers_from_the_fxsave_image, fake_setup),
		cmocka_unit_test_setup(test_ftag_is_the_full_tag_word_derived_from_the_contents, fake_setup),
		cmocka_unit_test_setup(test_ftag_maps_physical_registers_through_the_stack_top, fake_setup),
		cmocka_unit_test_setup(test_P_turns_ftag_back_into_the_abridged_tag, fake_setup),
		cmocka_unit_test_setup(test_p_of_an_unknown_register_or_bad_hex_is_E22, fake_setup),
		cmocka_unit_test_setup(test_P_writes_a_general_register, fake_setup),
		cmocka_unit_test_setup(test_P_with_a_value_of_the_wrong_size_is_E22, fake_setup),
		cmocka_unit_test_setup(test_P_that_the_target_refuses_is_E01_unless_nothing_changes, fake_setup),
		cmocka_unit_test_setup(test_P_to_mxcsr_refuses_reserved_bits, fake_setup),
		cmocka_unit_test_setup(test_P_to_st0_writes_the_fpu_state_once, fake_setup),
		cmocka_unit_test_setup(test_P_fails_when_the_fpu_state_cannot_be_read, fake_setup),
		cmocka_unit_test_setup(test_G_writes_back_only_what_changed, fake_setup),
		cmocka_unit_test_setup(test_G_of_an_unchanged_g_writes_nothing, fake_setup),
		cmocka_unit_test_setup(test_G_of_the_wrong_length_is_E22, fake_setup),
		cmocka_unit_test_setup(test_G_with_bad_hex_is_E22, fake_setup),
		cmocka_unit_test_setup(test_G_that_changes_a_refused_register_is_E01, fake_setup),
		cmocka_unit_test_setup(test_target_xml_numbers_every_register_as_g_lays_them_out, fake_setup),
		cmocka_unit_test_setup(test_target_xml_defines_every_type_it_uses, fake_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
