/* The bounded pattern functions (lua/lhv_strmatch.c) give exactly what
 * Lua's own string.find/match/gmatch/gsub give — on a corpus and on
 * thousands of random patterns — and charge the budget for every step, so
 * pathological patterns stop instead of running away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/lhv_internal.h"

static long charged;
static long charge_limit = -1;

void lhv_charge(lua_State *L, unsigned n)
{
	charged += n;
	if (charge_limit >= 0 && charged > charge_limit)
		luaL_error(L, "instruction budget exhausted in pattern matching");
}

/* LUA_USER_H's hooks, for the host Lua library. */
void lhv_write(const char *s, size_t len) { fwrite(s, 1, len, stdout); }
void lhv_write_error(const char *fmt, const char *arg) { fprintf(stderr, fmt, arg); }
unsigned int lhv_seed(void) { return 42; }

static lua_State *L;

static int setup(void **state)
{
	(void)state;
	L = luaL_newstate();
	luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
	lua_settop(L, 0);
	/* Lua's own functions stay reachable as ref.*; string.* become ours. */
	luaL_dostring(L, "ref = { find = string.find, match = string.match, "
			 "gmatch = string.gmatch, gsub = string.gsub }");
	lhv_open_strmatch(L);
	charged = 0;
	charge_limit = -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lua_close(L);
	return 0;
}

static void run(const char *code)
{
	if (luaL_dostring(L, code) != LUA_OK)
		fail_msg("%s", lua_tostring(L, -1));
}

/* same(f, g, ...) compares every result, errors included, as text. */
static const char *const compare_lib =
	"local function pack(ok, ...)\n"
	"  local t = { ok and 'ok' or 'error' }\n"
	"  for i = 1, select('#', ...) do local v = select(i, ...); t[#t + 1] = type(v) .. ':' .. tostring(v) end\n"
	"  return table.concat(t, '|')\n"
	"end\n"
	"local function collect(iter_ok, iter)\n"
	"  if not iter_ok then return nil end\n"
	"  local out = {}\n"
	"  while #out < 50 do\n"
	"    local r = table.pack(pcall(iter))\n"
	"    if not r[1] then out[#out + 1] = 'error:' .. tostring(r[2]); break end\n"
	"    if r[2] == nil then break end\n"
	"    out[#out + 1] = pack(table.unpack(r, 1, r.n))\n"
	"  end\n"
	"  return table.concat(out, ';')\n"
	"end\n"
	"checked = 0\n"
	"function same(what, a, b)\n"
	"  checked = checked + 1\n"
	"  if a ~= b then error(what .. '\\n ours: ' .. tostring(a) .. '\\n Lua:  ' .. tostring(b), 0) end\n"
	"end\n"
	"function compare(s, p, init)\n"
	"  local q = string.format('%q %q %s', s, p, tostring(init))\n"
	"  same('find ' .. q, pack(pcall(string.find, s, p, init)), pack(pcall(ref.find, s, p, init)))\n"
	"  same('plain ' .. q, pack(pcall(string.find, s, p, init, true)), pack(pcall(ref.find, s, p, init, true)))\n"
	"  same('match ' .. q, pack(pcall(string.match, s, p, init)), pack(pcall(ref.match, s, p, init)))\n"
	"  same('gmatch ' .. q, collect(pcall(string.gmatch, s, p, init)), collect(pcall(ref.gmatch, s, p, init)))\n"
	"  for _, r in ipairs(repls) do\n"
	"    same('gsub ' .. q .. ' ' .. tostring(r), pack(pcall(string.gsub, s, p, r)), pack(pcall(ref.gsub, s, p, r)))\n"
	"    same('gsub/2 ' .. q, pack(pcall(string.gsub, s, p, r, 2)), pack(pcall(ref.gsub, s, p, r, 2)))\n"
	"  end\n"
	"end\n"
	"repls = { '<%0>', '%1-%1', '%%', 'x', '%2', '%', { a = 'A', hello = 1, [1] = 'one' },\n"
	"  function(...) return select('#', ...) > 1 and select(2, ...) or nil end,\n"
	"  function(x) return x == 'a' and {} or false end, 42 }\n";

static void test_corpus_matches_lua_own_pattern_functions(void **state)
{
	(void)state;
	run(compare_lib);
	run("local subjects = { '', 'a', 'hello world', 'aaa', '  key = value  ', '(foo(bar))baz', 'THE (quick) fox',\n"
	    "  'x=1, y=22, z=333', '\\0a\\0b', 'abc123def456', 'one two  three', '[[]]', '%d%w', 'a.b.c', '2024-01-02',\n"
	    "  'hello hello', ']]-^$', 'a\\nb\\tc' }\n"
	    "local patterns = { '', 'a', '^a', 'a$', '^$', '.', '%a+', '%d+', '(%w+)=(%w+)', '^%s*(.-)%s*$', '()a()',\n"
	    "  '%b()', '%f[%w]%w+', '%f[%W]', '[%a_][%w_]*', '[^%s]+', '(a*(.)%w(%s*))', 'a-b', 'a?b', '(%d)(%d)%2?',\n"
	    "  '[a-c]+', '[]]', '[^]]', '%.', '(h)(e)(l)', '.-', '(.-)o', '%u+', '%S+', 'x*', '[%d%-]+',\n"
	    "  '^(%d+)-(%d+)-(%d+)$', '(%w)%1', '(l+)', '[', '[a', '%', '(', ')', '%b', '%bx', '%f', '%fa', '%1', '(()',\n"
	    "  '%g+', '%p', '%c', '%x+', '%l%u', '[%]]', '[a-]', '[-a]', '^^', '$$', 'a+$', '(hello) %1', '%z', '\\0',\n"
	    "  '[\\0-a]+', '%w-%s', '(o)(.-)(%1)', '.*', '.+', '()', '(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)' }\n"
	    "for _, s in ipairs(subjects) do for _, p in ipairs(patterns) do\n"
	    "  for _, init in ipairs({ 1, 2, -3, 0, 100, -100 }) do compare(s, p, init) end\n"
	    "end end\n"
	    "assert(checked > 100000, checked)\n");
}

static void test_random_patterns_match_lua_own_pattern_functions(void **state)
{
	(void)state;
	run(compare_lib);
	run("local pieces = { 'a', 'b', '.', '%a', '%d', '%s', '%w', '(', ')', '()', '[ab]', '[^a]', '[a-c]', '*', '+',\n"
	    "  '-', '?', '^', '$', '%1', '%2', '%b()', '%f[%a]', ' ', '%%', '%.', ']' }\n"
	    "local chars = { 'a', 'b', '(', ')', ' ', '1', '2', 'A', '.', '%' }\n"
	    "math.randomseed(7)\n"
	    "for i = 1, 4000 do\n"
	    "  local p, s = {}, {}\n"
	    "  for j = 1, math.random(0, 7) do p[j] = pieces[math.random(#pieces)] end\n"
	    "  for j = 1, math.random(0, 12) do s[j] = chars[math.random(#chars)] end\n"
	    "  compare(table.concat(s), table.concat(p), math.random(-3, 4))\n"
	    "end\n");
}

static void test_backtracking_pattern_stops_when_the_budget_runs_out(void **state)
{
	(void)state;
	charge_limit = 1000000;
	run("local s = string.rep('a', 5000)\n"
	    "local ok, err = pcall(string.find, s, '.-.-.-.-b')\n"
	    "assert(not ok and err:find('budget'), err)\n"
	    "ok, err = pcall(string.match, string.rep('(', 100000), '%b()')\n"
	    "assert(not ok and err:find('budget'), err)\n"
	    "ok, err = pcall(string.gsub, string.rep('ab', 30000), '(a*)*b', '')\n"
	    "assert(ok or err:find('budget'), err)\n");
	assert_true(charged > 1000000);
	assert_true(charged < 1000000 + 1000);	/* stopped at once */
}

static void test_each_step_of_ordinary_matching_is_charged(void **state)
{
	(void)state;
	run("assert(('key = value'):match('^(%w+)%s*=%s*(%w+)$') == 'key')");
	long one = charged;
	assert_true(one > 0);
	run("for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do end");
	assert_true(charged > one);
}

static void test_plain_find_is_linear_on_long_strings(void **state)
{
	(void)state;
	charge_limit = 0;	/* memmem charges nothing: it cannot run away */
	run("local s = string.rep('a', 1000000) .. 'b'\n"
	    "assert(s:find(string.rep('a', 500000) .. 'b', 1, true) == 500001)\n"
	    "assert(s:find('aaab') == 999998)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_corpus_matches_lua_own_pattern_functions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_patterns_match_lua_own_pattern_functions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backtracking_pattern_stops_when_the_budget_runs_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_step_of_ordinary_matching_is_charged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_find_is_linear_on_long_strings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
