/* lhv_vcpus.c — scripts across processors (issue 11): hv.vcpu, hv.vcpus,
 * hv.stats per vCPU and in total, and which vCPU a call may reach.  The
 * current vCPU (lhv.vcpu) is always reachable; another only while every
 * vCPU is stopped for the debugger: a running one's registers and VMCS
 * change under the caller, and its VMCS is current on its own processor
 * (SDM Vol. 3C §25.1).  Counts of a running vCPU are read as they are. */
#include "hv/target.h"
#include "lhv_internal.h"

struct vcpu *lhv_reachable(lua_State *L, unsigned index, const char *what)
{
	struct vcpu *v = target_vcpu(index);

	if (!v) {
		lhv_error(L, "%s(%u): no vCPU %u (there are %u: 0-%u)", what, index, index, target_vcpu_count(),
			  target_vcpu_count() - 1);
		return NULL;
	}
	if (v != lhv.vcpu && !lhv.all_stopped)
		lhv_error(L, "%s(%u): vCPU %u is running; only the current vCPU (%u) is reachable until the "
			  "guest stops for the debugger", what, index, index, target_vcpu_index(lhv.vcpu));
	return v;
}

struct vcpu *lhv_check_vcpu(lua_State *L, int arg, const char *what)
{
	lua_Integer n = luaL_checkinteger(L, arg);
	if (n < 0 || n >= (lua_Integer)target_vcpu_count()) {
		lhv_error(L, "%s(%lld): no vCPU %lld (there are %u: 0-%u)", what, (long long)n, (long long)n,
			  target_vcpu_count(), target_vcpu_count() - 1);
		return NULL;
	}
	return lhv_reachable(L, (unsigned)n, what);
}

/* hv.vcpu() -> the current vCPU's index */
static int l_vcpu(lua_State *L)
{
	lua_pushinteger(L, target_vcpu_index(lhv.vcpu));
	return 1;
}

/* hv.vcpus() -> { {index=, apic_id=, started=, exits=}, ... }, vCPU 0 first */
static int l_vcpus(lua_State *L)
{
	unsigned n = target_vcpu_count();

	lua_createtable(L, (int)n, 0);
	for (unsigned i = 0; i < n; i++) {
		const struct vcpu *v = target_vcpu(i);
		lua_createtable(L, 0, 4);
		lua_pushinteger(L, i);
		lua_setfield(L, -2, "index");
		lua_pushinteger(L, target_vcpu_apic_id(v));
		lua_setfield(L, -2, "apic_id");
		lua_pushboolean(L, target_vcpu_started(v));
		lua_setfield(L, -2, "started");
		lua_pushinteger(L, (lua_Integer)v->exits);
		lua_setfield(L, -2, "exits");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* Sets counts[r] into the table on top, keyed by reason name (its number
 * when the reason has none), for every reason seen at least once. */
static void set_by_reason(lua_State *L, const uint64_t *counts)
{
	for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++) {
		if (!counts[r])
			continue;
		const char *name = exit_reason_name(r);
		lua_pushinteger(L, (lua_Integer)counts[r]);
		if (name)
			lua_setfield(L, -2, name);
		else
			lua_rawseti(L, -2, r);
	}
}

/* hv.stats() -> { total = N, CPUID = n, ..., vcpus = { [0] = {exits = N,
 * by_reason = { CPUID = n, ... }}, ... } }: the top level over every vCPU. */
static int l_stats(lua_State *L)
{
	uint64_t sums[EXIT_REASON_LIMIT] = { 0 }, total = 0;
	unsigned n = target_vcpu_count();

	lua_createtable(L, 0, 8);
	lua_createtable(L, 0, (int)n);
	for (unsigned i = 0; i < n; i++) {
		const struct vcpu *v = target_vcpu(i);
		lua_createtable(L, 0, 2);
		lua_pushinteger(L, (lua_Integer)v->exits);
		lua_setfield(L, -2, "exits");
		lua_createtable(L, 0, 4);
		set_by_reason(L, v->exit_counts);
		lua_setfield(L, -2, "by_reason");
		lua_rawseti(L, -2, i);
		total += v->exits;
		for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++)
			sums[r] += v->exit_counts[r];
	}
	lua_setfield(L, -2, "vcpus");
	lua_pushinteger(L, (lua_Integer)total);
	lua_setfield(L, -2, "total");
	set_by_reason(L, sums);
	return 1;
}

static const luaL_Reg vcpu_funcs[] = {
	{ "vcpu", l_vcpu },
	{ "vcpus", l_vcpus },
	{ "stats", l_stats },
	{ NULL, NULL },
};

/* Adds these to the global table hv (lhv_open_api made it). */
void lhv_open_vcpus(lua_State *L)
{
	lua_getglobal(L, "hv");
	luaL_setfuncs(L, vcpu_funcs, 0);
	lua_pop(L, 1);
}
