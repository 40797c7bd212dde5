/* lhv_bp.c — `bp`: a script's hidden breakpoints (hv/stealth_bp.c, issue
 * 13) and the functions their hits call; hv.msr for the MSRs a guest sets
 * once and VMX leaves alone (where a breakpoint goes: IA32_LSTAR).
 *
 *   bp.add(addr, fn) -> id   fn(addr, vcpu) runs at each hit, before the
 *                            instruction; nil goes on, "stop" [, why] stops
 *                            into the debugger.  The guest reading the page
 *                            sees its own bytes (execute-only EPT view).
 *   bp.remove(id) -> bool    bp.list() -> { {id=, addr=, hits=}, ... }
 *
 * A function that raises an error, or returns something else, is reported
 * and its breakpoint removed; the guest continues. */
#include <stdio.h>
#include <string.h>

#include "hv/target.h"
#include "lhv_entry.h"
#include "lhv_internal.h"
#include "platform/errno.h"
#include "platform/log.h"

#define MAX_BPS 64

struct script_bp {
	unsigned id;
	uint64_t addr;
	int ref;		/* the function, in the registry */
	uint64_t hits;
};

static struct script_bp bps[MAX_BPS];
static int nbps;
static unsigned next_id = 1;

static int find(unsigned id)
{
	for (int i = 0; i < nbps; i++)
		if (bps[i].id == id)
			return i;
	return -1;
}

static const char *refusal(int rc)
{
	switch (rc) {
	case -EPERM: return "it is in the hypervisor's region";
	case -EFAULT: return "it is not guest RAM (MMIO such as the xAPIC page, a hole) or not mapped";
	case -ENODEV: return "this CPU has no execute-only EPT";
	case -EBUSY: return "its page has other EPT rights (a watch, ept.protect), or the vCPU's VMCS is busy";
	case -ENOSPC: return "a hidden-breakpoint limit is reached (the log names it)";
	case -ENOMEM: return "no memory for the shadow page";
	default: return "refused";
	}
}

/* bp.add(addr, fn) -> id */
static int l_add(lua_State *L)
{
	lua_Integer addr = luaL_checkinteger(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (nbps == MAX_BPS)
		return luaL_error(L, "bp.add: too many breakpoints (%d); remove some with bp.remove", MAX_BPS);
	int rc = target_script_bp_add(lhv.vcpu, (uint64_t)addr, next_id);
	if (rc)
		return lhv_error(L, "bp.add: no hidden breakpoint at 0x%llx: %s", (unsigned long long)addr,
				 refusal(rc));
	lua_pushvalue(L, 2);
	bps[nbps++] = (struct script_bp){ next_id, (uint64_t)addr, luaL_ref(L, LUA_REGISTRYINDEX), 0 };
	lua_pushinteger(L, next_id++);
	return 1;
}

static bool remove_bp(lua_State *L, unsigned id)
{
	int i = find(id);
	if (i < 0)
		return false;
	target_script_bp_remove(lhv.vcpu, id);
	luaL_unref(L, LUA_REGISTRYINDEX, bps[i].ref);
	bps[i] = bps[--nbps];
	return true;
}

/* bp.remove(id) -> true, or false when there is none */
static int l_remove(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	lua_pushboolean(L, id > 0 && id <= 0x7fffffff && remove_bp(L, (unsigned)id));
	return 1;
}

/* bp.list() -> { {id=, addr=, hits=}, ... } */
static int l_list(lua_State *L)
{
	lua_createtable(L, nbps, 0);
	for (int i = 0; i < nbps; i++) {
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, bps[i].id);
		lua_setfield(L, -2, "id");
		lua_pushinteger(L, (lua_Integer)bps[i].addr);
		lua_setfield(L, -2, "addr");
		lua_pushinteger(L, (lua_Integer)bps[i].hits);
		lua_setfield(L, -2, "hits");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* hv.msr(number) -> value: the guest's MSR where the processor holds it
 * unswitched (the current vCPU's own processor). */
static int l_msr(lua_State *L)
{
	lua_Integer msr = luaL_checkinteger(L, 1);
	uint64_t value;
	char err[160];
	luaL_argcheck(L, msr >= 0 && msr <= 0xffffffff, 1, "an MSR number is 32 bits");
	if (target_guest_msr(lhv.vcpu, (uint32_t)msr, &value, err, sizeof(err)))
		return luaL_error(L, "hv.msr: %s", err);
	lua_pushinteger(L, (lua_Integer)value);
	return 1;
}

static const luaL_Reg bp_funcs[] = {
	{ "add", l_add },
	{ "remove", l_remove },
	{ "list", l_list },
	{ NULL, NULL },
};

void lhv_open_bp(lua_State *L)
{
	lua_newtable(L);
	luaL_setfuncs(L, bp_funcs, 0);
	lua_setglobal(L, "bp");
	lua_getglobal(L, "hv");
	lua_pushcfunction(L, l_msr);
	lua_setfield(L, -2, "msr");
	lua_pop(L, 1);
}

void lhv_bp_forget(void)
{
	nbps = 0;
	next_id = 1;
}

/* ---- a hit */

static void disable(lua_State *L, unsigned id, const char *msg)
{
	char what[48];
	snprintf(what, sizeof(what), "breakpoint %u", id);
	lhv_report(what, msg ? msg : "(no message)");
	log_error("lua: breakpoint %u removed; the guest continues", id);
	remove_bp(L, id);
}

static int bp_main(lua_State *L)
{
	struct lhv_bp_hit *h = lua_touserdata(L, 1);
	int i = find(h->id);
	if (i < 0)
		return 0;
	bps[i].hits++;
	lua_settop(L, 1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, bps[i].ref);
	lua_pushinteger(L, (lua_Integer)h->gva);
	lua_pushinteger(L, target_vcpu_index(h->v));
	if (lhv_pcall(L, 2, 2) != LUA_OK) {
		disable(L, h->id, lua_tostring(L, -1));
		return 0;
	}
	if (lua_isnil(L, -2))
		return 0;
	const char *verdict = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
	if (verdict && !strcmp(verdict, "stop")) {
		h->verdict = HOOK_STOP;
		if (lua_type(L, -1) == LUA_TSTRING)
			snprintf(h->stop_reason, h->len, "%s", lua_tostring(L, -1));
		else
			snprintf(h->stop_reason, h->len, "Lua breakpoint %u at 0x%llx", h->id,
				 (unsigned long long)h->gva);
	} else if (!verdict || strcmp(verdict, "resume")) {
		lua_pushfstring(L, "returned %s; a breakpoint function returns nil or \"stop\"",
				verdict ? verdict : luaL_typename(L, -2));
		disable(L, h->id, lua_tostring(L, -1));
	}
	return 0;
}

void lhv_bp_body(void *arg)
{
	lua_State *L = lhv.L;

	lua_settop(L, 0);
	if (!lua_checkstack(L, 8))
		return;
	lua_pushcfunction(L, bp_main);
	lua_pushlightuserdata(L, arg);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK)
		lhv_report("breakpoint", lua_tostring(L, -1));
	lhv_flush_output();
	lua_settop(L, 0);
}
