/* lhv_hooks.c — hv.on_exit / hv.off: Lua functions run on VM exits of a
 * reason, the exit event they receive, and their verdicts.  The hot path
 * sees only exit_hook_bitmap (hv/hooks.h): a reason without hooks costs one
 * bit test.  Every hook of the exit runs, in the order they were added (so
 * an observer sees exits another hook answers); the first one that returns
 * something other than nil decides.  A hook that raises an error,
 * runs out of budget or time, returns nonsense, or "skip" on an exit no
 * instruction caused is reported and removed; the hypervisor's own work
 * for the exit runs whatever the verdict (hv/exit_dispatch.c). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hv/hooks.h"
#include "hv/target.h"
#include "lhv_entry.h"
#include "lhv_internal.h"
#include "platform/log.h"

#define MAX_HOOKS 64
#define ANY_REASON (-1)
#define POWEROFF (-2)	/* hv.on_poweroff: not an exit reason */
#define EXCEPTION_BASE (-100)	/* hv.on_exception(v): EXCEPTION_BASE - v */
#define EXCEPTION_KEY(v) (EXCEPTION_BASE - (int)(v))
#define IS_EXCEPTION_KEY(r) ((r) <= EXCEPTION_BASE && (r) > EXCEPTION_BASE - 32)
#define EVENT_MT "vmxdbg.exit"

struct hook {
	int id;
	int reason;	/* basic exit reason, ANY_REASON, POWEROFF or EXCEPTION_KEY(vector) */
	int ref;	/* the function, in the registry */
};

static struct hook hooks[MAX_HOOKS];
static int nhooks;
static int next_id = 1;

struct lhv_event {
	uint64_t seq;	/* lhv.exit_seq of its exit */
	unsigned reason;
	unsigned vcpu;	/* the exiting vCPU's index: the hook runs on it */
};

/* The exit bitmap, and the events hv must make exit (hv/target.h
 * target_event_watch_set): a hook naming EXTERNAL_INTERRUPT switches
 * external-interrupt exiting on, an exception hook its vector; "*" sees
 * only the exits that happen anyway. */
static void update_bitmap(void)
{
	uint64_t bits[EXIT_HOOK_WORDS] = { 0 };
	uint32_t exceptions = 0;
	bool ext = false;

	for (int i = 0; i < nhooks; i++) {
		if (hooks[i].reason == POWEROFF)
			continue;
		if (IS_EXCEPTION_KEY(hooks[i].reason)) {
			exceptions |= 1u << (EXCEPTION_BASE - hooks[i].reason);
			continue;
		}
		ext |= hooks[i].reason == EXIT_REASON_EXTERNAL_INTERRUPT;
		if (hooks[i].reason == ANY_REASON) {
			for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++)
				bits[r / 64] |= 1ull << (r % 64);
		} else {
			bits[hooks[i].reason / 64] |= 1ull << (hooks[i].reason % 64);
		}
	}
	memcpy(exit_hook_bitmap, bits, sizeof(bits));
	target_event_watch_set(ext, exceptions);
}

/* Exception mnemonics by vector (SDM Vol. 3A Table 6-1); NULL: reserved. */
static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS", "#GP",
	"#PF", NULL, "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static const char *reason_name(int reason)
{
	if (IS_EXCEPTION_KEY(reason)) {
		const char *n = vector_names[EXCEPTION_BASE - reason];
		return n ? n : "reserved vector";
	}
	const char *n = reason == ANY_REASON ? "*" : reason == POWEROFF ? "poweroff" :
			exit_reason_name((unsigned)reason);
	return n ? n : "unassigned";
}

/* A vector by number (0-31) or mnemonic ("PF", "#PF", "NMI", any case). */
static unsigned check_vector(lua_State *L, int arg)
{
	if (lua_type(L, arg) == LUA_TSTRING && !lua_isinteger(L, arg)) {
		const char *s = lua_tostring(L, arg);
		for (unsigned v = 0; v < 32; v++) {
			const char *n = vector_names[v];
			if (n && (!strcasecmp(s, n) || (n[0] == '#' && !strcasecmp(s, n + 1))))
				return v;
		}
		return (unsigned)luaL_error(L, "no exception is called \"%s\": a vector 0-31 or a mnemonic "
					   "(DE, DB, NMI, BP, OF, BR, UD, NM, DF, TS, NP, SS, GP, PF, MF, AC, XM, "
					   "VE, CP)", s);
	}
	lua_Integer n = luaL_checkinteger(L, arg);
	if (n < 0 || n > 255)
		return (unsigned)lhv_error(L, "vector %lld is out of range (exceptions are 0-31)", (long long)n);
	return (unsigned)n;
}

int lhv_check_reason(lua_State *L, int arg, bool allow_any)
{
	if (lua_type(L, arg) == LUA_TSTRING) {
		const char *s = lua_tostring(L, arg);
		if (allow_any && !strcmp(s, "*"))
			return ANY_REASON;
		int r = exit_reason_by_name(s);
		if (r >= 0)
			return r;
		if (!lua_isinteger(L, arg)) {	/* "10" counts as the number */
			char msg[200];
			exit_reason_unknown_message(msg, sizeof(msg), s);
			return luaL_error(L, "%s", msg);
		}
	}
	lua_Integer n = luaL_checkinteger(L, arg);
	if (n < 0 || n >= (lua_Integer)EXIT_REASON_LIMIT)
		return lhv_error(L, "exit reason %lld is out of range (0-%u)", (long long)n,
				 (unsigned)EXIT_REASON_LIMIT - 1);
	return (int)n;
}

int lhv_on_exit(lua_State *L, int reason, int fn_index)
{
	luaL_checktype(L, fn_index, LUA_TFUNCTION);
	if (nhooks == MAX_HOOKS)
		return luaL_error(L, "too many hooks (%d); remove some with hv.off", MAX_HOOKS);
	lua_pushvalue(L, fn_index);
	int ref = luaL_ref(L, LUA_REGISTRYINDEX);
	hooks[nhooks++] = (struct hook){ next_id, reason, ref };
	update_bitmap();
	lua_pushinteger(L, next_id++);
	return 1;
}

static int find_hook(int id)
{
	for (int i = 0; i < nhooks; i++)
		if (hooks[i].id == id)
			return i;
	return -1;
}

static bool remove_hook(lua_State *L, int id)
{
	int i = find_hook(id);
	if (i < 0)
		return false;
	luaL_unref(L, LUA_REGISTRYINDEX, hooks[i].ref);
	memmove(&hooks[i], &hooks[i + 1], (size_t)(nhooks - i - 1) * sizeof(hooks[0]));
	nhooks--;
	update_bitmap();
	return true;
}

/* hv.on_exit(reason | "*", fn) -> handle; an error for a reason this CPU
 * cannot produce (MONITOR_TRAP_FLAG without MTF). */
static int l_on_exit(lua_State *L)
{
	int reason = lhv_check_reason(L, 1, true);
	char why[200];
	if (reason >= 0 && target_exit_reason_possible((unsigned)reason, why, sizeof(why)))
		return luaL_error(L, "%s", why);
	return lhv_on_exit(L, reason, 2);
}

/* hv.on_exception(vector, fn) -> handle: fn(e) sees the guest's own
 * exceptions of that vector (2: its NMIs), then the event goes on to the
 * guest as it came, unless fn returns "skip" (swallowed) or "stop" (the
 * debugger stops after the re-injection).  Refused with the reason for
 * what can never be seen: vectors 32+ (INT n causes no exit), reserved
 * ones, #MC. */
static int l_on_exception(lua_State *L)
{
	unsigned vector = check_vector(L, 1);
	char why[320];
	if (target_exception_hook_possible(vector, why, sizeof(why)))
		return luaL_error(L, "%s", why);
	return lhv_on_exit(L, EXCEPTION_KEY(vector), 2);
}

/* hv.on_poweroff(fn) -> handle: fn(how) runs once when the guest powers off */
static int l_on_poweroff(lua_State *L)
{
	return lhv_on_exit(L, POWEROFF, 1);
}

/* hv.off(handle) -> true, or false when no such hook */
static int l_off(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	lua_pushboolean(L, id > 0 && id <= 0x7fffffff && remove_hook(L, (int)id));
	return 1;
}

/* hv.hooks() -> { {id=, reason=}, ... } in running order */
static int l_hooks(lua_State *L)
{
	lua_createtable(L, nhooks, 0);
	for (int i = 0; i < nhooks; i++) {
		lua_createtable(L, 0, 2);
		lua_pushinteger(L, hooks[i].id);
		lua_setfield(L, -2, "id");
		lua_pushstring(L, reason_name(hooks[i].reason));
		lua_setfield(L, -2, "reason");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* ---- the exit event: fields read lazily, only while its hook runs */

struct event_field {
	const char *key;
	const char *vmcs;	/* NULL: computed */
};

static const struct event_field event_fields[] = {
	{ "reason", NULL }, { "name", NULL }, { "vcpu", NULL }, { "rip", NULL },
	{ "qualification", "EXIT_QUALIFICATION" },
	{ "instruction_length", "VM_EXIT_INSTRUCTION_LENGTH" },
	{ "instruction_info", "VM_EXIT_INSTRUCTION_INFO" },
	{ "guest_linear", "GUEST_LINEAR_ADDRESS" },
	{ "guest_physical", "GUEST_PHYSICAL_ADDRESS" },
	{ "interruption_info", "VM_EXIT_INTERRUPTION_INFO" },
	{ "interruption_error", "VM_EXIT_INTERRUPTION_ERROR_CODE" },
	{ "access", NULL }, { "description", NULL },	/* EPT violations */
	{ "vector", NULL }, { "type", NULL }, { "error_code", NULL }, { "address", NULL },	/* events */
};

static struct lhv_event *live_event(lua_State *L, int idx)
{
	struct lhv_event *e = luaL_checkudata(L, idx, EVENT_MT);
	if (!lhv.in_hook || e->seq != lhv.exit_seq)
		luaL_error(L, "this exit is over: an exit event is readable only during its hook");
	return e;
}

static uint64_t event_vmcs(lua_State *L, const char *field)
{
	char err[160];
	uint64_t v;
	if (target_vcpu_vmcs_read(lhv.vcpu, field, &v, err, sizeof(err)))
		luaL_error(L, "%s", err);
	return v;
}

/* EPT-violation qualification bits 2:0: the access that faulted (SDM Vol. 3C, Table 28-7). */
static const char *ept_access(uint64_t qual)
{
	return qual & 2 ? "write" : qual & 4 ? "fetch" : "read";
}

/* Interruption types (SDM Vol. 3C Table 25-17, bits 10:8). */
static const char *const event_types[8] = {
	"external interrupt", "reserved", "NMI", "hardware exception", "software interrupt",
	"privileged software exception", "software exception", "other event",
};

/* vector, type, error_code, address: the event of an EXCEPTION_NMI or
 * EXTERNAL_INTERRUPT exit (VM_EXIT_INTERRUPTION_INFO, SDM Vol. 3C
 * §28.2.2); address is a #PF's linear address, the CR2 the guest gets. */
static bool event_info_field(lua_State *L, struct lhv_event *e, const char *key)
{
	static const char *const keys[] = { "vector", "type", "error_code", "address" };
	size_t k = 0;
	while (k < 4 && strcmp(key, keys[k]))
		k++;
	if (k == 4)
		return false;
	uint32_t info = e->reason <= EXIT_REASON_EXTERNAL_INTERRUPT ?
			(uint32_t)event_vmcs(L, "VM_EXIT_INTERRUPTION_INFO") : 0;
	unsigned type = info >> 8 & 7;
	if (!(info & (1u << 31)))
		lua_pushnil(L);
	else if (k == 0)
		lua_pushinteger(L, info & 0xff);
	else if (k == 1)
		lua_pushstring(L, event_types[type]);
	else if (k == 2 && (info & (1u << 11)))
		lua_pushinteger(L, (lua_Integer)event_vmcs(L, "VM_EXIT_INTERRUPTION_ERROR_CODE"));
	else if (k == 3 && type == 3 && (info & 0xff) == 14)
		lua_pushinteger(L, (lua_Integer)event_vmcs(L, "EXIT_QUALIFICATION"));
	else
		lua_pushnil(L);
	return true;
}

static int event_computed(lua_State *L, struct lhv_event *e, const char *key)
{
	if (event_info_field(L, e, key))
		return 1;
	if (!strcmp(key, "reason")) {
		lua_pushinteger(L, e->reason);
	} else if (!strcmp(key, "name")) {
		lua_pushstring(L, reason_name((int)e->reason));
	} else if (!strcmp(key, "vcpu")) {
		lua_pushinteger(L, e->vcpu);
	} else if (!strcmp(key, "rip")) {
		uint64_t rip = 0;
		target_reg_read(lhv.vcpu, TREG_RIP, &rip);
		lua_pushinteger(L, (lua_Integer)rip);
	} else if (e->reason != EXIT_REASON_EPT_VIOLATION) {
		lua_pushnil(L);
	} else if (!strcmp(key, "access")) {
		lua_pushstring(L, ept_access(event_vmcs(L, "EXIT_QUALIFICATION")));
	} else {
		char text[160];
		ept_violation_describe(event_vmcs(L, "EXIT_QUALIFICATION"), text, sizeof(text));
		lua_pushstring(L, text);
	}
	return 1;
}

static int event_index(lua_State *L)
{
	struct lhv_event *e = live_event(L, 1);
	const char *key = luaL_checkstring(L, 2);

	for (size_t i = 0; i < sizeof(event_fields) / sizeof(event_fields[0]); i++) {
		if (strcmp(key, event_fields[i].key))
			continue;
		if (!event_fields[i].vmcs)
			return event_computed(L, e, key);
		lua_pushinteger(L, (lua_Integer)event_vmcs(L, event_fields[i].vmcs));
		return 1;
	}
	return luaL_error(L, "an exit event has no field \"%s\" (reason, name, vcpu, rip, qualification, "
			  "instruction_length, instruction_info, guest_linear, guest_physical, "
			  "interruption_info, interruption_error, access, description, vector, type, error_code, "
			  "address)", key);
}

static int event_tostring(lua_State *L)
{
	struct lhv_event *e = luaL_checkudata(L, 1, EVENT_MT);
	lua_pushfstring(L, "exit %s (%d)", reason_name((int)e->reason), (int)e->reason);
	return 1;
}

/* ---- running the hooks of one exit */

struct verdict_name {
	const char *name;
	enum hook_verdict verdict;
};

static const struct verdict_name verdicts[] = {
	{ "skip", HOOK_SKIP }, { "resume", HOOK_RESUME }, { "stop", HOOK_STOP },
};

static bool may_skip(lua_State *L, const struct lhv_exit *x)
{
	if (x->event)
		return event_hook_may_skip(x->info & 0xff);
	uint64_t info = x->reason == EXIT_REASON_EXCEPTION_NMI ? event_vmcs(L, "VM_EXIT_INTERRUPTION_INFO") : 0;
	return exit_hook_may_skip(x->reason, (uint32_t)info);
}

/* The hook's results are at top-1 (verdict) and top (stop reason).
 * -1, with a message pushed, when they make no sense. */
static int parse_verdict(lua_State *L, const struct hook *h, struct lhv_exit *x)
{
	if (lua_isnil(L, -2))
		return HOOK_DEFAULT;
	if (lua_type(L, -2) != LUA_TSTRING) {
		lua_pushfstring(L, "returned a %s; a hook returns nil, \"skip\", \"resume\" or \"stop\"",
				luaL_typename(L, -2));
		return -1;
	}
	const char *v = lua_tostring(L, -2);
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		if (strcmp(v, verdicts[i].name))
			continue;
		if (verdicts[i].verdict == HOOK_SKIP && !may_skip(L, x)) {
			if (x->event)
				lua_pushfstring(L, "returned \"skip\" on #DF: a double fault cannot be swallowed; "
						"return nil");
			else
				lua_pushfstring(L, "returned \"skip\" on %s: only an exit caused by an instruction "
						"can be skipped; return \"resume\" or nil", reason_name((int)x->reason));
			return -1;
		}
		if (verdicts[i].verdict == HOOK_STOP) {
			if (lua_type(L, -1) == LUA_TSTRING)
				snprintf(x->stop_reason, x->len, "%s", lua_tostring(L, -1));
			else
				snprintf(x->stop_reason, x->len, "Lua hook %d on %s", h->id,
					 reason_name(x->event ? h->reason : (int)x->reason));
		}
		return verdicts[i].verdict;
	}
	lua_pushfstring(L, "returned \"%s\"; a hook returns nil, \"skip\", \"resume\" or \"stop\"", v);
	return -1;
}

static void disable(lua_State *L, const struct hook *h, unsigned reason, const char *msg)
{
	char what[64];
	snprintf(what, sizeof(what), "hook %d (%s) on %s", h->id, reason_name(h->reason), reason_name((int)reason));
	lhv_report(what, msg ? msg : "(no message)");
	log_error("lua: hook %d removed; the guest continues", h->id);
	remove_hook(L, h->id);
}

static int hooks_main(lua_State *L)
{
	struct lhv_exit *x = lua_touserdata(L, 1);
	struct hook due[MAX_HOOKS];
	int n = 0;

	for (int i = 0; i < nhooks; i++)
		if (x->event ? hooks[i].reason == EXCEPTION_KEY(x->info & 0x1f) :
			       hooks[i].reason == ANY_REASON || hooks[i].reason == (int)x->reason)
			due[n++] = hooks[i];
	struct lhv_event *e = lua_newuserdatauv(L, sizeof(*e), 0);
	*e = (struct lhv_event){ lhv.exit_seq, x->reason, target_vcpu_index(x->v) };
	luaL_setmetatable(L, EVENT_MT);

	for (int i = 0; i < n; i++) {
		int at = find_hook(due[i].id);	/* an earlier hook may have removed it */
		if (at < 0)
			continue;
		lua_settop(L, 2);
		lua_rawgeti(L, LUA_REGISTRYINDEX, hooks[at].ref);
		lua_pushvalue(L, 2);
		lhv.in_hook = true;
		int status = lhv_pcall(L, 1, 2);
		lhv.in_hook = false;
		if (status != LUA_OK) {
			disable(L, &due[i], x->reason, lua_tostring(L, -1));
			continue;
		}
		int verdict = parse_verdict(L, &due[i], x);
		if (verdict < 0) {
			disable(L, &due[i], x->reason, lua_tostring(L, -1));
		} else if (verdict != HOOK_DEFAULT && x->verdict == HOOK_DEFAULT) {
			x->verdict = (enum hook_verdict)verdict;
		}
	}
	return 0;
}

void lhv_hooks_body(void *arg)
{
	lua_State *L = lhv.L;

	lua_settop(L, 0);
	if (!lua_checkstack(L, 8))
		return;
	lua_pushcfunction(L, hooks_main);
	lua_pushlightuserdata(L, arg);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK)	/* no memory for the event: no hook ran */
		lhv_report("exit hooks", lua_tostring(L, -1));
	lhv.in_hook = false;
	lhv_flush_output();
	lua_settop(L, 0);
}

/* ---- the end of the run */

static int poweroff_main(lua_State *L)
{
	const char *how = lua_touserdata(L, 1);
	struct hook due[MAX_HOOKS];
	int n = 0;

	for (int i = 0; i < nhooks; i++)
		if (hooks[i].reason == POWEROFF)
			due[n++] = hooks[i];
	for (int i = 0; i < n; i++) {
		lua_settop(L, 1);
		lua_rawgeti(L, LUA_REGISTRYINDEX, due[i].ref);
		lua_pushstring(L, how);
		if (lhv_pcall(L, 1, 0) != LUA_OK) {
			char what[32];
			snprintf(what, sizeof(what), "hook %d (poweroff)", due[i].id);
			lhv_report(what, lua_tostring(L, -1));
		}
	}
	return 0;
}

void lhv_poweroff_body(void *how)
{
	lua_State *L = lhv.L;

	lua_settop(L, 0);
	if (!lua_checkstack(L, 8))
		return;
	lua_pushcfunction(L, poweroff_main);
	lua_pushlightuserdata(L, how);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK)
		lhv_report("power-off hooks", lua_tostring(L, -1));
	lhv_flush_output();
	lua_settop(L, 0);
}

static const luaL_Reg hv_hook_funcs[] = {
	{ "on_exit", l_on_exit },
	{ "on_poweroff", l_on_poweroff },
	{ "on_exception", l_on_exception },
	{ "off", l_off },
	{ "hooks", l_hooks },
	{ NULL, NULL },
};

/* Adds the hook functions to the global table hv (lhv_open_api made it). */
void lhv_open_hooks(lua_State *L)
{
	static const luaL_Reg event_meta[] = {
		{ "__index", event_index },
		{ "__tostring", event_tostring },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, EVENT_MT);
	luaL_setfuncs(L, event_meta, 0);
	lua_pushliteral(L, "exit event");	/* shared by every script: protected */
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
	lua_getglobal(L, "hv");
	luaL_setfuncs(L, hv_hook_funcs, 0);
	lua_pop(L, 1);
}

void lhv_hooks_forget(void)
{
	nhooks = 0;
	next_id = 1;
	update_bitmap();
}
