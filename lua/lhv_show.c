/* lhv_show.c — how `monitor lua` shows the values a chunk returns:
 * integers in decimal and hex (the way a debugger user reads them),
 * strings as they are (quoted inside a table), and tables as a Lua
 * constructor — the sequence first, then the other keys sorted — bounded
 * in entries, depth and length, so a huge or cyclic table prints one line
 * of known size.  Tables are read raw (no __index, no __pairs: showing a
 * value runs no Lua code); __tostring is honoured, as print() does. */
#include <stdio.h>
#include <string.h>

#include "lhv_internal.h"

struct show {
	char *out;
	size_t len;
	bool cut;	/* LHV_SHOW_MAX reached: nothing more is added */
};

static char text[LHV_SHOW_MAX + sizeof(" ...")];

static void put(struct show *s, const char *t, size_t n)
{
	if (s->cut)
		return;
	if (n > LHV_SHOW_MAX - s->len) {
		n = LHV_SHOW_MAX - s->len;
		s->cut = true;
	}
	memcpy(s->out + s->len, t, n);
	s->len += n;
}

static void put_str(struct show *s, const char *t)
{
	put(s, t, strlen(t));
}

/* A string inside a table: quoted, escaped, at most LHV_SHOW_STRING bytes. */
static void put_quoted(struct show *s, const char *str, size_t n)
{
	char esc[8];
	put_str(s, "\"");
	for (size_t i = 0; i < n && i < LHV_SHOW_STRING; i++) {
		unsigned char c = (unsigned char)str[i];
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c < ' ' || c == 127)
			snprintf(esc, sizeof(esc), "\\%u", c);
		else
			snprintf(esc, sizeof(esc), "%c", c);
		put_str(s, esc);
	}
	put_str(s, n > LHV_SHOW_STRING ? "\"..." : "\"");
}

static bool is_name(const char *k, size_t n)
{
	if (!n || (k[0] >= '0' && k[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(k[i] == '_' || (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		      (k[i] >= '0' && k[i] <= '9')))
			return false;
	return true;
}

/* Keys sort numbers first, then strings, then everything else as found. */
static int key_rank(lua_State *L, int i)
{
	int t = lua_type(L, i);
	return t == LUA_TNUMBER ? 0 : t == LUA_TSTRING ? 1 : 2;
}

static bool key_less(lua_State *L, int a, int b)
{
	int ra = key_rank(L, a), rb = key_rank(L, b);
	if (ra != rb)
		return ra < rb;
	return ra < 2 && lua_compare(L, a, b, LUA_OPLT);
}

/* keys[1..n], insertion sort: n is at most LHV_SHOW_ENTRIES. */
static void sort_keys(lua_State *L, int keys, int n)
{
	for (int i = 2; i <= n; i++) {
		for (int j = i; j > 1; j--) {
			lua_rawgeti(L, keys, j - 1);
			lua_rawgeti(L, keys, j);
			if (!key_less(L, -1, -2)) {
				lua_pop(L, 2);
				break;
			}
			lua_rawseti(L, keys, j - 1);
			lua_rawseti(L, keys, j);
		}
	}
}

static void show_value(lua_State *L, struct show *s, int i, int depth, bool quoted);

/* The table's keys that are not part of its sequence 1..seq, at most room
 * of them, into a new table on the stack; *more when some were left out. */
static int collect_keys(lua_State *L, int t, lua_Integer seq, int room, bool *more)
{
	int n = 0;
	lua_createtable(L, room, 0);
	int keys = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= seq)
			continue;
		if (n == room) {
			*more = true;
			lua_pop(L, 1);
			break;
		}
		lua_pushvalue(L, -1);
		lua_rawseti(L, keys, ++n);
	}
	sort_keys(L, keys, n);
	return n;
}

static void show_table(lua_State *L, struct show *s, int t, int depth)
{
	lua_Integer seq = 0;
	bool more = false;
	int shown = 0;

	if (depth >= LHV_SHOW_DEPTH || !lua_checkstack(L, 8)) {
		put_str(s, "{...}");
		return;
	}
	put_str(s, "{");
	/* A table from 0 (hv.stats().vcpus) shows every index in brackets,
	 * [0] first, rather than 1.. bare and [0] after them. */
	bool from_zero = lua_rawgeti(L, t, 0) != LUA_TNIL;
	lua_pop(L, 1);
	for (; !from_zero && shown < LHV_SHOW_ENTRIES; shown++, seq++) {
		if (lua_rawgeti(L, t, seq + 1) == LUA_TNIL) {
			lua_pop(L, 1);
			break;
		}
		put_str(s, shown ? ", " : " ");
		show_value(L, s, -1, depth + 1, true);
		lua_pop(L, 1);
	}
	int n = collect_keys(L, t, seq, LHV_SHOW_ENTRIES - shown, &more);
	for (int k = 1; k <= n && !s->cut; k++) {
		size_t len;
		lua_rawgeti(L, -1, k);
		put_str(s, shown++ ? ", " : " ");
		const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (name && is_name(name, len)) {
			put(s, name, len);
		} else {
			put_str(s, "[");
			show_value(L, s, -1, depth + 1, true);
			put_str(s, "]");
		}
		put_str(s, " = ");
		lua_rawget(L, t);
		show_value(L, s, -1, depth + 1, true);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	put_str(s, more ? ", ... }" : shown ? " }" : "}");
}

static void show_value(lua_State *L, struct show *s, int i, int depth, bool quoted)
{
	char num[48];
	size_t n;

	i = lua_absindex(L, i);
	if (s->cut)
		return;
	if (lua_isinteger(L, i)) {
		lua_Integer v = lua_tointeger(L, i);
		snprintf(num, sizeof(num), "%lld (0x%llx)", (long long)v, (unsigned long long)v);
		put_str(s, num);
	} else if (lua_type(L, i) == LUA_TSTRING && quoted) {
		const char *str = lua_tolstring(L, i, &n);
		put_quoted(s, str, n);
	} else if (lua_type(L, i) == LUA_TTABLE && luaL_getmetafield(L, i, "__tostring") == LUA_TNIL) {
		show_table(L, s, i, depth);
	} else {
		if (lua_type(L, i) == LUA_TTABLE)
			lua_pop(L, 1);	/* the __tostring field */
		const char *str = luaL_tolstring(L, i, &n);
		put(s, str, n);
		lua_pop(L, 1);
	}
}

void lhv_show_values(lua_State *L, int first, int last)
{
	struct show s = { text, 0, false };

	for (int i = first; i <= last; i++) {
		if (i > first)
			put_str(&s, "\t");
		show_value(L, &s, i, 0, false);
	}
	if (s.cut) {
		memcpy(text + s.len, " ...", 4);
		s.len += 4;
	}
	lua_pushlstring(L, text, s.len);
}
