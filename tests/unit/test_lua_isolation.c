/* Script isolation (issue 10, item 6): every boot script, uploaded file
 * and `monitor lua` chunk has globals of its own; the API tables, the
 * standard libraries and the string metatable are read-only for all of
 * them, rawset included; one script cannot break another's hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"

static const char *const shared_tables[] = {
	"hv", "vmcs", "ept", "mem", "inject", "string", "table", "math", "coroutine", "utf8",
};

/* The repro: `hv = nil`, `print = nil` persisted for everyone. */
static void test_a_chunks_globals_do_not_reach_the_next_chunk(void **state)
{
	(void)state;
	/* Assigning nil to a name the chunk never set leaves the shared value visible... */
	expect_output("hv = nil print = nil string = nil x = 1 return type(hv), x", "userdata\t1 (0x1)");
	/* ...any other value hides it, for this chunk only. */
	expect_output("hv = 0 print = false string = 'no' return hv, print, string", "0 (0x0)\tfalse\tno");
	expect_output("return type(hv), type(print), type(string), x", "userdata\tfunction\tuserdata\tnil");
	expect_output("print('still here')", "still here");
}

static void test_the_api_tables_and_libraries_refuse_assignment_and_rawset(void **state)
{
	(void)state;
	char chunk[200], want[120];
	for (size_t i = 0; i < sizeof(shared_tables) / sizeof(shared_tables[0]); i++) {
		const char *t = shared_tables[i];
		snprintf(chunk, sizeof(chunk), "%s.extra = 1", t);
		snprintf(want, sizeof(want), "%s.extra: %s is read-only (shared by every script)", t, t);
		expect_output(chunk, want);
		snprintf(chunk, sizeof(chunk), "rawset(%s, 'extra', 1)", t);
		expect_output(chunk, "bad argument #1 to 'rawset' (table expected, got userdata)");
		snprintf(chunk, sizeof(chunk), "setmetatable(%s, nil)", t);
		expect_output(chunk, "bad argument #1 to 'setmetatable' (table expected, got userdata)");
		snprintf(chunk, sizeof(chunk), "next(%s)", t);
		expect_output(chunk, "bad argument #1 to 'next' (table expected, got userdata)");
		snprintf(chunk, sizeof(chunk), "getmetatable(%s)", t);
		expect_output(chunk, "read-only");
	}
	expect_output("string.format = nil", "string.format: string is read-only");
	expect_output("('%d'):format(7)", "7");
	expect_output("tostring(hv)", "read-only hv");
}

/* rawset(regs, "rip", 0) wrote a raw field that hid the register from every script. */
static void test_rawset_on_regs_fails_and_regs_still_reach_the_guest(void **state)
{
	(void)state;
	fake_regs[0][TREG_RIP] = 0x1000;
	expect_output("rawset(regs, 'rip', 0)", "bad argument #1 to 'rawset' (table expected, got userdata)");
	expect_output("setmetatable(regs, {})", "bad argument #1 to 'setmetatable'");
	expect_output("getmetatable(regs)", "regs");
	expect_output("regs.rip", "4096 (0x1000)");
	monitor("regs.rip = 0x2000");
	assert_int_equal(fake_regs[0][TREG_RIP], 0x2000);
}

static void test_the_string_metatable_is_protected(void **state)
{
	(void)state;
	expect_output("getmetatable('').__index = { upper = function() return 'hijacked' end }",
		      "the string metatable is read-only");
	expect_output("getmetatable('').__index.upper = nil", "string.upper: string is read-only");
	expect_output("setmetatable(getmetatable(''), nil)", "bad argument #1 to 'setmetatable' (table expected");
	expect_output("('abc'):upper()", "ABC");
	expect_output("getmetatable('').__index == string", "true");
}

/* pairs() works over a read-only table and never hands out the real one. */
static void test_pairs_lists_a_read_only_table_without_giving_it_away(void **state)
{
	(void)state;
	expect_output("local n = 0 for k, v in pairs(hv) do n = n + 1 end return n >= 9", "true");
	expect_output("local f, s, k = pairs(string) return s, k", "nil\tnil");
	expect_output("local seen for k, v in pairs(math) do if k == 'pi' then seen = v end end return seen == math.pi",
		      "true");
}

static void test_g_and_load_see_the_scripts_own_environment(void **state)
{
	(void)state;
	expect_output("_G.mine = 5 return mine, _G == _ENV", "5 (0x5)\ttrue");
	expect_output("load('y = 7')() return y, load('return y')()", "7 (0x7)\t7 (0x7)");
	expect_output("load('hv = 1')() return hv", "1 (0x1)");
	expect_output("return type(hv), y", "userdata\tnil");
	/* Without its own load, a chunk gets the shared one: it reads the globals, never writes them. */
	expect_output("rawset(_ENV, 'load', nil) return load('return type(print)')()", "function");
	expect_output("rawset(_ENV, 'load', nil) load('print = nil')()", "the global table is read-only");
	expect_output("load('\\27Lua', 'x', 'b')", "attempt to load a binary chunk (mode is 't')");
}

static void test_an_environment_keeps_its_metatable(void **state)
{
	(void)state;
	expect_output("getmetatable(_ENV)", "an environment of its own");
	expect_output("setmetatable(_ENV, nil)", "cannot change a protected metatable");
	expect_output("return getmetatable(_ENV).__index == nil", "true");
}

/* Script B tries everything the issue lists against script A's hook: A's
 * hook keeps working, with its own globals kept between calls. */
static void test_one_script_cannot_break_another_scripts_hook(void **state)
{
	(void)state;
	static const char a[] = "calls = 0\n"
				"hv.on_exit('cpuid', function(e)\n"
				"  calls = calls + 1\n"
				"  print(string.format('a: call %d at %x, %s', calls, regs.rip, tostring(e)))\n"
				"end)";
	static const char b[] = "hv = nil print = nil calls = 1000\n"
				"pcall(rawset, regs, 'rip', 0) pcall(rawset, string, 'format', nil)\n"
				"pcall(function() getmetatable('').__index = {} end)\n"
				"pcall(function() string.format = nil end)\n"
				"error('b is done')";
	struct boot_info bi = { .nmodules = 2 };
	bi.modules[0] = (struct boot_module){ (uintptr_t)a, (uintptr_t)a + sizeof(a) - 1, "script:a.lua" };
	bi.modules[1] = (struct boot_module){ (uintptr_t)b, (uintptr_t)b + sizeof(b) - 1, "script:b.lua" };
	assert_int_equal(lhv_run_boot_scripts(&bi), 1);
	expect_log("[E] lua: b.lua: b.lua:5: b is done");
	fake_regs[0][TREG_RIP] = 0xabc;
	assert_true(exit_hooked(EXIT_REASON_CPUID));
	assert_int_equal(exit_hooks_run(&vcpu0, EXIT_REASON_CPUID, NULL, 0), HOOK_DEFAULT);
	assert_int_equal(exit_hooks_run(&vcpu0, EXIT_REASON_CPUID, NULL, 0), HOOK_DEFAULT);
	expect_log("[I] lua: a: call 1 at abc, exit CPUID (10)");
	expect_log("[I] lua: a: call 2 at abc, exit CPUID (10)");
	assert_true(exit_hooked(EXIT_REASON_CPUID));
}

/* An exit event's metatable is shared by every hook: protected too. */
static void test_an_exit_events_metatable_is_protected(void **state)
{
	(void)state;
	monitor("hv.on_exit('hlt', function(e) print('mt', getmetatable(e))\n"
		"  print('set', pcall(setmetatable, e, {})) end)");
	exit_hooks_run(&vcpu0, EXIT_REASON_HLT, NULL, 0);
	expect_log("[I] lua: mt\texit event");
	expect_log("[I] lua: set\tfalse\tbad argument #1 to 'setmetatable' (table expected, got vmxdbg.exit)");
}

/* The collector serves every script: no script may stop it or change its mode. */
static void test_collectgarbage_cannot_stop_the_shared_collector(void **state)
{
	(void)state;
	expect_output("collectgarbage('stop')", "collectgarbage(\"stop\"): the collector is shared by every script");
	expect_output("collectgarbage('generational')", "the collector is shared by every script");
	expect_output("collectgarbage('isrunning')", "true");
	expect_output("collectgarbage() return collectgarbage('count') > 0", "true");
}

/* A file from gdb (`vmx lua`) has globals of its own as well. */
static void test_an_uploaded_file_has_its_own_globals(void **state)
{
	(void)state;
	static const char file[] = "hv = 1 inject = nil left = 1\nreturn hv";
	emitted_len = 0;
	lhv_monitor_file(&vcpu0, "@f.lua", file, sizeof(file) - 1, "", emit, NULL);
	assert_string_equal(emitted, "1 (0x1)\n");
	expect_output("return type(hv), type(inject), left", "userdata\tuserdata\tnil");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_a_chunks_globals_do_not_reach_the_next_chunk),
		T(test_the_api_tables_and_libraries_refuse_assignment_and_rawset),
		T(test_rawset_on_regs_fails_and_regs_still_reach_the_guest),
		T(test_the_string_metatable_is_protected),
		T(test_pairs_lists_a_read_only_table_without_giving_it_away),
		T(test_g_and_load_see_the_scripts_own_environment),
		T(test_an_environment_keeps_its_metatable),
		T(test_one_script_cannot_break_another_scripts_hook),
		T(test_an_exit_events_metatable_is_protected),
		T(test_collectgarbage_cannot_stop_the_shared_collector),
		T(test_an_uploaded_file_has_its_own_globals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
