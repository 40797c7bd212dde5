/* lhv_core.c — the one Lua state: libraries, limits (instruction budget,
 * text-only chunks), protected calls with a traceback, where print() goes,
 * and the bodies of the boot-script and monitor entry points.
 * Runs inside lhv_port_run() (FPU state saved, on the Lua stack). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lualib.h>

#include "lhv_entry.h"
#include "lhv_internal.h"
#include "platform/errno.h"
#include "platform/log.h"

struct lhv_state lhv;

/* ---- output: print() and Lua's own error writer (LUA_USER_H) */

static void emit_line(const char *line)
{
	if (lhv.emit)
		lhv.emit(lhv.emit_ctx, line);
	else
		log_info("lua: %s", line);
}

void lhv_flush_output(void)
{
	if (!lhv.linelen)
		return;
	lhv.line[lhv.linelen] = '\0';
	lhv.linelen = 0;
	emit_line(lhv.line);
}

void lhv_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' || lhv.linelen == LHV_LINE_MAX) {
			lhv.line[lhv.linelen] = '\0';
			lhv.linelen = 0;
			emit_line(lhv.line);
			if (s[i] == '\n')
				continue;
		}
		lhv.line[lhv.linelen++] = s[i];
	}
}

void lhv_write_error(const char *fmt, const char *arg)
{
	char buf[LHV_LINE_MAX];
	snprintf(buf, sizeof(buf), fmt, arg);
	lhv_write(buf, strlen(buf));
}

uint64_t lhv_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

unsigned int lhv_seed(void)
{
	uint64_t t = lhv_rdtsc();
	return (unsigned int)(t ^ t >> 32);
}

int lhv_error(lua_State *L, const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return luaL_error(L, "%s", buf);
}

/* Each line of msg to the log: "lua: WHAT: first line", "lua:   next". */
static void log_lines(enum log_level level, const char *what, const char *msg)
{
	char line[LHV_LINE_MAX];
	bool first = true;

	while (*msg) {
		size_t n = strcspn(msg, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, msg);
		if (!first)
			log_msg(level, "lua:   %s", line);
		else if (what)
			log_msg(level, "lua: %s: %s", what, line);
		else
			log_msg(level, "lua: %s", line);
		first = false;
		msg += n + (msg[n] == '\n');
	}
}

void lhv_report(const char *what, const char *msg)
{
	log_lines(LOG_ERROR, what, msg);
}

void lhv_report_info(const char *msg)
{
	log_lines(LOG_INFO, NULL, msg);
}

/* ---- limits */

static void push_time_error(lua_State *L)
{
	lua_pushfstring(L, "time limit exceeded after %I TSC ticks (%I per call, lua-ticks=)",
			(LUAI_UACINT)(lhv_rdtsc() - lhv.call_start), (LUAI_UACINT)lhv.ticks_per_call);
}

/* Fires every LHV_HOOK_PERIOD instructions; once the budget is spent it
 * fires on every instruction and raises each time, so a pcall loop cannot
 * swallow it (docs/platform-notes.md: the budget must be sticky).  Coroutines
 * inherit the hook from the thread that creates them (lua_newthread). */
static void count_hook(lua_State *L, lua_Debug *ar)
{
	int period = lua_gethookcount(L);
	(void)ar;
	lhv.budget -= period;
	if (lhv.budget > 0 && lhv_rdtsc() < lhv.deadline) {
		if (period != LHV_HOOK_PERIOD)	/* a coroutine left sticky by an earlier call */
			lua_sethook(L, count_hook, LUA_MASKCOUNT, LHV_HOOK_PERIOD);
		return;
	}
	if (period != 1)
		lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	if (lhv.budget > 0) {	/* out of time: sticky too */
		lhv.budget = 0;
		lhv.deadline = 0;
	}
	if (!lhv.deadline) {
		luaL_where(L, 1);
		push_time_error(L);
		lua_concat(L, 2);
		lua_error(L);
	}
	luaL_error(L, "instruction budget exhausted (%I instructions per call)",
		   (LUAI_UACINT)lhv.budget_per_call);
}

/* A fresh instruction budget and deadline for the next call into Lua.  The
 * count hook checks the deadline too: work inside C functions, invisible
 * to the instruction count, is then charged by the time it took. */
static void lhv_budget_reset(lua_State *L)
{
	lhv.budget = lhv.budget_per_call;
	lhv.call_start = lhv_rdtsc();
	lhv.deadline = lhv.call_start + lhv.ticks_per_call;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, LHV_HOOK_PERIOD);
}

void lhv_charge(lua_State *L, unsigned n)
{
	lhv.budget -= n;
	if (lhv.budget > 0)
		return;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	luaL_error(L, "instruction budget exhausted in pattern matching (%I per call)",
		   (LUAI_UACINT)lhv.budget_per_call);
}

/* ---- protected calls */

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

int lhv_pcall(lua_State *L, int nargs, int nresults)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	lhv_budget_reset(L);
	bool outer = lhv.timed;
	lhv.timed = true;
	int status = lua_pcall(L, nargs, nresults, base);
	lhv.timed = outer;
	if (status == LUA_ERRMEM && !lhv.deadline) {	/* refused by timed_alloc */
		push_time_error(L);
		lua_replace(L, -2);
	}
	lua_remove(L, base);
	return status;
}

/* Text only, never bytecode, in an environment of its own (lhv_env.c):
 * LUA_OK with the function, or the error, on the stack. */
static int lhv_load(lua_State *L, const char *text, size_t len, const char *name)
{
	int status = luaL_loadbufferx(L, text, len, name, "t");
	if (status != LUA_OK)
		return status;
	lhv_env_push(L);
	lua_setupvalue(L, -2, 1);	/* a main chunk's one upvalue is _ENV */
	return LUA_OK;
}

/* ---- the state */

static int at_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	lhv_report("unprotected error", msg ? msg : "?");
	return 0;	/* then abort(): a bug in lua/, never in a script */
}

static const luaL_Reg libs[] = {
	{ LUA_GNAME, luaopen_base },
	{ LUA_COLIBNAME, luaopen_coroutine },
	{ LUA_TABLIBNAME, luaopen_table },
	{ LUA_STRLIBNAME, luaopen_string },
	{ LUA_MATHLIBNAME, luaopen_math },
	{ LUA_UTF8LIBNAME, luaopen_utf8 },
	{ NULL, NULL },
};

static int open_all(lua_State *L)
{
	for (const luaL_Reg *lib = libs; lib->func; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	/* No files here; no bytecode anywhere. */
	lua_pushnil(L);
	lua_setglobal(L, "dofile");
	lua_pushnil(L);
	lua_setglobal(L, "loadfile");
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);

	lhv_open_strmatch(L);
	lhv_open_api(L);
	lhv_open_vcpus(L);
	lhv_open_mem(L);
	lhv_open_apic(L);
	lhv_open_hooks(L);
	lhv_open_bp(L);
	lhv_open_trace(L);
	lhv_open_dirty(L);
	lhv_seal(L);	/* last: the tables are complete */
	return 0;
}

/* The allocator, timed: once a call's time is up, every new or growing
 * block is refused (a memory error, which Lua raises safely), so a C
 * function building big strings or tables (string.rep, table.concat,
 * gsub...) stops at its next allocation, where the count hook never
 * fires; lhv_pcall turns that error into the time-limit error. */
static void *timed_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	if (lhv.timed && nsize && (!ptr || nsize > osize) &&
	    (!lhv.deadline || lhv_rdtsc() >= lhv.deadline)) {
		lhv.deadline = 0;	/* out of time: the count hook raises from now on */
		return NULL;
	}
	return lhv.alloc(lhv.alloc_ud, ptr, osize, nsize);
}

/* Opens the state over alloc/ud: libraries, limits, the API.  0 or -ENOMEM. */
static int lhv_core_open(lua_Alloc alloc, void *ud, int64_t budget_per_call, uint64_t ticks_per_call)
{
	lhv.alloc = alloc;
	lhv.alloc_ud = ud;
	lua_State *L = lua_newstate(timed_alloc, NULL);
	if (!L)
		return -ENOMEM;
	lua_atpanic(L, at_panic);
	lhv.budget_per_call = budget_per_call;
	lhv.ticks_per_call = ticks_per_call;
	lua_pushcfunction(L, open_all);
	if (lhv_pcall(L, 0, 0) != LUA_OK) {
		lhv_report("opening the libraries", lua_tostring(L, -1));
		lua_close(L);
		return -ENOMEM;
	}
	lhv.L = L;
	return 0;
}

void lhv_core_close(void)
{
	lhv_hooks_forget();
	lhv_bp_forget();
	if (lhv.L)
		lua_close(lhv.L);
	lhv.L = NULL;
	lhv.linelen = 0;
}

/* ---- scripts: boot modules and files from gdb */

struct script_run {
	const char *name, *text, *args;
	size_t len;
	bool show;	/* from gdb: show the results */
};

/* Each line of an error to gdb: "error: first line", "  next". */
static void emit_error(const char *msg)
{
	char line[LHV_LINE_MAX];
	bool first = true;

	for (msg = msg ? msg : "(no message)"; *msg; first = false) {
		size_t w = strcspn(msg, "\n");
		snprintf(line, sizeof(line), "%s%.*s", first ? "error: " : "  ", (int)w, msg);
		emit_line(line);
		msg += w + (msg[w] == '\n');
	}
}

/* Protected itself: a memory error while loading is reported, not fatal. */
static int script_main(lua_State *L)
{
	struct script_run *s = lua_touserdata(L, 1);
	int n = 0;

	lua_settop(L, 0);
	if (lhv_load(L, s->text, s->len, s->name) != LUA_OK)
		return lua_error(L);
	for (const char *a = s->args; *a;) {
		size_t w = strcspn(a, " ");
		if (w) {
			luaL_checkstack(L, 1, "too many script arguments");
			lua_pushlstring(L, a, w);
			n++;
		}
		a += w + (a[w] == ' ');
	}
	if (lhv_pcall(L, n, s->show ? LUA_MULTRET : 0) != LUA_OK)
		return lua_error(L);
	if (lua_gettop(L) > 0) {
		lhv_show_values(L, 1, lua_gettop(L));
		lhv_flush_output();
		emit_line(lua_tostring(L, -1));
	}
	return 0;
}

/* Runs one chunk with args (words) as `...`: 0, or -1 after reporting
 * (to gdb when it came from there, else to the log). */
static int lhv_run_script(const struct lhv_script *script, bool from_gdb)
{
	lua_State *L = lhv.L;
	struct script_run s = { script->name, script->text, script->args, script->len, from_gdb };

	lua_settop(L, 0);
	if (!lua_checkstack(L, 4))
		return -1;
	lua_pushcfunction(L, script_main);
	lua_pushlightuserdata(L, &s);
	int status = lua_pcall(L, 1, 0, 0);
	lhv_flush_output();
	if (status != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		if (from_gdb)
			emit_error(msg);
		else
			lhv_report(s.name + (s.name[0] == '=' || s.name[0] == '@'), msg ? msg : "(no message)");
	}
	lua_settop(L, 0);
	return status == LUA_OK ? 0 : -1;
}

/* ---- monitor lua CHUNK */

/* An expression's values are printed as the stand-alone lua does, tables
 * included (lhv_show.c). */
static int monitor_main(lua_State *L)
{
	const char *chunk = lua_touserdata(L, 1);
	size_t n = strlen(chunk);

	lua_settop(L, 0);
	lua_pushliteral(L, "return ");
	lua_pushlstring(L, chunk, n);
	lua_concat(L, 2);
	if (lhv_load(L, lua_tostring(L, 1), lua_rawlen(L, 1), "=monitor") == LUA_OK) {
		lua_remove(L, 1);
	} else {
		lua_settop(L, 0);
		if (lhv_load(L, chunk, n, "=monitor") != LUA_OK)
			return lua_error(L);
	}
	if (lhv_pcall(L, 0, LUA_MULTRET) != LUA_OK)
		return lua_error(L);
	int results = lua_gettop(L);
	if (results == 0)
		return 0;
	lhv_show_values(L, 1, results);
	lhv_flush_output();
	emit_line(lua_tostring(L, -1));
	return 0;
}

void lhv_monitor_body(void *chunk)
{
	lua_State *L = lhv.L;

	lua_settop(L, 0);
	if (!lua_checkstack(L, 4))
		return;
	lua_pushcfunction(L, monitor_main);
	lua_pushlightuserdata(L, (void *)chunk);
	int status = lua_pcall(L, 1, 0, 0);
	lhv_flush_output();
	if (status != LUA_OK)
		emit_error(lua_tostring(L, -1));
	lua_settop(L, 0);
}

/* ---- bodies for the entry points (lhv_entry.h) */

void lhv_script_body(void *script)
{
	struct lhv_script *s = script;
	s->result = lhv_run_script(s, false);
}

void lhv_file_body(void *script)
{
	struct lhv_script *s = script;
	s->result = lhv_run_script(s, true);
}

void lhv_open_body(void *open)
{
	struct lhv_open *o = open;
	o->result = lhv_core_open(o->alloc, o->ud, o->budget, o->ticks);
}
