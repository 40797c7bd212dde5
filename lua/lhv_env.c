/* lhv_env.c — one script cannot change what another sees.
 *
 * Every boot script, uploaded file and `monitor lua` chunk runs with an
 * environment of its own (_ENV): its globals are its own, and its functions
 * (hooks included) keep that environment alive after it returns.  A name it
 * has not set is looked up in the shared globals, which no script can reach
 * as a table: the environment's metatable is protected (__metatable), `_G`
 * is the script's own environment, and `load` gives a chunk the environment
 * of the script that loads it.
 *
 * The tables in the shared globals (hv, vmcs, ept, mem, inject, string,
 * table, math, coroutine, utf8) are replaced by read-only proxies: full
 * userdata, so that rawset, setmetatable and next refuse them; the real
 * table sits behind a protected metatable.  The string metatable is
 * protected the same way, so `getmetatable("").__index = f` fails.
 * collectgarbage keeps the options that leave the collector as it was:
 * "stop", or a change of mode, would fill the one heap for every script. */
#include <string.h>

#include <lualib.h>

#include "lhv_internal.h"

/* Registry keys: the metatable every environment shares, Lua's own load. */
static const char env_meta_key[] = "vmxdbg.env";
static const char base_load_key[] = "vmxdbg.load";

/* collectgarbage([opt [, arg]]): Lua's (upvalue 1) for these options only. */
static int shared_collectgarbage(lua_State *L)
{
	static const char *const allowed[] = { "collect", "count", "step", "isrunning", NULL };
	const char *opt = luaL_optstring(L, 1, "collect");
	for (int i = 0; allowed[i]; i++) {
		if (strcmp(opt, allowed[i]) != 0)
			continue;
		lua_pushvalue(L, lua_upvalueindex(1));
		lua_insert(L, 1);
		lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
		return lua_gettop(L);
	}
	return luaL_error(L, "collectgarbage(\"%s\"): the collector is shared by every script; "
			  "\"collect\", \"count\", \"step\" and \"isrunning\" are allowed", opt);
}

/* __newindex of a proxy: upvalue 1 is the table's name. */
static int readonly_newindex(lua_State *L)
{
	const char *name = lua_tostring(L, lua_upvalueindex(1));
	const char *key = luaL_tolstring(L, 2, NULL);
	return luaL_error(L, "%s.%s: %s is read-only (shared by every script); "
			  "keep your own values in your own globals or tables", name, key, name);
}

/* __tostring of a proxy. */
static int readonly_tostring(lua_State *L)
{
	lua_pushfstring(L, "read-only %s", lua_tostring(L, lua_upvalueindex(1)));
	return 1;
}

/* The iterator __pairs hands out: next() over the hidden table (upvalue 1). */
static int readonly_next(lua_State *L)
{
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 2);
	if (!lua_next(L, -2))
		return 0;
	return 2;
}

/* __pairs: an iterator that keeps the real table to itself (returning it
 * as pairs' second value would hand it out). */
static int readonly_pairs(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, readonly_next, 1);
	return 1;
}

void lhv_push_readonly(lua_State *L, int idx, const char *name)
{
	idx = lua_absindex(L, idx);
	lua_newuserdatauv(L, 0, 0);
	lua_createtable(L, 0, 5);
	lua_pushvalue(L, idx);
	lua_setfield(L, -2, "__index");
	lua_pushstring(L, name);
	lua_pushcclosure(L, readonly_newindex, 1);
	lua_setfield(L, -2, "__newindex");
	lua_pushstring(L, name);
	lua_pushcclosure(L, readonly_tostring, 1);
	lua_setfield(L, -2, "__tostring");
	lua_pushvalue(L, idx);
	lua_pushcclosure(L, readonly_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pushliteral(L, "read-only");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
}

/* load(chunk [, name [, mode [, env]]]): text only (Lua does not verify
 * bytecode, so a crafted binary chunk could corrupt the hypervisor), and
 * without env the chunk gets upvalue 1, the loading script's environment. */
static int text_only_load(lua_State *L)
{
	bool has_env = lua_gettop(L) >= 4;

	lua_settop(L, 4);
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	if (!has_env) {
		lua_pushvalue(L, lua_upvalueindex(1));
		lua_replace(L, 4);
	}
	lua_getfield(L, LUA_REGISTRYINDEX, base_load_key);
	lua_insert(L, 1);
	lua_call(L, 4, LUA_MULTRET);
	return lua_gettop(L);
}

void lhv_env_push(lua_State *L)
{
	lua_createtable(L, 0, 4);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, LUA_GNAME);
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, text_only_load, 1);
	lua_setfield(L, -2, "load");
	lua_getfield(L, LUA_REGISTRYINDEX, env_meta_key);
	lua_setmetatable(L, -2);
}

/* Replaces the global table named by the key at -2 (value at -1) with its proxy. */
static void seal_global(lua_State *L, int globals)
{
	lua_pushvalue(L, -2);
	lhv_push_readonly(L, -2, lua_tostring(L, -1));
	lua_remove(L, -2);
	lua_pushvalue(L, -3);
	lua_insert(L, -2);
	lua_rawset(L, globals);
}

void lhv_seal(lua_State *L)
{
	lua_pushglobaltable(L);
	int globals = lua_gettop(L);

	lua_pushliteral(L, LUA_GNAME);
	lua_pushnil(L);
	lua_rawset(L, globals);

	/* Collect the names first: lua_next must not see keys change under it. */
	lua_newtable(L);
	int names = lua_gettop(L);
	lua_Integer n = 0;
	lua_pushnil(L);
	while (lua_next(L, globals)) {
		if (lua_type(L, -1) == LUA_TTABLE && lua_type(L, -2) == LUA_TSTRING) {
			lua_pushvalue(L, -2);
			lua_rawseti(L, names, ++n);
		}
		lua_pop(L, 1);
	}
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, names, i);
		lua_pushvalue(L, -1);
		lua_rawget(L, globals);
		seal_global(L, globals);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);

	/* The string metatable: getmetatable("") gives a read-only view whose
	 * __index is the read-only string library. */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_createtable(L, 0, 1);
	lua_getfield(L, globals, LUA_STRLIBNAME);
	lua_setfield(L, -2, "__index");
	lhv_push_readonly(L, -1, "the string metatable");
	lua_setfield(L, -3, "__metatable");
	lua_pop(L, 3);

	/* Lua's load, for text_only_load; the shared one sees a read-only view. */
	lua_getfield(L, globals, "load");
	lua_setfield(L, LUA_REGISTRYINDEX, base_load_key);
	lhv_push_readonly(L, globals, "the global table");
	lua_pushcclosure(L, text_only_load, 1);
	lua_setfield(L, globals, "load");

	lua_getfield(L, globals, "collectgarbage");
	lua_pushcclosure(L, shared_collectgarbage, 1);
	lua_setfield(L, globals, "collectgarbage");

	/* What every environment falls back on. */
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, globals);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "an environment of its own");
	lua_setfield(L, -2, "__metatable");
	lua_setfield(L, LUA_REGISTRYINDEX, env_meta_key);
	lua_pop(L, 1);
}
