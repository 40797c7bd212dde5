/* lhv_dirty.c — ept.dirty: dirty-page tracking (hv/ept_dirty.h) from Lua.
 *
 *   ept.dirty("start" [, "scan"]) -> sentence (the method); error if refused
 *   ept.dirty("stop")
 *   ept.dirty() -> { gpa, ... }, method
 *       the pages the guest wrote since start, lowest first (each a page's
 *       guest-physical address), and "PML", "EPT dirty-flag scan" or "off"
 *       (stopped: the interval's final set). */
#include <string.h>

#include "hv/ept_dirty.h"
#include "lhv_internal.h"

struct filling {
	lua_State *L;
	lua_Integer i;
};

static void add_page(void *p, uint64_t gpa)
{
	struct filling *f = p;
	lua_pushinteger(f->L, (lua_Integer)gpa);
	lua_rawseti(f->L, -2, ++f->i);
}

static int l_dirty(lua_State *L)
{
	const char *what = luaL_optstring(L, 1, "list");
	char msg[200];
	if (!strcmp(what, "start")) {
		const char *how = luaL_optstring(L, 2, "");
		if (*how && strcmp(how, "scan"))
			return lhv_error(L, "ept.dirty: start takes \"scan\" or nothing, not '%s'", how);
		if (ept_dirty_start(*how != 0, msg, sizeof(msg)))
			return lhv_error(L, "ept.%s", msg);
		lua_pushstring(L, msg);
		return 1;
	}
	if (!strcmp(what, "stop")) {
		if (ept_dirty_stop())
			return lhv_error(L, "ept.dirty: not tracking");
		return 0;
	}
	if (strcmp(what, "list"))
		return lhv_error(L, "ept.dirty: '%s' is not start, stop or list", what);
	uint64_t outside;
	struct filling f = { L, 0 };
	lua_newtable(L);
	if (ept_dirty_list(add_page, &f, &outside) < 0)
		return lhv_error(L, "ept.dirty: tracking never started (ept.dirty(\"start\"))");
	lua_pushstring(L, ept_dirty_method_name(ept_dirty_method()));
	return 2;
}

void lhv_open_dirty(lua_State *L)
{
	lua_getglobal(L, "ept");
	lua_pushcfunction(L, l_dirty);
	lua_setfield(L, -2, "dirty");
	lua_pop(L, 1);
}
