/* lhv_strmatch.c — string.find, match, gmatch and gsub with every step
 * paid for.  Lua's count hook never fires inside a C function, so a
 * backtracking pattern (`("a"):rep(5000):find(".-.-.-b")`) or a %b scan
 * repeated at each position would run unbounded inside lstrlib (PLATFORM-
 * NOTES measured 50 M instructions under a 1000-instruction budget).  This
 * is the same pattern language (Lua 5.4 manual §6.4.1), written here so that
 * each loop over the subject or the pattern charges the call's instruction
 * budget; plain finds use memmem (two-way: linear).  The host tests check it
 * against Lua's own functions on many patterns. */
#define _GNU_SOURCE
#include <ctype.h>
#include <string.h>

#include "lhv_internal.h"

#define MAX_CAPTURES 32		/* LUA_MAXCAPTURES */
#define MAX_DEPTH 200		/* recursion, as lstrlib's MAXCCALLS */
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define FUEL 256		/* steps between charges */
#define ESC '%'
#define SPECIALS "^$*+?.([%-"

struct mstate {
	const char *src, *src_end, *pat_end;
	lua_State *L;
	int depth;
	unsigned fuel;
	int level;
	struct {
		const char *init;
		ptrdiff_t len;
	} cap[MAX_CAPTURES];
};

static inline unsigned char uc(char c) { return (unsigned char)c; }

static inline void tick(struct mstate *ms)
{
	if (--ms->fuel == 0) {
		ms->fuel = FUEL;
		lhv_charge(ms->L, FUEL);
	}
}

/* Charges the steps since the last charge: every call pays for its work. */
static void settle(struct mstate *ms)
{
	lhv_charge(ms->L, FUEL - ms->fuel);
	ms->fuel = FUEL;
}

static void prep(struct mstate *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
	ms->L = L;
	ms->src = s;
	ms->src_end = s + ls;
	ms->pat_end = p + lp;
	ms->fuel = FUEL;
}

static void reprep(struct mstate *ms)
{
	ms->level = 0;
	ms->depth = MAX_DEPTH;
}

static const char *class_end(struct mstate *ms, const char *p)
{
	char c = *p++;
	if (c == ESC) {
		if (p >= ms->pat_end)
			luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return p + 1;
	}
	if (c == '[') {
		if (*p == '^')
			p++;
		do {	/* the first character may be ']' itself */
			if (p >= ms->pat_end)
				luaL_error(ms->L, "malformed pattern (missing ']')");
			tick(ms);
			c = *p++;
			if (c == ESC && p < ms->pat_end)
				p++;
		} while (*p != ']');
		return p + 1;
	}
	return p;
}

static int class_match(int c, int cl)
{
	int r;
	switch (tolower(cl)) {
	case 'a': r = isalpha(c); break;
	case 'c': r = iscntrl(c); break;
	case 'd': r = isdigit(c); break;
	case 'g': r = isgraph(c); break;
	case 'l': r = islower(c); break;
	case 'p': r = ispunct(c); break;
	case 's': r = isspace(c); break;
	case 'u': r = isupper(c); break;
	case 'w': r = isalnum(c); break;
	case 'x': r = isxdigit(c); break;
	case 'z': r = c == 0; break;	/* deprecated, still in 5.4 */
	default: return cl == c;
	}
	return isupper(cl) ? !r : !!r;
}

/* p at '[', end at the closing ']'. */
static int bracket_match(struct mstate *ms, int c, const char *p, const char *end)
{
	int found = 1;
	if (*(p + 1) == '^') {
		found = 0;
		p++;
	}
	while (++p < end) {
		tick(ms);
		if (*p == ESC) {
			p++;
			if (class_match(c, uc(*p)))
				return found;
		} else if (*(p + 1) == '-' && p + 2 < end) {
			if (uc(*p) <= c && c <= uc(*(p + 2)))
				return found;
			p += 2;
		} else if (uc(*p) == c) {
			return found;
		}
	}
	return !found;
}

static int single_match(struct mstate *ms, const char *s, const char *p, const char *ep)
{
	if (s >= ms->src_end)
		return 0;
	int c = uc(*s);
	switch (*p) {
	case '.': return 1;
	case ESC: return class_match(c, uc(*(p + 1)));
	case '[': return bracket_match(ms, c, p, ep - 1);
	default: return uc(*p) == c;
	}
}

static const char *do_match(struct mstate *ms, const char *s, const char *p);

static const char *match_balance(struct mstate *ms, const char *s, const char *p)
{
	if (p >= ms->pat_end - 1)
		luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
	if (s >= ms->src_end || *s != *p)
		return NULL;
	int open = *p, close = *(p + 1), depth = 1;
	while (++s < ms->src_end) {
		tick(ms);
		if (*s == close) {
			if (--depth == 0)
				return s + 1;
		} else if (*s == open) {
			depth++;
		}
	}
	return NULL;
}

static const char *max_expand(struct mstate *ms, const char *s, const char *p, const char *ep)
{
	ptrdiff_t i = 0;
	while (single_match(ms, s + i, p, ep)) {
		tick(ms);
		i++;
	}
	for (; i >= 0; i--) {	/* the longest first, then shorter */
		const char *r = do_match(ms, s + i, ep + 1);
		if (r)
			return r;
	}
	return NULL;
}

static const char *min_expand(struct mstate *ms, const char *s, const char *p, const char *ep)
{
	for (;;) {
		const char *r = do_match(ms, s, ep + 1);
		if (r)
			return r;
		if (!single_match(ms, s, p, ep))
			return NULL;
		s++;
	}
}

static const char *start_capture(struct mstate *ms, const char *s, const char *p, ptrdiff_t what)
{
	if (ms->level >= MAX_CAPTURES)
		luaL_error(ms->L, "too many captures");
	ms->cap[ms->level].init = s;
	ms->cap[ms->level].len = what;
	ms->level++;
	const char *r = do_match(ms, s, p);
	if (!r)
		ms->level--;
	return r;
}

static const char *end_capture(struct mstate *ms, const char *s, const char *p)
{
	int l = ms->level - 1;
	while (l >= 0 && ms->cap[l].len != CAP_UNFINISHED)
		l--;
	if (l < 0)
		luaL_error(ms->L, "invalid pattern capture");
	ms->cap[l].len = s - ms->cap[l].init;
	const char *r = do_match(ms, s, p);
	if (!r)
		ms->cap[l].len = CAP_UNFINISHED;
	return r;
}

static int check_capture(struct mstate *ms, int l)
{
	l -= '1';
	if (l < 0 || l >= ms->level || ms->cap[l].len == CAP_UNFINISHED)
		return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	return l;
}

static const char *match_capture(struct mstate *ms, const char *s, int l)
{
	l = check_capture(ms, l);
	size_t len = (size_t)ms->cap[l].len;
	if ((size_t)(ms->src_end - s) < len)
		return NULL;
	for (size_t i = 0; i < len; i += FUEL)
		tick(ms);
	return memcmp(ms->cap[l].init, s, len) ? NULL : s + len;
}

/* %f[set]: p after "%f". */
static const char *match_frontier(struct mstate *ms, const char *s, const char *p, const char **next)
{
	if (*p != '[')
		luaL_error(ms->L, "missing '[' after '%%f' in pattern");
	const char *ep = class_end(ms, p);
	char prev = s == ms->src ? '\0' : *(s - 1);
	/* At the end, *s is the string's terminating '\0' (Lua strings have one). */
	if (!bracket_match(ms, uc(prev), p, ep - 1) && bracket_match(ms, uc(*s), p, ep - 1)) {
		*next = ep;
		return s;
	}
	return NULL;
}

/* A single item with its optional suffix; *p_next set when matching goes on. */
static const char *match_item(struct mstate *ms, const char *s, const char *p, const char **p_next)
{
	const char *ep = class_end(ms, p);
	*p_next = NULL;
	if (!single_match(ms, s, p, ep)) {
		if (*ep == '*' || *ep == '?' || *ep == '-')
			*p_next = ep + 1;	/* zero repetitions are fine */
		return *p_next ? s : NULL;
	}
	switch (*ep) {
	case '?': {
		const char *r = do_match(ms, s + 1, ep + 1);
		if (r)
			return r;
		*p_next = ep + 1;
		return s;
	}
	case '+': return max_expand(ms, s + 1, p, ep);
	case '*': return max_expand(ms, s, p, ep);
	case '-': return min_expand(ms, s, p, ep);
	default:
		*p_next = ep;
		return s + 1;
	}
}

static const char *do_match(struct mstate *ms, const char *s, const char *p)
{
	if (ms->depth-- == 0)
		luaL_error(ms->L, "pattern too complex");
	while (s && p != ms->pat_end) {
		const char *next = NULL;
		tick(ms);
		switch (*p) {
		case '(':
			s = p[1] == ')' ? start_capture(ms, s, p + 2, CAP_POSITION)
					: start_capture(ms, s, p + 1, CAP_UNFINISHED);
			break;
		case ')':
			s = end_capture(ms, s, p + 1);
			break;
		case '$':
			if (p + 1 == ms->pat_end) {
				s = s == ms->src_end ? s : NULL;
				break;
			}
			s = match_item(ms, s, p, &next);
			break;
		case ESC:
			if (p[1] == 'b') {
				s = match_balance(ms, s, p + 2);
				next = p + 4;
			} else if (p[1] == 'f') {
				s = match_frontier(ms, s, p + 2, &next);
			} else if (isdigit(uc(p[1]))) {
				s = match_capture(ms, s, uc(p[1]));
				next = p + 2;
			} else {
				s = match_item(ms, s, p, &next);
			}
			break;
		default:
			s = match_item(ms, s, p, &next);
			break;
		}
		if (!next)
			break;	/* the item matched the rest of the pattern itself, or failed */
		p = next;
	}
	ms->depth++;
	return s;
}

/* ---- captures to Lua values */

static void push_onecapture(struct mstate *ms, int i, const char *s, const char *e)
{
	if (i >= ms->level) {
		if (i != 0)
			luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		lua_pushlstring(ms->L, s, (size_t)(e - s));	/* the whole match */
	} else if (ms->cap[i].len == CAP_UNFINISHED) {
		luaL_error(ms->L, "unfinished capture");
	} else if (ms->cap[i].len == CAP_POSITION) {
		lua_pushinteger(ms->L, (ms->cap[i].init - ms->src) + 1);
	} else {
		lua_pushlstring(ms->L, ms->cap[i].init, (size_t)ms->cap[i].len);
	}
}

/* s == NULL: captures only (find). */
static int push_captures(struct mstate *ms, const char *s, const char *e)
{
	int n = (ms->level == 0 && s) ? 1 : ms->level;
	luaL_checkstack(ms->L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_onecapture(ms, i, s, e);
	return n;
}

static size_t start_index(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

static int no_specials(const char *p, size_t lp)
{
	for (size_t i = 0; i < lp; i++)
		if (p[i] && strchr(SPECIALS, p[i]))
			return 0;
	return 1;
}

static int find_aux(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;

	if (init > ls) {
		luaL_pushfail(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
		const char *hit = memmem(s + init, ls - init, p, lp);
		if (hit) {
			lua_pushinteger(L, (hit - s) + 1);
			lua_pushinteger(L, (lua_Integer)((size_t)(hit - s) + lp));
			return 2;
		}
		luaL_pushfail(L);
		return 1;
	}
	struct mstate ms;
	const char *s1 = s + init;
	int anchor = *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	prep(&ms, L, s, ls, p, lp);
	do {
		const char *e;
		reprep(&ms);
		if ((e = do_match(&ms, s1, p))) {
			settle(&ms);
			if (!find)
				return push_captures(&ms, s1, e);
			lua_pushinteger(L, (s1 - s) + 1);
			lua_pushinteger(L, e - s);
			return push_captures(&ms, NULL, 0) + 2;
		}
	} while (s1++ < ms.src_end && !anchor);
	settle(&ms);
	luaL_pushfail(L);
	return 1;
}

static int str_find(lua_State *L) { return find_aux(L, 1); }
static int str_match(lua_State *L) { return find_aux(L, 0); }

struct gmatch {
	const char *src, *p, *lastmatch;
	struct mstate ms;
};

static int gmatch_next(lua_State *L)
{
	struct gmatch *g = lua_touserdata(L, lua_upvalueindex(3));
	g->ms.L = L;
	for (const char *src = g->src; src <= g->ms.src_end; src++) {
		const char *e;
		reprep(&g->ms);
		if ((e = do_match(&g->ms, src, g->p)) && e != g->lastmatch) {
			settle(&g->ms);
			g->src = g->lastmatch = e;
			return push_captures(&g->ms, src, e);
		}
	}
	settle(&g->ms);
	return 0;
}

static int str_gmatch(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;

	lua_settop(L, 2);	/* the strings stay alive as upvalues */
	struct gmatch *g = lua_newuserdatauv(L, sizeof(*g), 0);
	if (init > ls)
		init = ls + 1;	/* no match, but still a valid iterator */
	prep(&g->ms, L, s, ls, p, lp);
	g->src = s + init;
	g->p = p;
	g->lastmatch = NULL;
	lua_pushcclosure(L, gmatch_next, 3);
	return 1;
}

static void add_s(struct mstate *ms, luaL_Buffer *b, const char *s, const char *e)
{
	size_t l;
	lua_State *L = ms->L;
	const char *news = lua_tolstring(L, 3, &l);
	const char *p;

	while ((p = memchr(news, ESC, l))) {
		tick(ms);
		luaL_addlstring(b, news, (size_t)(p - news));
		p++;
		if (*p == ESC) {
			luaL_addchar(b, *p);
		} else if (*p == '0') {
			luaL_addlstring(b, s, (size_t)(e - s));
		} else if (isdigit(uc(*p))) {
			push_onecapture(ms, *p - '1', s, e);
			luaL_tolstring(L, -1, NULL);	/* position captures are integers */
			lua_remove(L, -2);
			luaL_addvalue(b);
		} else {
			luaL_error(L, "invalid use of '%c' in replacement string", ESC);
		}
		l -= (size_t)(p + 1 - news);
		news = p + 1;
	}
	luaL_addlstring(b, news, l);
}

/* Returns whether the match was replaced (false keeps the original text). */
static int add_value(struct mstate *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
	lua_State *L = ms->L;
	if (tr == LUA_TFUNCTION) {
		lua_pushvalue(L, 3);
		int n = push_captures(ms, s, e);
		lua_call(L, n, 1);
	} else if (tr == LUA_TTABLE) {
		push_onecapture(ms, 0, s, e);
		lua_gettable(L, 3);
	} else {
		add_s(ms, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s));
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return 1;
}

static int str_gsub(lua_State *L)
{
	size_t srcl, lp;
	const char *src = luaL_checklstring(L, 1, &srcl);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *lastmatch = NULL;
	int tr = lua_type(L, 3);
	lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
	int anchor = *p == '^';
	lua_Integer n = 0;
	int changed = 0;
	struct mstate ms;
	luaL_Buffer b;

	luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
			 "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--;
	}
	prep(&ms, L, src, srcl, p, lp);
	while (n < max_s) {
		const char *e;
		reprep(&ms);
		if ((e = do_match(&ms, src, p)) && e != lastmatch) {
			n++;
			changed = add_value(&ms, &b, src, e, tr) | changed;
			src = lastmatch = e;
		} else if (src < ms.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	settle(&ms);
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

void lhv_open_strmatch(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "find", str_find },
		{ "match", str_match },
		{ "gmatch", str_gmatch },
		{ "gsub", str_gsub },
		{ NULL, NULL },
	};
	lua_getglobal(L, "string");
	luaL_setfuncs(L, funcs, 0);
	lua_pop(L, 1);
}
