/* The register views: the view follows the image the guest was loaded
 * from (a 64-bit ELF or Linux amd64 even in 32-bit mode, a 32-bit ELF or
 * a.out i386); a target that cannot tell decides by mode: outside 64-bit
 * mode gdb's i386 description (its own numbering for g/G/p/P and the stop
 * replies, 32-bit registers truncated from and zero-extended into the
 * target's 64-bit ones); the view is chosen once per connection; `monitor
 * arch` forces one for the next connection; stop replies expedite nothing
 * before gdb has read target.xml. */
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

/* Byte offsets in an i386 `g` (gdb's 32-bit layout). */
#define OFF_EAX 0
#define OFF_ESP 16
#define OFF_EBP 20
#define OFF_EIP 32
#define OFF_EFLAGS 36
#define OFF_CS 40
#define OFF_ST0 64
#define OFF_FCTRL 144
#define OFF_XMM0 176
#define OFF_XMM7 288
#define OFF_MXCSR 304
#define OFF_CR0 308
#define OFF_EFER 348
#define G_BYTES_I386 356
#define G_BYTES_AMD64 600

static const char *le(uint64_t v, int n)
{
	static char buf[4][40];
	static int which;
	char *s = buf[which++ % 4];
	for (int i = 0; i < n; i++, v >>= 8)
		sprintf(s + 2 * i, "%02x", (unsigned)(v & 0xff));
	return s;
}

static int setup_protected(void **state)
{
	fake_setup(state);
	fake_set_mode(FAKE_MODE_PROTECTED);
	return 0;
}

/* The whole target.xml the connection gets, through qXfer. */
static const char *target_xml(void)
{
	static char doc[16384];
	char pkt[64];
	size_t total = 0;
	for (;;) {
		size_t len;
		snprintf(pkt, sizeof(pkt), "qXfer:features:read:target.xml:%zx,1000", total);
		fake_line_packet(pkt);
		fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
		const char *r = fake_line_next(&len);
		assert_non_null(r);
		for (size_t i = 1; i < len; i++) {
			char c = r[i] == '}' ? r[++i] ^ 0x20 : r[i];
			assert_true(total + 1 < sizeof(doc));
			doc[total++] = c;
		}
		if (r[0] == 'l')
			break;
		assert_true(r[0] == 'm');
	}
	doc[total] = 0;
	return doc;
}

/* `monitor text`: the console output, decoded; checks the closing OK. */
static const char *monitor(const char *text)
{
	static char out[4096];
	char pkt[512] = "qRcmd,";
	size_t n = 0;

	for (size_t i = 0; text[i]; i++)
		sprintf(pkt + 6 + 2 * i, "%02x", (unsigned char)text[i]);
	fake_line_packet(pkt);
	fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
	const char *r;
	while ((r = fake_line_next(NULL)) != NULL && r[0] == 'O' && strcmp(r, "OK") != 0) {
		for (size_t i = 1; r[i] && r[i + 1] && n + 1 < sizeof(out); i += 2) {
			unsigned b;
			sscanf(r + i, "%2x", &b);
			out[n++] = (char)b;
		}
	}
	assert_non_null(r);
	assert_string_equal(r, "OK");
	out[n] = 0;
	return out;
}

static size_t g_len(void)
{
	size_t len;
	fake_line_packet("g");
	fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
	assert_non_null(fake_line_next(&len));
	return len / 2;
}

static void test_the_i386_layout_is_gdbs_32bit_one(void **state)
{
	(void)state;
	const struct gdb_reg *r = gdb_view_i386.regs;
	static const char *const core[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
					    "eip", "eflags", "cs", "ss", "ds", "es", "fs", "gs" };
	for (unsigned i = 0; i < 16; i++) {
		assert_string_equal(r[i].name, core[i]);
		assert_int_equal(r[i].bits, 32);
	}
	assert_string_equal(r[16].name, "st0");
	assert_string_equal(r[24].name, "fctrl");
	assert_string_equal(r[31].name, "fop");
	assert_string_equal(r[32].name, "xmm0");
	assert_string_equal(r[39].name, "xmm7");
	assert_string_equal(r[40].name, "mxcsr");
	assert_string_equal(r[41].name, "cr0");
	assert_string_equal(r[46].name, "efer");
	assert_int_equal(gdb_view_i386.count, 47);
	assert_int_equal(gdb_view_bytes(&gdb_view_i386), G_BYTES_I386);
	/* ebp, esp, eip: what a stop reply expedites */
	assert_memory_equal(gdb_view_i386.expedite, ((uint8_t[]){ 5, 4, 8 }), 3);
	assert_memory_equal(gdb_view_amd64.expedite, ((uint8_t[]){ 6, 7, 16 }), 3);
}

static void test_a_guest_in_protected_mode_is_described_as_i386(void **state)
{
	(void)state;
	const char *xml = target_xml();
	char want[160];

	assert_non_null(strstr(xml, "<architecture>i386</architecture>"));
	for (unsigned n = 0; n < gdb_view_i386.count; n++) {
		const struct gdb_reg *r = &gdb_view_i386.regs[n];
		snprintf(want, sizeof(want), "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
			 r->name, r->bits, r->type, n);
		assert_non_null(strstr(xml, want));
	}
	const char *core = strstr(xml, "org.gnu.gdb.i386.core"), *sse = strstr(xml, "org.gnu.gdb.i386.sse");
	const char *sys = strstr(xml, "org.vmxdbg.system");
	assert_true(core && sse && sys && core < sse && sse < sys);
	assert_null(strstr(xml, "org.gnu.gdb.i386.segments"));
	assert_null(strstr(xml, "\"rip\""));
	assert_null(strstr(xml, "\"r8\""));
	assert_null(strstr(xml, "\"xmm8\""));
	assert_non_null(strstr(xml, "<flags id=\"i386_eflags\""));
	assert_non_null(strstr(xml, "<flags id=\"i386_mxcsr\""));
	assert_non_null(strstr(xml, "<union id=\"vec128\""));
	assert_non_null(strstr(xml, "<flags id=\"vmxdbg_cr0\""));
}

static void test_i386_g_truncates_the_64bit_registers(void **state)
{
	(void)state;
	fake.regs[0] = 0x1122334455667788ull;
	fake.regs[TREG_RIP] = 0xffffffff00401000ull;
	const char *g = fake_ask("g");
	assert_non_null(g);
	assert_int_equal(strlen(g), 2 * G_BYTES_I386);
	assert_memory_equal(g + 2 * OFF_EAX, "88776655", 8);
	assert_memory_equal(g + 2 * OFF_ESP, le(fake.regs[4], 4), 8);
	assert_memory_equal(g + 2 * OFF_EBP, le(fake.regs[5], 4), 8);
	assert_memory_equal(g + 2 * OFF_EIP, "00104000", 8);
	assert_memory_equal(g + 2 * OFF_EFLAGS, "46020000", 8);
	assert_memory_equal(g + 2 * OFF_CS, "10000000", 8);
	assert_memory_equal(g + 2 * OFF_FCTRL, "7f030000", 8);
	assert_memory_equal(g + 2 * OFF_MXCSR, "801f0000", 8);
	assert_memory_equal(g + 2 * OFF_CR0, le(0x80050033, 8), 16);
	assert_memory_equal(g + 2 * OFF_EFER, le(0, 8), 16);
}

static void test_i386_p_reads_by_the_32bit_numbers(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("p0"), le(fake.regs[0], 4));
	assert_string_equal(fake_ask("p3"), le(fake.regs[3], 4));	/* ebx */
	assert_string_equal(fake_ask("p4"), le(fake.regs[4], 4));	/* esp */
	assert_string_equal(fake_ask("p8"), le(fake.regs[TREG_RIP], 4));
	assert_string_equal(fake_ask("p9"), "46020000");
	memset(fake.fx.xmm[7], 0xcd, 16);
	assert_string_equal(fake_ask("p27"), "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");	/* xmm7 */
	assert_string_equal(fake_ask("p28"), "801f0000");				/* mxcsr */
	assert_string_equal(fake_ask("p2b"), le(fake.regs[TREG_CR3], 8));		/* cr3 */
	assert_string_equal(fake_ask("p2f"), "E22");	/* one past efer */
}

static void test_i386_P_zero_extends_into_the_64bit_register(void **state)
{
	(void)state;
	fake.regs[0] = 0xffffffff00000000ull;
	assert_string_equal(fake_ask("P0=efbeadde"), "OK");
	assert_int_equal(fake.regs[0], 0xdeadbeef);
	assert_string_equal(fake_ask("P8=20004000"), "OK");
	assert_int_equal(fake.regs[TREG_RIP], 0x400020);
	assert_string_equal(fake_ask("P0=efbeadde00000000"), "E22");	/* 64 bits: not this view */
}

static void test_i386_G_of_an_unchanged_g_keeps_the_upper_halves(void **state)
{
	(void)state;
	static char pkt[2 * G_BYTES_I386 + 2];
	fake.regs[1] = 0xaaaaaaaa00000001ull;
	const char *g = fake_ask("g");
	assert_non_null(g);
	pkt[0] = 'G';
	memcpy(pkt + 1, g, 2 * G_BYTES_I386 + 1);
	assert_string_equal(fake_ask(pkt), "OK");
	assert_int_equal(fake.reg_writes, 0);
	assert_int_equal(fake.regs[1], 0xaaaaaaaa00000001ull);
	memcpy(pkt + 1 + 2 * OFF_EAX, "02000000", 8);
	assert_string_equal(fake_ask(pkt), "OK");
	assert_int_equal(fake.reg_writes, 1);
	assert_int_equal(fake.regs[0], 2);
	pkt[strlen(pkt) - 2] = 0;
	assert_string_equal(fake_ask(pkt), "E22");
}

static void test_i386_stop_replies_expedite_ebp_esp_eip(void **state)
{
	(void)state;
	char want[128];
	snprintf(want, sizeof(want), "T05thread:01;core:0;05:%s;04:%s;08:%s;", le(fake.regs[5], 4),
		 le(fake.regs[4], 4), le(fake.regs[TREG_RIP], 4));
	target_xml();
	assert_string_equal(fake_ask("?"), want);
}

/* gdb reads target.xml before `?`; one that has not (or cannot) must not
 * get registers sized by a layout it never accepted. */
static void test_before_target_xml_a_stop_reply_expedites_nothing(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("?"), "T05thread:01;core:0;");
	target_xml();
	assert_non_null(strstr(fake_ask("?"), ";08:"));
	fake_ask("qSupported");		/* a new gdb: not agreed yet */
	assert_string_equal(fake_ask("?"), "T05thread:01;core:0;");
}

/* The case: `file guest64.elf` then `target remote` while the
 * guest still runs its 32-bit entry: gdb needs amd64, whatever the mode. */
static void test_a_64bit_elf_gets_amd64_even_in_32bit_mode(void **state)
{
	(void)state;
	fake.image = TARGET_IMAGE_ELF64;
	assert_non_null(strstr(target_xml(), "<architecture>i386:x86-64</architecture>"));
	assert_int_equal(g_len(), G_BYTES_AMD64);
	/* The 32-bit state shows in 64-bit registers, upper halves zero. */
	char want[64];
	snprintf(want, sizeof(want), "10:%s;", le(fake.regs[TREG_RIP], 8));
	assert_non_null(strstr(fake_ask("?"), want));
}

static void test_linux_gets_amd64_in_any_mode(void **state)
{
	(void)state;
	fake.image = TARGET_IMAGE_LINUX;
	assert_int_equal(g_len(), G_BYTES_AMD64);
}

static void test_a_32bit_elf_or_aout_gets_i386_even_in_64bit_mode(void **state)
{
	(void)state;
	fake_set_mode(FAKE_MODE_64BIT);
	fake.image = TARGET_IMAGE_ELF32;
	assert_int_equal(g_len(), G_BYTES_I386);
	fake.image = TARGET_IMAGE_AOUT;
	fake_ask("qSupported");
	assert_int_equal(g_len(), G_BYTES_I386);
}

static void test_monitor_arch_overrides_the_image(void **state)
{
	(void)state;
	fake.image = TARGET_IMAGE_ELF64;
	monitor("arch i386");
	assert_int_equal(g_len(), G_BYTES_I386);
	assert_non_null(strstr(monitor("arch"), "the guest was loaded from a 64-bit ELF and is not in IA-32e "
						"mode (EFER.LMA=0): auto gives amd64\n"));
}

static void test_compatibility_mode_gets_the_i386_view(void **state)
{
	(void)state;
	fake_set_mode(FAKE_MODE_COMPAT);
	assert_non_null(strstr(target_xml(), "<architecture>i386</architecture>"));
	assert_int_equal(g_len(), G_BYTES_I386);
}

static void test_64bit_mode_gets_the_amd64_view(void **state)
{
	(void)state;
	fake_set_mode(FAKE_MODE_64BIT);
	assert_non_null(strstr(target_xml(), "<architecture>i386:x86-64</architecture>"));
	assert_int_equal(g_len(), G_BYTES_AMD64);
}

static void test_a_target_that_cannot_read_efer_gets_amd64(void **state)
{
	(void)state;
	fake.reg_read_error[TREG_EFER] = -EIO;
	assert_int_equal(g_len(), G_BYTES_AMD64);
}

/* EFER.LMA=1 and no CS access rights to read: 64-bit, LMA's best guess. */
static void test_lma_without_cs_access_rights_gets_amd64(void **state)
{
	(void)state;
	fake_set_mode(FAKE_MODE_COMPAT);
	for (int i = 0; i < FAKE_VMCS_FIELDS; i++)
		if (fake.vmcs[i].name && !strcmp(fake.vmcs[i].name, "GUEST_CS_ACCESS_RIGHTS"))
			fake.vmcs[i].name = NULL;
	assert_non_null(strstr(monitor("arch"), "is in 64-bit mode: auto gives amd64\n"));
	assert_int_equal(g_len(), G_BYTES_AMD64);
}

static void test_monitor_arch_says_when_the_mode_cannot_be_told(void **state)
{
	(void)state;
	fake.reg_read_error[TREG_EFER] = -EIO;
	assert_non_null(strstr(monitor("arch"), "the guest was loaded from an image the target cannot tell "
					       "and is in a mode the target cannot tell: auto gives amd64\n"));
}

/* An image kind past the table (a newer target): described as unknown, never read past. */
static void test_an_image_kind_past_the_table_is_an_image_the_target_cannot_tell(void **state)
{
	(void)state;
	fake.image = (enum target_image)99;
	assert_non_null(strstr(monitor("arch"), "the guest was loaded from an image the target cannot tell "
					       "and is not in IA-32e mode (EFER.LMA=0): auto gives i386\n"));
}

static void test_without_target_xml_the_first_g_chooses_the_view(void **state)
{
	(void)state;
	assert_int_equal(g_len(), G_BYTES_I386);
	fake_set_mode(FAKE_MODE_64BIT);
	assert_int_equal(g_len(), G_BYTES_I386);
}

static void test_the_view_stays_for_the_connection_when_the_guest_enters_long_mode(void **state)
{
	(void)state;
	target_xml();
	fake_set_mode(FAKE_MODE_64BIT);
	fake.regs[TREG_RIP] = 0xffffffff80001234ull;
	assert_int_equal(g_len(), G_BYTES_I386);
	assert_non_null(strstr(fake_ask("?"), ";08:34120080;"));
	assert_non_null(strstr(target_xml(), "<architecture>i386</architecture>"));
}

static void test_a_new_connection_chooses_again(void **state)
{
	(void)state;
	target_xml();
	fake_set_mode(FAKE_MODE_64BIT);
	fake_ask("qSupported:swbreak+");
	assert_non_null(strstr(target_xml(), "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(fake_ask("?"), ";10:"));
}

static void test_after_detach_the_next_gdb_chooses_again(void **state)
{
	(void)state;
	assert_int_equal(g_len(), G_BYTES_I386);
	fake_set_mode(FAKE_MODE_64BIT);
	fake_line_packet("D");
	fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
	fake_line_next(NULL);
	assert_int_equal(g_len(), G_BYTES_AMD64);
}

static void test_monitor_arch_says_the_setting_the_view_and_why(void **state)
{
	(void)state;
	assert_string_equal(monitor("arch"),
			    "arch: auto; this connection has no view yet\n"
			    "the guest was loaded from an image the target cannot tell and is not in IA-32e "
			    "mode (EFER.LMA=0): auto gives i386\n");
	target_xml();
	assert_non_null(strstr(monitor("arch"), "arch: auto; this connection has the i386 view\n"));
	fake_set_mode(FAKE_MODE_COMPAT);
	assert_non_null(strstr(monitor("arch"),
			       "is in compatibility mode (EFER.LMA=1, CS.L=0): auto gives i386\n"));
	fake_set_mode(FAKE_MODE_64BIT);
	assert_non_null(strstr(monitor("arch"), "is in 64-bit mode: auto gives amd64\n"));
}

static void test_monitor_arch_before_a_view_applies_at_once(void **state)
{
	(void)state;
	assert_non_null(strstr(monitor("arch amd64"), "arch: amd64; this connection has no view yet\n"));
	assert_non_null(strstr(target_xml(), "<architecture>i386:x86-64</architecture>"));
	assert_int_equal(g_len(), G_BYTES_AMD64);
}

static void test_monitor_arch_changes_the_view_at_the_next_connection(void **state)
{
	(void)state;
	target_xml();
	assert_string_equal(monitor("arch amd64"),
			    "arch: amd64 from the next connection; this one keeps the i386 view gdb "
			    "already numbers the registers by: `disconnect`, then `target remote` again\n");
	assert_int_equal(g_len(), G_BYTES_I386);
	fake_ask("qSupported");
	assert_non_null(strstr(target_xml(), "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(fake_ask("?"), ";07:"));
	/* Forced: it stays amd64 for every later connection, whatever the mode. */
	fake_ask("qSupported");
	assert_int_equal(g_len(), G_BYTES_AMD64);
	assert_non_null(strstr(monitor("arch auto"), "arch: auto from the next connection"));
	fake_ask("qSupported");
	assert_int_equal(g_len(), G_BYTES_I386);
}

static void test_monitor_arch_i386_forces_i386_on_a_64bit_guest(void **state)
{
	(void)state;
	fake_set_mode(FAKE_MODE_64BIT);
	monitor("arch i386");
	assert_non_null(strstr(target_xml(), "<architecture>i386</architecture>"));
	assert_string_equal(monitor("arch i386"),
			    "arch: i386; this connection has the i386 view\n"
			    "the guest was loaded from an image the target cannot tell and is in 64-bit mode: "
			    "auto gives amd64\n");
}

static void test_monitor_arch_with_another_word_shows_usage(void **state)
{
	(void)state;
	assert_string_equal(monitor("arch x86_64"), "usage: monitor arch [i386|amd64|auto]\n");
	assert_string_equal(monitor("arch amd64 now"), "usage: monitor arch [i386|amd64|auto]\n");
	assert_int_equal(gdb_stub0.arch, GDB_ARCH_AUTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_the_i386_layout_is_gdbs_32bit_one, setup_protected),
		cmocka_unit_test_setup(test_a_guest_in_protected_mode_is_described_as_i386, setup_protected),
		cmocka_unit_test_setup(test_i386_g_truncates_the_64bit_registers, setup_protected),
		cmocka_unit_test_setup(test_i386_p_reads_by_the_32bit_numbers, setup_protected),
		cmocka_unit_test_setup(test_i386_P_zero_extends_into_the_64bit_register, setup_protected),
		cmocka_unit_test_setup(test_i386_G_of_an_unchanged_g_keeps_the_upper_halves, setup_protected),
		cmocka_unit_test_setup(test_i386_stop_replies_expedite_ebp_esp_eip, setup_protected),
		cmocka_unit_test_setup(test_before_target_xml_a_stop_reply_expedites_nothing, setup_protected),
		cmocka_unit_test_setup(test_a_64bit_elf_gets_amd64_even_in_32bit_mode, setup_protected),
		cmocka_unit_test_setup(test_linux_gets_amd64_in_any_mode, setup_protected),
		cmocka_unit_test_setup(test_a_32bit_elf_or_aout_gets_i386_even_in_64bit_mode, setup_protected),
		cmocka_unit_test_setup(test_monitor_arch_overrides_the_image, setup_protected),
		cmocka_unit_test_setup(test_compatibility_mode_gets_the_i386_view, setup_protected),
		cmocka_unit_test_setup(test_64bit_mode_gets_the_amd64_view, setup_protected),
		cmocka_unit_test_setup(test_a_target_that_cannot_read_efer_gets_amd64, setup_protected),
		cmocka_unit_test_setup(test_lma_without_cs_access_rights_gets_amd64, setup_protected),
		cmocka_unit_test_setup(test_monitor_arch_says_when_the_mode_cannot_be_told, setup_protected),
		cmocka_unit_test_setup(test_an_image_kind_past_the_table_is_an_image_the_target_cannot_tell,
				       setup_protected),
		cmocka_unit_test_setup(test_without_target_xml_the_first_g_chooses_the_view, setup_protected),
		cmocka_unit_test_setup(test_the_view_stays_for_the_connection_when_the_guest_enters_long_mode,
				       setup_protected),
		cmocka_unit_test_setup(test_a_new_connection_chooses_again, setup_protected),
		cmocka_unit_test_setup(test_after_detach_the_next_gdb_chooses_again, setup_protected),
		cmocka_unit_test_setup(test_monitor_arch_says_the_setting_the_view_and_why, setup_protected),
		cmocka_unit_test_setup(test_monitor_arch_before_a_view_applies_at_once, setup_protected),
		cmocka_unit_test_setup(test_monitor_arch_changes_the_view_at_the_next_connection,
				       setup_protected),
		cmocka_unit_test_setup(test_monitor_arch_i386_forces_i386_on_a_64bit_guest, setup_protected),
		cmocka_unit_test_setup(test_monitor_arch_with_another_word_shows_usage, setup_protected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
