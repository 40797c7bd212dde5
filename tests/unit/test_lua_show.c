/* `monitor lua` shows the tables a chunk returns — keys and values, sorted,
 * nested — and stays bounded for huge, deep and cyclic tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"

/* The chunk's output must be exactly want (one line). */
static void expect_exactly(const char *chunk, const char *want)
{
	const char *out = monitor(chunk);
	size_t n = strlen(want);
	if (strncmp(out, want, n) || strcmp(out + n, "\n"))
		fail_msg("monitor lua %s\n printed: %s\n wanted:  %s", chunk, out, want);
}

static void test_hv_stats_shows_its_keys_and_values_sorted(void **state)
{
	(void)state;
	vcpu0.exits = 13;
	vcpu0.exit_counts[EXIT_REASON_CPUID] = 12;
	vcpu0.exit_counts[EXIT_REASON_HLT] = 1;
	vcpus[1].exits = 2;
	vcpus[1].exit_counts[EXIT_REASON_CPUID] = 2;
	vcpu_count = 2;
	/* Indexed from 0, the vCPUs show in brackets, [0] first. */
	expect_exactly("hv.stats()", "{ CPUID = 14 (0xe), HLT = 1 (0x1), total = 15 (0xf), vcpus = { "
		       "[0 (0x0)] = { by_reason = {...}, exits = 13 (0xd) }, "
		       "[1 (0x1)] = { by_reason = {...}, exits = 2 (0x2) } } }");
	expect_exactly("hv.stats().vcpus[1].by_reason", "{ CPUID = 2 (0x2) }");
	expect_exactly("{ [0] = 'a', 'b' }", "{ [0 (0x0)] = \"a\", [1 (0x1)] = \"b\" }");
}

static void test_sequences_nesting_strings_and_odd_keys(void **state)
{
	(void)state;
	expect_exactly("{}", "{}");
	expect_exactly("{ 'a', 'b', x = true }", "{ \"a\", \"b\", x = true }");
	expect_exactly("{ [2.5] = 1, [10] = 2, ['two words'] = 'q\"\\n', [false] = 0 }",
		       "{ [2.5] = 1 (0x1), [10 (0xa)] = 2 (0x2), [\"two words\"] = \"q\\\"\\n\", "
		       "[false] = 0 (0x0) }");
	expect_exactly("{ inner = { list = { -1 } } }", "{ inner = { list = { -1 (0xffffffffffffffff) } } }");
	expect_exactly("'top', { 'in' }", "top\t{ \"in\" }");
}

static void test_functions_and_tostring_metamethods_show_as_print_would(void **state)
{
	(void)state;
	expect_exactly("setmetatable({}, { __tostring = function() return 'custom' end })", "custom");
	const char *out = monitor("{ f = print }");
	assert_non_null(strstr(out, "{ f = function: "));
}

static void test_deep_and_cyclic_tables_stop_at_the_depth_limit(void **state)
{
	(void)state;
	expect_exactly("{ { { { { 1 } } } } }", "{ { { {...} } } }");
	expect_exactly("local t = {} t.self = t return t", "{ self = { self = { self = {...} } } }");
}

static void test_big_tables_and_long_strings_are_cut(void **state)
{
	(void)state;
	const char *out = monitor("local t = {} for i = 1, 1000 do t[i] = i end return t");
	assert_non_null(strstr(out, ", 32 (0x20), ... }"));
	assert_null(strstr(out, "33 (0x21)"));
	out = monitor("local t = {} for i = 1, 1000 do t['k' .. i] = i end return t");
	assert_non_null(strstr(out, ", ... }"));
	out = monitor("{ string.rep('x', 1000) }");
	assert_non_null(strstr(out, "xxx\"... }"));
	assert_true(strlen(out) < LHV_SHOW_STRING + 20);
	/* 32 x 32 x 32 long strings: the whole line stops at the cap. */
	out = monitor("local s = string.rep('y', 200) local t = {} for i = 1, 32 do t[i] = {} "
		      "for j = 1, 32 do t[i][j] = { s, s } end end return t");
	assert_true(strlen(out) <= LHV_SHOW_MAX + sizeof(" ...\n"));
	assert_non_null(strstr(out, " ...\n"));
	expect_output("1 + 1", "2 (0x2)");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_hv_stats_shows_its_keys_and_values_sorted),
		T(test_sequences_nesting_strings_and_odd_keys),
		T(test_functions_and_tostring_metamethods_show_as_print_would),
		T(test_deep_and_cyclic_tables_stop_at_the_depth_limit),
		T(test_big_tables_and_long_strings_are_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
