/* lhv_api_mem.c — the `mem` and `ept` tables: guest memory by virtual or
 * physical address, sized little-endian integers or byte strings, and the
 * EPT entries behind it (hv/target.h). */
#include <stdio.h>
#include <string.h>

#include "hv/ept.h"
#include "hv/target.h"
#include "lhv_internal.h"
#include "platform/errno.h"

#define MEM_MAX_READ (1u << 20)

enum space { VIRT, PHYS };

static const char *const space_name[] = { "guest-virtual", "guest-physical" };

static uint64_t check_addr(lua_State *L, int arg)
{
	return (uint64_t)luaL_checkinteger(L, arg);
}

static int mem_fail(lua_State *L, const char *what, enum space sp, uint64_t addr, size_t len, int rc)
{
	const char *why = rc == -EPERM ? "is the hypervisor's memory"
			: rc == -EFAULT && sp == VIRT ? "is not mapped by the guest's page tables (or lies outside its memory)"
			: rc == -EFAULT ? "lies outside the guest's memory" : "cannot be reached";
	return lhv_error(L, "mem.%s: %s 0x%llx (%zu bytes) %s", what, space_name[sp], (unsigned long long)addr,
			 len, why);
}

static int do_read(enum space sp, uint64_t addr, void *buf, size_t len)
{
	return sp == VIRT ? target_read_virt(lhv.vcpu, addr, buf, len) : target_read_phys(addr, buf, len);
}

static int do_write(enum space sp, uint64_t addr, const void *buf, size_t len)
{
	return sp == VIRT ? target_write_virt(lhv.vcpu, addr, buf, len) : target_write_phys(addr, buf, len);
}

/* "u8".."u64": the width in bytes, else 0. */
static size_t int_width(const char *kind)
{
	static const char *const kinds[] = { "u8", "u16", "u32", "u64" };
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(kind, kinds[i]))
			return (size_t)1 << i;
	return 0;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* read(addr, "u8"|"u16"|"u32"|"u64") -> integer; read(addr, n) -> string of n bytes */
static int mem_read(lua_State *L, enum space sp, const char *what)
{
	uint64_t addr = check_addr(L, 1);
	uint8_t word[8];

	if (lua_type(L, 2) == LUA_TSTRING) {
		size_t n = int_width(lua_tostring(L, 2));
		luaL_argcheck(L, n, 2, "\"u8\", \"u16\", \"u32\", \"u64\" or a byte count");
		int rc = do_read(sp, addr, word, n);
		if (rc)
			return mem_fail(L, what, sp, addr, n, rc);
		lua_pushinteger(L, (lua_Integer)load_le(word, n));
		return 1;
	}
	lua_Integer n = luaL_checkinteger(L, 2);
	luaL_argcheck(L, n >= 0 && n <= MEM_MAX_READ, 2, "a byte count is 0-1048576");
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, (size_t)n);
	int rc = do_read(sp, addr, p, (size_t)n);
	if (rc)
		return mem_fail(L, what, sp, addr, (size_t)n, rc);
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

/* write(addr, "u8".."u64", value); write(addr, string) */
static int mem_write(lua_State *L, enum space sp, const char *what)
{
	uint64_t addr = check_addr(L, 1);
	size_t n;
	const char *s = luaL_checklstring(L, 2, &n);
	uint8_t word[8];
	size_t width = lua_isnoneornil(L, 3) ? 0 : int_width(s);

	if (!lua_isnoneornil(L, 3)) {
		luaL_argcheck(L, width, 2, "\"u8\", \"u16\", \"u32\" or \"u64\" before a value");
		uint64_t v = (uint64_t)luaL_checkinteger(L, 3);
		for (size_t i = 0; i < width; i++)
			word[i] = (uint8_t)(v >> (8 * i));
		s = (const char *)word;
		n = width;
	}
	int rc = do_write(sp, addr, s, n);
	if (rc)
		return mem_fail(L, what, sp, addr, n, rc);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_read(lua_State *L) { return mem_read(L, VIRT, "read"); }
static int l_write(lua_State *L) { return mem_write(L, VIRT, "write"); }
static int l_read_phys(lua_State *L) { return mem_read(L, PHYS, "read_phys"); }
static int l_write_phys(lua_State *L) { return mem_write(L, PHYS, "write_phys"); }

/* mem.virt_to_phys(gva) -> gpa, or nil and why */
static int l_virt_to_phys(lua_State *L)
{
	uint64_t gva = check_addr(L, 1), gpa;
	int rc = target_virt_to_phys(lhv.vcpu, gva, &gpa);
	if (rc) {
		char why[96];
		snprintf(why, sizeof(why), "guest-virtual 0x%llx is not mapped (error %d)", (unsigned long long)gva, -rc);
		lua_pushnil(L);
		lua_pushstring(L, why);
		return 2;
	}
	lua_pushinteger(L, (lua_Integer)gpa);
	return 1;
}

static const luaL_Reg mem_funcs[] = {
	{ "read", l_read },
	{ "write", l_write },
	{ "read_phys", l_read_phys },
	{ "write_phys", l_write_phys },
	{ "virt_to_phys", l_virt_to_phys },
	{ NULL, NULL },
};

/* ---- ept */

static const char *memtype_name(unsigned mt)
{
	switch (mt) {
	case EPT_MT_UC: return "UC";
	case EPT_MT_WC: return "WC";
	case EPT_MT_WT: return "WT";
	case EPT_MT_WP: return "WP";
	case EPT_MT_WB: return "WB";
	default: return "reserved";
	}
}

/* ept.query(gpa) -> { present, hpa, perms = "r-x", memtype = "WB", level, page_size, accessed, dirty } */
static int l_query(lua_State *L)
{
	uint64_t gpa = check_addr(L, 1);
	struct ept_mapping m;
	char perms[4];

	int rc = target_ept_query(lhv.vcpu, gpa, &m);
	if (rc)
		return lhv_error(L, "ept.query: guest-physical 0x%llx is beyond what EPT translates (error %d)",
				 (unsigned long long)gpa, -rc);
	lua_createtable(L, 0, 8);
	lua_pushboolean(L, m.present);
	lua_setfield(L, -2, "present");
	if (!m.present)
		return 1;
	lua_pushinteger(L, (lua_Integer)m.hpa);
	lua_setfield(L, -2, "hpa");
	lua_pushstring(L, ept_perms_string(m.perms, perms));
	lua_setfield(L, -2, "perms");
	lua_pushstring(L, memtype_name(m.memtype));
	lua_setfield(L, -2, "memtype");
	lua_pushinteger(L, m.level);
	lua_setfield(L, -2, "level");
	lua_pushinteger(L, (lua_Integer)m.page_size);
	lua_setfield(L, -2, "page_size");
	lua_pushboolean(L, m.accessed);
	lua_setfield(L, -2, "accessed");
	lua_pushboolean(L, m.dirty);
	lua_setfield(L, -2, "dirty");
	return 1;
}

/* ept.protect(gpa, len, "r-x") -> true */
static int l_protect(lua_State *L)
{
	uint64_t gpa = check_addr(L, 1);
	uint64_t len = (uint64_t)luaL_checkinteger(L, 2);
	const char *s = luaL_checkstring(L, 3);
	unsigned perms;

	if (ept_parse_perms(s, &perms))
		return luaL_error(L, "ept.protect: rights are three letters, \"rwx\" with '-' for each one left out, "
				  "not \"%s\"", s);
	int rc = target_ept_protect(lhv.vcpu, gpa, len, perms);
	const char *why = rc == -EPERM ? "overlaps the hypervisor's memory"
			: rc == -ENOENT ? "is not all mapped guest memory"
			: rc == -EINVAL ? "is not page-aligned, or the rights are ones the CPU cannot map"
			: rc == -ENOMEM ? "needs page tables and none are left"
			: rc == -EBUSY ? "holds a hidden breakpoint (its EPT views own its rights)" : "was refused";
	if (rc)
		return lhv_error(L, "ept.protect: 0x%llx+0x%llx %s", (unsigned long long)gpa,
				 (unsigned long long)len, why);
	lua_pushboolean(L, 1);
	return 1;
}

/* ept.on_violation(fn): hv.on_exit("EPT_VIOLATION", fn) */
static int l_on_violation(lua_State *L)
{
	return lhv_on_exit(L, EXIT_REASON_EPT_VIOLATION, 1);
}

static const luaL_Reg ept_funcs[] = {
	{ "query", l_query },
	{ "protect", l_protect },
	{ "on_violation", l_on_violation },
	{ NULL, NULL },
};

void lhv_open_mem(lua_State *L)
{
	luaL_newlib(L, mem_funcs);
	lua_setglobal(L, "mem");
	luaL_newlib(L, ept_funcs);
	lua_setglobal(L, "ept");
}
