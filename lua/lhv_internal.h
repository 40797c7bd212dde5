/* lhv_internal.h — between the files of lua/: the engine's one state, the
 * limits, and the port below it (lua/port/ in the image, fakes in the host
 * tests).  Everything here runs with Lua's flags (SSE allowed), inside
 * lhv_port_run(). */
#ifndef LUA_LHV_INTERNAL_H
#define LUA_LHV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include "hv/vcpu.h"
#include "lhv_entry.h"

/* From the debug target API (hv/target.h), what the guest's CPUID returns
 * under vmxdbg: the CPU's answer after the hypervisor's own adjustments. */

/* The count hook fires every this many Lua VM instructions. */
#define LHV_HOOK_PERIOD 1000
#define LHV_LINE_MAX 240

typedef void (*lhv_emit_fn)(void *ctx, const char *line);

struct lhv_state {
	lua_State *L;
	/* The current vCPU, `regs` and `vmcs` without .of(n): the exiting one
	 * in a hook, the debugger's selected one in `monitor lua`, this
	 * processor's at boot and power-off.  Set by each entry (lhv_entry.c). */
	struct vcpu *vcpu;
	bool all_stopped;		/* every vCPU stopped for the debugger: any is reachable */
	int64_t budget;			/* VM instructions left in this call */
	int64_t budget_per_call;
	uint64_t call_start;		/* TSC when this call began */
	uint64_t deadline;		/* TSC value it must end by; 0 once passed */
	uint64_t ticks_per_call;
	bool timed;			/* inside lhv_pcall: the deadline applies */
	lua_Alloc alloc;		/* the heap's allocator, under timed_alloc */
	void *alloc_ud;
	bool in_hook;			/* exit events are readable */
	uint64_t exit_seq;		/* which exit the live event belongs to */
	lhv_emit_fn emit;		/* print()'s destination; NULL: the log */
	void *emit_ctx;
	char line[LHV_LINE_MAX + 1];	/* print() output not yet emitted */
	size_t linelen;
};
extern struct lhv_state lhv;

/* lhv_core.c (the state opens through lhv_start(), lhv_entry.h) */
/* Closes the state (host tests). */
void lhv_core_close(void);
/* The time-stamp counter: the per-call deadline's clock. */
uint64_t lhv_rdtsc(void);
/* Charges n units of work done inside a C function (pattern matching);
 * raises an error once the budget is spent. */
void lhv_charge(lua_State *L, unsigned n);
/* Calls the function below nargs arguments on L's stack, protected, under a
 * fresh budget.  On error leaves the message with its traceback on the stack
 * and returns the status; else the results (nresults, LUA_MULTRET too). */
int lhv_pcall(lua_State *L, int nargs, int nresults);
/* Sends every line of msg to the log at error level, prefixed by `what`. */
void lhv_report(const char *what, const char *msg);
/* The same at info level, without a what: hv.log. */
void lhv_report_info(const char *msg);
/* Flushes print() output held back for want of a newline. */
void lhv_flush_output(void);

/* lhv_trace.c: hv.trace; lhv_dirty.c: ept.dirty */
void lhv_open_trace(lua_State *L);
void lhv_open_dirty(lua_State *L);

/* lhv_hooks.c */
void lhv_open_hooks(lua_State *L);
/* Drops every hook without touching the state (it is being closed). */
void lhv_hooks_forget(void);
/* Exit reason from a name ("cpuid", "EXIT_REASON_CPUID"), a number, or "*" (-1). */
int lhv_check_reason(lua_State *L, int arg, bool allow_any);
int lhv_on_exit(lua_State *L, int reason, int fn_index);

/* lhv_bp.c: bp.add/remove/list and hv.msr. */
void lhv_open_bp(lua_State *L);
void lhv_bp_forget(void);

/* lhv_show.c: `monitor lua`'s view of values, bounded. */
#define LHV_SHOW_MAX 4096	/* characters for all the values of one result */
#define LHV_SHOW_ENTRIES 32	/* entries shown per table */
#define LHV_SHOW_DEPTH 3	/* levels of nested tables shown */
#define LHV_SHOW_STRING 80	/* bytes of a string inside a table */
/* Pushes the values at first..last as one line: tab-separated; integers in
 * decimal and hex; tables as {...} with their keys sorted. */
void lhv_show_values(lua_State *L, int first, int last);

/* lhv_vcpus.c: hv.vcpu, hv.vcpus, hv.stats, and which vCPUs a call may reach. */
void lhv_open_vcpus(lua_State *L);
/* vCPU n as the argument at arg names it (what: "regs.of", "vmcs.of"):
 * raises an error for an index no vCPU has, and for one other than the
 * current vCPU unless every vCPU is stopped for the debugger. */
struct vcpu *lhv_check_vcpu(lua_State *L, int arg, const char *what);
/* The same check on a vCPU already chosen (a proxy bound to it). */
struct vcpu *lhv_reachable(lua_State *L, unsigned index, const char *what);

/* lhv_api.c, lhv_api_mem.c, lhv_strmatch.c */
void lhv_open_api(lua_State *L);
void lhv_open_mem(lua_State *L);
/* lhv_apic.c: the apic table (the local APIC's view, issue 12). */
void lhv_open_apic(lua_State *L);
/* Replaces string.find/match/gmatch/gsub with bounded versions. */
void lhv_open_strmatch(lua_State *L);

/* lhv_env.c: script isolation. */
/* Pushes a read-only proxy (a userdata) of the table at idx, named in errors. */
void lhv_push_readonly(lua_State *L, int idx, const char *name);
/* Replaces the global tables by read-only proxies and protects the string
 * metatable; once, after every library and the API are in place. */
void lhv_seal(lua_State *L);
/* Pushes a fresh environment for one script or chunk. */
void lhv_env_push(lua_State *L);

/* Raises a Lua error with a printf-style message (hex and all: built with snprintf). */
int lhv_error(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
