/* lhv_api.c — the `hv`, `regs`, `vmcs` and `inject` tables, over the debug
 * target API (hv/target.h) only: names come from the .def tables, errors
 * are the target's sentences.  `regs` and `vmcs` reach the current vCPU;
 * regs.of(n) and vmcs.of(n) the same bound to vCPU n (lhv_vcpus.c says
 * when it is reachable).  scripts/README.md documents them. */
#include <stdio.h>
#include <string.h>

#include "hv/target.h"
#include "lhv_internal.h"
#include "platform/errno.h"
#include "platform/log.h"

/* ---- hv */

/* hv.log(...): like print, to the hypervisor's log at info level. */
static int l_log(lua_State *L)
{
	luaL_Buffer b;
	int n = lua_gettop(L);

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	lhv_report_info(lua_tostring(L, -1));
	return 0;
}

/* hv.reason(name | number) -> number, name */
static int l_reason(lua_State *L)
{
	int r = lhv_check_reason(L, 1, false);
	const char *name = exit_reason_name((unsigned)r);
	lua_pushinteger(L, r);
	if (name)
		lua_pushstring(L, name);
	else
		lua_pushnil(L);
	return 2;
}

/* hv.stepping() -> "MTF" or "TF", and the boot probe's verdict in words
 * (book example 4-2): how gdb's stepi runs on this CPU, and why. */
static int l_stepping(lua_State *L)
{
	char why[200];
	lua_pushstring(L, target_steps_with_mtf(why, sizeof(why)) ? "MTF" : "TF");
	lua_pushstring(L, why);
	return 2;
}

/* hv.cpuid(leaf [, subleaf]) -> eax, ebx, ecx, edx as the guest's CPUID
 * returns them under vmxdbg (VMX hidden): what a CPUID hook starts from. */
static int l_cpuid(lua_State *L)
{
	lua_Integer leaf = luaL_checkinteger(L, 1), sub = luaL_optinteger(L, 2, 0);
	uint32_t out[4];
	luaL_argcheck(L, leaf >= 0 && leaf <= 0xffffffff, 1, "a leaf is 32 bits");
	luaL_argcheck(L, sub >= 0 && sub <= 0xffffffff, 2, "a subleaf is 32 bits");
	int rc = target_cpuid(lhv.vcpu, (uint32_t)leaf, (uint32_t)sub, out);
	if (rc)
		return lhv_error(L, "hv.cpuid: refused (error %d)", -rc);
	for (int i = 0; i < 4; i++)
		lua_pushinteger(L, out[i]);
	return 4;
}

static const luaL_Reg hv_funcs[] = {
	{ "cpuid", l_cpuid },
	{ "log", l_log },
	{ "reason", l_reason },
	{ "stepping", l_stepping },
	{ NULL, NULL },
};

/* ---- regs: regs.rax, regs.rip = x, regs.cr3 ..., regs.of(n).rax */

#define REGS_MT "vmxdbg.regs"
#define CURRENT_VCPU (-1)	/* a proxy that follows the current vCPU */

/* The vCPU behind the regs proxy at index 1. */
static struct vcpu *regs_vcpu(lua_State *L)
{
	const int *bound = luaL_checkudata(L, 1, REGS_MT);
	return *bound == CURRENT_VCPU ? lhv.vcpu : lhv_reachable(L, (unsigned)*bound, "regs.of");
}

static void push_regs(lua_State *L, int bound)
{
	int *p = lua_newuserdatauv(L, sizeof(int), 0);	/* not a table: rawset cannot go around __newindex */
	*p = bound;
	luaL_setmetatable(L, REGS_MT);
}

/* regs.of(n) -> vCPU n's registers, the same kind of proxy */
static int regs_of(lua_State *L)
{
	push_regs(L, (int)target_vcpu_index(lhv_check_vcpu(L, 1, "regs.of")));
	return 1;
}

static int unknown_register(lua_State *L, const char *name)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addstring(&b, "regs: no register \"");
	luaL_addstring(&b, name);
	luaL_addstring(&b, "\"; there are");
	for (int r = 0; r < TREG_COUNT; r++) {
		luaL_addchar(&b, ' ');
		luaL_addstring(&b, target_reg_name((enum target_reg)r));
	}
	luaL_addstring(&b, ", and regs.of(n) for vCPU n's");
	luaL_pushresult(&b);
	return lua_error(L);
}

static enum target_reg check_register(lua_State *L, const struct vcpu *v)
{
	const char *name = luaL_checkstring(L, 2);
	int r = target_reg_by_name(name);
	if (r < 0)
		unknown_register(L, name);
	if (r < TREG_RIP && !v->gprs)
		luaL_error(L, "regs.%s: the guest's general-purpose registers exist from its first VM exit on",
			   target_reg_name((enum target_reg)r));
	return (enum target_reg)r;
}

static int regs_index(lua_State *L)
{
	struct vcpu *v = regs_vcpu(L);
	if (lua_type(L, 2) == LUA_TSTRING && !strcmp(lua_tostring(L, 2), "of")) {
		lua_pushcfunction(L, regs_of);
		return 1;
	}
	enum target_reg r = check_register(L, v);
	uint64_t value;
	int rc = target_reg_read(v, r, &value);
	if (rc)
		return lhv_error(L, "regs.%s: cannot be read (error %d)", target_reg_name(r), -rc);
	lua_pushinteger(L, (lua_Integer)value);
	return 1;
}

static int regs_newindex(lua_State *L)
{
	struct vcpu *v = regs_vcpu(L);
	enum target_reg r = check_register(L, v);
	uint64_t value = (uint64_t)luaL_checkinteger(L, 3);
	int rc = target_reg_write(v, r, value);
	if (rc == -EPERM)
		return lhv_error(L, "regs.%s is read-only here: changing it under the guest is for the guest to do",
				 target_reg_name(r));
	if (rc)
		return lhv_error(L, "regs.%s = 0x%llx refused (error %d)", target_reg_name(r),
				 (unsigned long long)value, -rc);
	return 0;
}

static int regs_tostring(lua_State *L)
{
	const int *bound = luaL_checkudata(L, 1, REGS_MT);
	if (*bound == CURRENT_VCPU)
		lua_pushliteral(L, "regs (the current vCPU's)");
	else
		lua_pushfstring(L, "regs.of(%d)", *bound);
	return 1;
}

/* ---- vmcs */

static const char *field_arg(lua_State *L, int arg, char *buf, size_t n)
{
	if (lua_type(L, arg) == LUA_TNUMBER) {
		snprintf(buf, n, "0x%llx", (unsigned long long)luaL_checkinteger(L, arg));
		return buf;
	}
	return luaL_checkstring(L, arg);
}

/* The vCPU of a vmcs function: upvalue 1 is CURRENT_VCPU or the index
 * vmcs.of bound it to. */
static struct vcpu *vmcs_vcpu(lua_State *L)
{
	lua_Integer bound = lua_tointeger(L, lua_upvalueindex(1));
	return bound == CURRENT_VCPU ? lhv.vcpu : lhv_reachable(L, (unsigned)bound, "vmcs.of");
}

static int l_vmcs_read(lua_State *L)
{
	char num[24], err[320];
	uint64_t v;
	struct vcpu *vc = vmcs_vcpu(L);
	if (target_vcpu_vmcs_read(vc, field_arg(L, 1, num, sizeof(num)), &v, err, sizeof(err)))
		return luaL_error(L, "vmcs.read: %s", err);
	lua_pushinteger(L, (lua_Integer)v);
	return 1;
}

static int l_vmcs_write(lua_State *L)
{
	char num[24], err[320];
	struct vcpu *vc = vmcs_vcpu(L);
	const char *f = field_arg(L, 1, num, sizeof(num));
	uint64_t v = (uint64_t)luaL_checkinteger(L, 2);
	if (target_vcpu_vmcs_write(vc, f, v, err, sizeof(err)))
		return luaL_error(L, "vmcs.write: %s", err);
	lua_pushboolean(L, 1);
	return 1;
}

/* One field's facts, its encoding taken apart (SDM Vol. 3C §25.11.2, book ch. 3). */
static void push_field(lua_State *L, const struct vmcs_field_info *f)
{
	lua_createtable(L, 0, 6);
	lua_pushstring(L, f->name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, f->encoding);
	lua_setfield(L, -2, "encoding");
	lua_pushinteger(L, vmcs_width_bits(f->width));
	lua_setfield(L, -2, "width");
	lua_pushstring(L, vmcs_group_name(f->group));
	lua_setfield(L, -2, "group");
	lua_pushinteger(L, vmcs_enc_index(f->encoding));
	lua_setfield(L, -2, "index");
	lua_pushboolean(L, f->group == VMCS_GROUP_EXIT_INFO);
	lua_setfield(L, -2, "read_only");
}

/* vmcs.fields([group]) -> every field in table order, or one group's */
static int l_vmcs_fields(lua_State *L)
{
	const char *group = luaL_optstring(L, 1, NULL);
	const struct vmcs_field_info *f;
	int n = 0;

	lua_newtable(L);
	for (size_t i = 0; (f = vmcs_field_at(i)); i++) {
		if (group && strcmp(group, vmcs_group_name(f->group)))
			continue;
		push_field(L, f);
		lua_rawseti(L, -2, ++n);
	}
	if (group && !n)
		return luaL_error(L, "vmcs.fields: no group \"%s\" (control, exit-info, guest, host)", group);
	return 1;
}

/* vmcs.info(name | encoding) -> the field's facts, without reading it */
static int l_vmcs_info(lua_State *L)
{
	const struct vmcs_field_info *f;
	if (lua_type(L, 1) == LUA_TNUMBER) {
		lua_Integer e = luaL_checkinteger(L, 1);
		f = e >= 0 && e <= 0xffffffff ? vmcs_field_by_encoding((uint32_t)e) : NULL;
		if (!f)
			return lhv_error(L, "vmcs.info: no VMCS field has encoding 0x%llx", (unsigned long long)e);
	} else {
		const char *name = luaL_checkstring(L, 1);
		if (!(f = vmcs_field_by_name(name))) {
			char msg[200];
			vmcs_field_unknown_message(msg, sizeof(msg), name);
			return luaL_error(L, "vmcs.info: %s", msg);
		}
	}
	push_field(L, f);
	return 1;
}

static const luaL_Reg vmcs_funcs[] = {
	{ "read", l_vmcs_read },
	{ "write", l_vmcs_write },
	{ "fields", l_vmcs_fields },
	{ "info", l_vmcs_info },
	{ NULL, NULL },
};

/* vmcs.of(n) -> vCPU n's read, write, fields and info (read-only) */
static int l_vmcs_of(lua_State *L)
{
	unsigned n = target_vcpu_index(lhv_check_vcpu(L, 1, "vmcs.of"));
	char name[24];

	lua_createtable(L, 0, 4);
	lua_pushinteger(L, n);
	luaL_setfuncs(L, vmcs_funcs, 1);
	snprintf(name, sizeof(name), "vmcs.of(%u)", n);
	lhv_push_readonly(L, -1, name);
	return 1;
}

/* ---- inject */

static unsigned check_vector(lua_State *L, int arg)
{
	lua_Integer v = luaL_checkinteger(L, arg);
	luaL_argcheck(L, v >= 0 && v <= 255, arg, "a vector is 0-255");
	return (unsigned)v;
}

static int inject_result(lua_State *L, const char *what, unsigned vector, int rc)
{
	if (rc == -EBUSY)
		return lhv_error(L, "inject.%s: an event of that kind is already pending for this VM entry", what);
	if (rc == -EINVAL)
		return lhv_error(L, "inject.%s: vector %u cannot be injected that way", what, vector);
	if (rc)
		return lhv_error(L, "inject.%s: refused (error %d)", what, -rc);
	lua_pushboolean(L, 1);
	return 1;
}

/* inject.exception(vector [, error_code]) */
static int l_exception(lua_State *L)
{
	unsigned vector = check_vector(L, 1);
	bool has_error = !lua_isnoneornil(L, 2);
	uint32_t error = has_error ? (uint32_t)luaL_checkinteger(L, 2) : 0;
	char err[320];
	if (target_inject_exception(lhv.vcpu, vector, has_error, error, err, sizeof(err)))
		return lhv_error(L, "inject.exception: %s", err);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_interrupt(lua_State *L)
{
	unsigned vector = check_vector(L, 1);
	return inject_result(L, "interrupt", vector, target_inject_interrupt(lhv.vcpu, vector));
}

static int l_nmi(lua_State *L)
{
	return inject_result(L, "nmi", 2, target_inject_nmi(lhv.vcpu));
}

static const luaL_Reg inject_funcs[] = {
	{ "exception", l_exception },
	{ "interrupt", l_interrupt },
	{ "nmi", l_nmi },
	{ NULL, NULL },
};

static void new_library(lua_State *L, const char *name, const luaL_Reg *funcs)
{
	lua_newtable(L);
	luaL_setfuncs(L, funcs, 0);
	lua_setglobal(L, name);
}

void lhv_open_api(lua_State *L)
{
	static const luaL_Reg regs_meta[] = {
		{ "__index", regs_index },
		{ "__newindex", regs_newindex },
		{ "__tostring", regs_tostring },
		{ NULL, NULL },
	};
	new_library(L, "hv", hv_funcs);
	new_library(L, "inject", inject_funcs);
	lua_newtable(L);
	lua_pushinteger(L, CURRENT_VCPU);
	luaL_setfuncs(L, vmcs_funcs, 1);
	lua_pushcfunction(L, l_vmcs_of);
	lua_setfield(L, -2, "of");
	lua_setglobal(L, "vmcs");
	luaL_newmetatable(L, REGS_MT);
	luaL_setfuncs(L, regs_meta, 0);
	lua_pushliteral(L, "regs");
	lua_setfield(L, -2, "__metatable");
	lua_pushnil(L);		/* a plain userdata in messages, as before regs.of */
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);
	push_regs(L, CURRENT_VCPU);
	lua_setglobal(L, "regs");
}
