/* The hypervisor command line: defaults, every option, and bad input that
 * must leave a clear warning and a working configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "platform/cmdline.h"

static struct hv_config cfg;

static void parse(const char *s)
{
	cmdline_defaults(&cfg);
	cmdline_parse(s, &cfg);
}

static void test_defaults_are_console_com1_and_gdb_com2_at_115200(void **state)
{
	(void)state;
	parse("");
	assert_true(cfg.console.enabled);
	assert_int_equal(cfg.console.port, 0x3f8);
	assert_int_equal(cfg.console.baud, 115200);
	assert_string_equal(cfg.console.name, "com1");
	assert_int_equal(cfg.gdb.port, 0x2f8);
	assert_false(cfg.gdb_wait);
	assert_int_equal(cfg.loglevel, LOG_INFO);
	assert_int_equal(cfg.panic, PANIC_HALT);
	assert_true(cfg.e9);
	assert_false(cfg.trace_off);
	assert_int_equal(cfg.nwarnings, 0);
}

static void test_every_option_is_applied(void **state)
{
	(void)state;
	parse("  console=COM3,9600 gdb=0x2e8,57600\tgdb-wait loglevel=debug panic=poweroff e9=off trace=off selftest=pagefault ");
	assert_int_equal(cfg.console.port, 0x3e8);
	assert_int_equal(cfg.console.baud, 9600);
	assert_string_equal(cfg.console.name, "com3");
	assert_int_equal(cfg.gdb.port, 0x2e8);
	assert_int_equal(cfg.gdb.baud, 57600);
	assert_string_equal(cfg.gdb.name, "0x2e8");
	assert_true(cfg.gdb_wait);
	assert_int_equal(cfg.loglevel, LOG_DEBUG);
	assert_int_equal(cfg.panic, PANIC_POWEROFF);
	assert_false(cfg.e9);
	assert_true(cfg.trace_off);
	assert_string_equal(cfg.selftest, "pagefault");
	assert_int_equal(cfg.nwarnings, 0);
}

static void test_an_unknown_option_is_named_and_ignored(void **state)
{
	(void)state;
	parse("frobnicate=1 loglevel=warn");
	assert_int_equal(cfg.nwarnings, 1);
	assert_string_equal(cfg.warnings[0], "cmdline: unknown option \"frobnicate\" ignored");
	assert_int_equal(cfg.loglevel, LOG_WARN);
}

static void test_apic_chooses_pass_through_or_the_virtual_apic(void **state)
{
	(void)state;
	parse("");
	assert_false(cfg.apic_virtual);
	parse("apic=virtual");
	assert_true(cfg.apic_virtual);
	parse("apic=virtual apic=passthrough");
	assert_false(cfg.apic_virtual);
	parse("apic=posted");
	assert_false(cfg.apic_virtual);
	assert_string_equal(cfg.warnings[0], "cmdline: bad value \"posted\" for apic=, using passthrough");
}

static void test_sipi_chooses_the_software_or_the_native_path(void **state)
{
	(void)state;
	parse("");
	assert_false(cfg.sipi_native);
	parse("sipi=native");
	assert_true(cfg.sipi_native);
	parse("sipi=native sipi=software");
	assert_false(cfg.sipi_native);
	parse("sipi=magic");
	assert_false(cfg.sipi_native);
	assert_string_equal(cfg.warnings[0], "cmdline: bad value \"magic\" for sipi=, using software");
}

static void test_selftest_takes_its_four_names_only(void **state)
{
	(void)state;
	parse("selftest=mtf-tf");
	assert_string_equal(cfg.selftest, "mtf-tf");
	assert_int_equal(cfg.nwarnings, 0);
	parse("selftest=mtf");
	assert_string_equal(cfg.selftest, "");
	assert_int_equal(cfg.nwarnings, 1);
}

static void test_a_bad_console_keeps_the_default_and_says_so(void **state)
{
	(void)state;
	parse("console=com9");
	assert_int_equal(cfg.console.port, 0x3f8);
	assert_string_equal(cfg.warnings[0], "cmdline: bad value \"com9\" for console=, using com1");
}

static void test_a_bad_value_names_the_setting_still_in_force(void **state)
{
	(void)state;
	parse("gdb=com4 gdb=com4,1234 loglevel=loud");
	assert_int_equal(cfg.gdb.port, 0x2e8);
	assert_int_equal(cfg.nwarnings, 2);
	assert_string_equal(cfg.warnings[0], "cmdline: bad value \"com4,1234\" for gdb=, using com4");
	assert_string_equal(cfg.warnings[1], "cmdline: bad value \"loud\" for loglevel=, using info");
}

static void test_serial_values(void **state)
{
	(void)state;
	struct serial_cfg s;
	assert_true(cmdline_parse_serial("none", &s));
	assert_false(s.enabled);
	assert_true(cmdline_parse_serial("com2,115200", &s));
	assert_int_equal(s.port, 0x2f8);
	assert_false(cmdline_parse_serial("com0", &s));
	assert_false(cmdline_parse_serial("com1,0", &s));
	assert_false(cmdline_parse_serial("com1,abc", &s));
	assert_false(cmdline_parse_serial("com1,", &s));
	assert_false(cmdline_parse_serial("com1,7", &s));	/* 115200/7 is not whole */
	assert_false(cmdline_parse_serial("0x", &s));
	assert_false(cmdline_parse_serial("0xfffff", &s));
	assert_false(cmdline_parse_serial("0x0", &s));
	assert_false(cmdline_parse_serial("", &s));
	assert_false(cmdline_parse_serial("com12", &s));
}

static void test_lua_limits_take_sizes_and_refuse_nonsense(void **state)
{
	(void)state;
	parse("lua-heap=8M lua-budget=5000 lua-ticks=50000000");
	assert_int_equal(cfg.lua_heap, 8u << 20);
	assert_int_equal(cfg.lua_budget, 5000);
	assert_int_equal(cfg.lua_ticks, 50000000);
	assert_int_equal(cfg.nwarnings, 0);
	parse("lua-heap=512k");
	assert_int_equal(cfg.lua_heap, 512u * 1024);
	parse("lua-heap=64G lua-heap=1 lua-heap=M lua-budget=-1 lua-ticks=99");
	assert_int_equal(cfg.lua_heap, 0);
	assert_int_equal(cfg.lua_budget, 0);
	assert_int_equal(cfg.lua_ticks, 0);
	assert_int_equal(cfg.nwarnings, 5);
	assert_string_equal(cfg.warnings[0], "cmdline: bad value \"64G\" for lua-heap=, using the default");
}

static void test_value_presence_is_checked(void **state)
{
	(void)state;
	parse("console gdb-wait=yes");
	assert_int_equal(cfg.nwarnings, 2);
	assert_string_equal(cfg.warnings[0], "cmdline: option \"console\" needs a value (console=...); ignored");
	assert_string_equal(cfg.warnings[1], "cmdline: option \"gdb-wait\" takes no value; ignored");
	assert_false(cfg.gdb_wait);
}

static void test_an_overlong_word_and_many_warnings_are_bounded(void **state)
{
	(void)state;
	char line[2048];
	memset(line, 'x', 300);
	line[300] = '\0';
	strcat(line, " a b c d e f g h i j k l");
	parse(line);
	assert_int_equal(cfg.nwarnings, CMDLINE_MAX_WARNINGS);
	assert_non_null(strstr(cfg.warnings[0], "too long"));
	parse(NULL);
	assert_int_equal(cfg.nwarnings, 0);
}

static void test_a_kernel_path_first_word_is_not_an_option(void **state)
{
	(void)state;
	parse("/boot/vmxdbg.elf loglevel=error");
	assert_int_equal(cfg.nwarnings, 0);
	assert_int_equal(cfg.loglevel, LOG_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_console_com1_and_gdb_com2_at_115200),
		cmocka_unit_test(test_sipi_chooses_the_software_or_the_native_path),
		cmocka_unit_test(test_apic_chooses_pass_through_or_the_virtual_apic),
		cmocka_unit_test(test_every_option_is_applied),
		cmocka_unit_test(test_an_unknown_option_is_named_and_ignored),
		cmocka_unit_test(test_selftest_takes_its_four_names_only),
		cmocka_unit_test(test_a_bad_console_keeps_the_default_and_says_so),
		cmocka_unit_test(test_a_bad_value_names_the_setting_still_in_force),
		cmocka_unit_test(test_serial_values),
		cmocka_unit_test(test_lua_limits_take_sizes_and_refuse_nonsense),
		cmocka_unit_test(test_value_presence_is_checked),
		cmocka_unit_test(test_an_overlong_word_and_many_warnings_are_bounded),
		cmocka_unit_test(test_a_kernel_path_first_word_is_not_an_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
