/* lhv.h — the embedded Lua engine as the rest of the hypervisor sees it.
 * Plain integers only: included by code built -mgeneral-regs-only.  The
 * exit path and the end of the run reach it through the script front end
 * it registers with hv/ (hv/frontend.h) when its state opens.
 *
 * Processors (issue 11): one Lua state serves every vCPU, and every entry
 * below (exit hooks, power-off hooks, boot scripts, `monitor lua` and
 * files from gdb) runs under one spinlock, so scripts see one call at a
 * time whichever processor makes it.  The budget and the time limit
 * (lua-budget=, lua-ticks=) apply to each call, counted from inside the
 * lock.  A hook runs on the vCPU that exited and sees it as the current
 * vCPU (`regs`, `vmcs`, `mem`, `inject`, hv.vcpu()); another vCPU is
 * reachable (regs.of(n), vmcs.of(n)) only from `monitor lua`, while the
 * guest is stopped for the debugger.  An entry made again by the
 * processor already inside Lua does not deadlock: a hook or power-off
 * then does nothing (default handling), `monitor lua` says "lua: busy". */
#ifndef LUA_LHV_H
#define LUA_LHV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/bootinfo.h"

#define LHV_DEFAULT_HEAP (4ull << 20)	/* lua-heap= */
#define LHV_DEFAULT_BUDGET 1000000	/* Lua VM instructions per call */
/* TSC ticks per call (lua-ticks=): bounds the work done inside C functions
 * (string.rep, table.concat, gsub...), which the instruction budget does
 * not see.  Under Bochs (clock sync=none) one tick is one instruction: a
 * full instruction budget of plain Lua takes well under this; on a 3 GHz
 * machine it is ~70 ms. */
#define LHV_DEFAULT_TICKS 200000000

/* Before lhv_init: the heap cap in bytes (rounded up to pages), the
 * instruction budget and the TSC ticks of one call (0 keeps a default). */
void lhv_set_limits(uint64_t heap_bytes, uint64_t budget, uint64_t ticks);

/* After vmcs_setup, before the first VM entry: carves the heap, the Lua
 * stack and the FPU save area out of the page allocator, opens the state,
 * then runs every module whose command line starts with the word `script`
 * or `script:NAME` (the words after it are the chunk's `...`; NAME, the
 * script's file name, names the chunk in messages and tracebacks).  A failing script is
 * reported; the others still run.  0, -ENOMEM, or -ENODEV when the CPU
 * state cannot run Lua (CR4.OSFXSR clear, CR0.EM or CR0.TS set). */
int lhv_init(const struct boot_info *bi);

/* A boot script's module: its command line's first word is `script` or
 * `script:NAME` (tools/mkiso adds the file's name). */
bool lhv_is_script_module(const char *cmdline);
#define LHV_CHUNK_NAME_MAX 64	/* a chunk's name, with Lua's '@' or '=' */

/* selftest=luastack: a C recursion nobody counts runs on the Lua stack
 * into its guard pages; Lua is turned off and the hypervisor goes on. */
void lhv_selftest_stack(void);

struct vcpu;

/* `monitor lua CHUNK`: runs CHUNK (an expression's values are printed)
 * with v, the vCPU the debugger selected, as the current vCPU; print()
 * output, results and errors with their traceback go to emit, one line
 * per call.  Valid while the guest is stopped for the debugger (every
 * vCPU stopped: regs.of(n) and vmcs.of(n) reach any of them). */
void lhv_monitor_lua(struct vcpu *v, const char *chunk, void (*emit)(void *ctx, const char *line), void *ctx);

/* A whole file from gdb (`monitor lua-end`): text[len] runs as one chunk
 * named name ("@FILE"), with args (words) as `...`, on v; its results,
 * print() output and errors go to emit as for lhv_monitor_lua. */
void lhv_monitor_file(struct vcpu *v, const char *name, const char *text, size_t len, const char *args,
		      void (*emit)(void *ctx, const char *line), void *ctx);

#endif
