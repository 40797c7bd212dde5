/* lhv_apic.c — the `apic` table (issue 12 item 2): the local APIC of a
 * vCPU as the debug target sees it (hv/target_apic.c) — the virtual-APIC
 * page with RVI/SVI under apic=virtual, this processor's physical APIC in
 * pass-through — as a table, a register, or the lines `monitor apic` shows.
 *
 *   apic.view([vcpu]) -> { mode=, id=, version=, tpr=, ppr=, rvi=, svi=,
 *                          irr={...}, isr={...}, tmr={...}, svr=, ldr=, dfr=,
 *                          esr=, icr=, lvt={timer=, thermal=, perfmon=,
 *                          lint0=, lint1=, error=}, timer={initial=,
 *                          current=, divide=, mode=} }
 *   apic.reg(offset [, vcpu]) -> the 32-bit register at that xAPIC offset
 *                          (x2APIC: 0x310 gives the ICR's bits 63:32)
 *   apic.show([vcpu]) -> the decoded view, one string of lines */
#include "hv/target.h"
#include "lhv_internal.h"
#include "platform/errno.h"

static struct vcpu *which(lua_State *L, int arg, const char *what)
{
	return lua_isnoneornil(L, arg) ? lhv.vcpu : lhv_check_vcpu(L, arg, what);
}

static void view_of(lua_State *L, struct vcpu *v, struct apic_view *a, const char *what)
{
	int rc = target_apic_view(v, a);
	if (rc == -ENODATA)
		lhv_error(L, "%s: in pass-through mode only the current processor's APIC can be read", what);
	else if (rc == -ENODEV)
		lhv_error(L, "%s: the local APIC is disabled", what);
	else if (rc)
		lhv_error(L, "%s: vCPU %u is running (error %d)", what, target_vcpu_index(v), -rc);
}

static void set_int(lua_State *L, const char *key, lua_Integer value)
{
	lua_pushinteger(L, value);
	lua_setfield(L, -2, key);
}

/* The vectors of IRR/ISR/TMR as a sequence, lowest first. */
static void set_vectors(lua_State *L, const char *key, const struct apic_view *a, unsigned offset)
{
	uint8_t v[256];
	unsigned n = apic_view_vectors(a, offset, v, 256);
	lua_createtable(L, (int)n, 0);
	for (unsigned i = 0; i < n; i++) {
		lua_pushinteger(L, v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, key);
}

static int l_view(lua_State *L)
{
	static const char *const modes[] = { "virtual", "xapic", "x2apic" };
	static const struct { const char *name; unsigned offset; } lvt[] = {
		{ "timer", APIC_OFF_LVT_TIMER }, { "thermal", APIC_OFF_LVT_THERMAL }, { "perfmon", APIC_OFF_LVT_PERF },
		{ "lint0", APIC_OFF_LVT_LINT0 }, { "lint1", APIC_OFF_LVT_LINT1 }, { "error", APIC_OFF_LVT_ERROR },
	};
	struct apic_view a;
	view_of(L, which(L, 1, "apic.view"), &a, "apic.view");

	lua_createtable(L, 0, 20);
	lua_pushstring(L, modes[a.mode % 3]);
	lua_setfield(L, -2, "mode");
	set_int(L, "id", a.mode == APIC_VIEW_X2APIC ? apic_view_reg(&a, APIC_OFF_ID) : apic_view_reg(&a, APIC_OFF_ID) >> 24);
	set_int(L, "version", apic_view_reg(&a, APIC_OFF_VERSION));
	set_int(L, "tpr", apic_view_reg(&a, APIC_OFF_TPR) & 0xff);
	set_int(L, "ppr", apic_view_reg(&a, APIC_OFF_PPR) & 0xff);
	if (a.mode == APIC_VIEW_VIRTUAL) {
		set_int(L, "rvi", a.rvi);
		set_int(L, "svi", a.svi);
	}
	set_vectors(L, "irr", &a, APIC_OFF_IRR);
	set_vectors(L, "isr", &a, APIC_OFF_ISR);
	set_vectors(L, "tmr", &a, APIC_OFF_TMR);
	set_int(L, "svr", apic_view_reg(&a, APIC_OFF_SVR));
	set_int(L, "ldr", apic_view_reg(&a, APIC_OFF_LDR));
	set_int(L, "dfr", apic_view_reg(&a, APIC_OFF_DFR));
	set_int(L, "esr", apic_view_reg(&a, APIC_OFF_ESR));
	set_int(L, "icr", (lua_Integer)((uint64_t)a.icr_dest << 32 | apic_view_reg(&a, APIC_OFF_ICR_LOW)));
	lua_createtable(L, 0, 6);
	for (unsigned i = 0; i < sizeof(lvt) / sizeof(lvt[0]); i++)
		set_int(L, lvt[i].name, apic_view_reg(&a, lvt[i].offset));
	lua_setfield(L, -2, "lvt");
	lua_createtable(L, 0, 4);
	set_int(L, "initial", apic_view_reg(&a, APIC_OFF_TIMER_INITIAL));
	if (a.have_current)
		set_int(L, "current", apic_view_reg(&a, APIC_OFF_TIMER_CURRENT));
	set_int(L, "divide", apic_view_divisor(apic_view_reg(&a, APIC_OFF_TIMER_DIVIDE)));
	lua_pushstring(L, apic_view_timer_mode(apic_view_reg(&a, APIC_OFF_LVT_TIMER)));
	lua_setfield(L, -2, "mode");
	lua_setfield(L, -2, "timer");
	return 1;
}

static int l_reg(lua_State *L)
{
	lua_Integer offset = luaL_checkinteger(L, 1);
	struct apic_view a;
	luaL_argcheck(L, offset >= 0 && offset < 0x400 && !(offset & 0xf), 1,
		      "an xAPIC register offset: 0x000-0x3f0, a multiple of 16");
	view_of(L, which(L, 2, "apic.reg"), &a, "apic.reg");
	lua_pushinteger(L, apic_view_reg(&a, (unsigned)offset));
	return 1;
}

static void add_line(void *ctx, const char *line)
{
	luaL_Buffer *b = ctx;
	luaL_addstring(b, line);
	luaL_addchar(b, '\n');
}

static int l_show(lua_State *L)
{
	struct apic_view a;
	luaL_Buffer b;
	view_of(L, which(L, 1, "apic.show"), &a, "apic.show");
	luaL_buffinit(L, &b);
	apic_view_report(&a, add_line, &b);
	luaL_pushresult(&b);
	return 1;
}

void lhv_open_apic(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "view", l_view },
		{ "reg", l_reg },
		{ "show", l_show },
		{ NULL, NULL },
	};
	lua_newtable(L);
	luaL_setfuncs(L, funcs, 0);
	lua_setglobal(L, "apic");
}
