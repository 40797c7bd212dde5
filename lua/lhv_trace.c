/* lhv_trace.c — hv.trace: the exit trace (hv/trace.h) as Lua tables.
 *
 *   hv.trace(n [, vcpu]) -> records, note
 *       the newest n exits, oldest first, of every vCPU (merged by TSC) or
 *       of one; each { tsc, vcpu, reason = "CPUID", code = 10, qual, rip,
 *       ticks (nil while the exit is not over), hook = "-" }.  Fewer held
 *       than asked: the records there are, and a note saying so.
 *   hv.trace("clear" | "on" | "off")
 *
 * Read while the guest is stopped or from a hook: another vCPU running
 * meanwhile may overwrite its oldest records as they are read. */
#include <string.h>

#include "hv/target.h"
#include "hv/trace.h"
#include "lhv_internal.h"

struct filling {
	lua_State *L;
	lua_Integer i;
};

static void set_int(lua_State *L, const char *k, uint64_t v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

static void add_record(void *p, const struct trace_entry *e)
{
	struct filling *f = p;
	lua_State *L = f->L;
	const char *name = exit_reason_name(e->reason & 0xffff);
	lua_createtable(L, 0, 8);
	set_int(L, "tsc", e->tsc);
	set_int(L, "vcpu", e->vcpu);
	lua_pushstring(L, name ? name : "unassigned");
	lua_setfield(L, -2, "reason");
	set_int(L, "code", e->reason);
	set_int(L, "qual", e->qual);
	set_int(L, "rip", e->rip);
	if (e->ticks != TRACE_TICKS_OPEN)
		set_int(L, "ticks", e->ticks);
	lua_pushstring(L, trace_verdict_name(e->verdict));
	lua_setfield(L, -2, "hook");
	lua_rawseti(L, -2, ++f->i);
}

static int control(lua_State *L, const char *what)
{
	if (!strcmp(what, "clear"))
		trace_clear();
	else if (!strcmp(what, "on") || !strcmp(what, "off"))
		trace_enable(what[1] == 'n');
	else
		return lhv_error(L, "hv.trace: '%s' is not clear, on or off", what);
	return 0;
}

static int l_trace(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TSTRING)
		return control(L, lua_tostring(L, 1));
	lua_Integer n = luaL_checkinteger(L, 1);
	lua_Integer vcpu = luaL_optinteger(L, 2, -1);
	if (n <= 0)
		return lhv_error(L, "hv.trace: n must be a positive number of records (got %lld)", (long long)n);
	if (vcpu < -1 || vcpu >= (lua_Integer)target_vcpu_count())
		return lhv_error(L, "hv.trace: no vCPU %lld (%u of them)", (long long)vcpu, target_vcpu_count());
	unsigned held = trace_count((int)vcpu);
	unsigned k = (uint64_t)n > held ? held : (unsigned)n;
	struct filling f = { L, 0 };
	lua_createtable(L, (int)k, 0);
	trace_walk((int)vcpu, k, add_record, &f);
	if ((uint64_t)n <= held)
		return 1;
	lua_pushfstring(L, "asked for %I, %d held (the ring keeps %d per vCPU)", (LUAI_UACINT)n, (int)held,
			(int)trace_capacity());
	return 2;
}

void lhv_open_trace(lua_State *L)
{
	lua_getglobal(L, "hv");
	lua_pushcfunction(L, l_trace);
	lua_setfield(L, -2, "trace");
	lua_pop(L, 1);
}
