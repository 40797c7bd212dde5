/* frontend.h — what hv/ asks of its front ends without naming them: the
 * debugger (gdbstub/) and the script engine (lua/).  Arrows run downward
 * only (docs/design.md): a front end registers its callbacks here, and the
 * composition root (hv/main.c, hv/hv_start.c) wires them.  With nothing
 * registered hv/ runs as with no debug UART and no scripts.  One of each:
 * the callbacks take the vCPU, so a front end with one instance per vCPU
 * picks it itself. */
#ifndef HV_FRONTEND_H
#define HV_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>

#include "hooks.h"
#include "target.h"
#include "vcpu.h"

/* How a debugger session on a stopped guest ended. */
enum debug_outcome {
	DEBUG_RESUMED,	/* target_resume() was called: run the guest */
	DEBUG_DETACHED,	/* the debugger left (and resumed the guest) */
	DEBUG_KILLED,	/* the debugger asked to kill: hv decides what that means */
};

struct debugger_frontend {
	/* The guest stopped: talk to the debugger until it resumes the guest,
	 * detaches or kills (debugger_stop). */
	enum debug_outcome (*serve)(struct vcpu *v, const struct target_stop *why);
	/* The guest runs; never blocks.  True when the debugger asks it to
	 * stop (break-in, a debugger connecting): debugger_poll. */
	bool (*poll)(struct vcpu *v);
	/* The guest powered off with this exit code: tell a debugger waiting
	 * for it, and let the line drain before the machine stops. */
	void (*exited)(int code);
};

/* fe stays registered for the run (NULL: no debugger).  Before
 * debugger_before_launch (debugger.c). */
void debugger_frontend_set(const struct debugger_frontend *fe);

struct script_frontend {
	/* The hooks of this exit; exit_dispatch.c calls only for a reason
	 * whose bit is set in exit_hook_bitmap, which the engine keeps. */
	enum hook_verdict (*exit_hooks)(struct vcpu *v, unsigned reason, char *stop_reason, size_t len);
	/* The end of the run (how: "ACPI S5", ...), once: poweroff_hook_run. */
	void (*poweroff)(struct vcpu *v, const char *how);
	/* A script's hidden breakpoint id was hit at gva (stealth_bp.c); NULL
	 * when the engine sets none.  HOOK_STOP stops into the debugger. */
	enum hook_verdict (*breakpoint)(struct vcpu *v, unsigned id, uint64_t gva, char *stop_reason, size_t len);
	/* The hooks of the guest's own exception or NMI (interruption_info as
	 * VM_EXIT_INTERRUPTION_INFO has it) on a vector the engine watches
	 * (target_event_watch_set): event_hooks_run, event_monitor.h. */
	enum hook_verdict (*event_hooks)(struct vcpu *v, uint32_t interruption_info, char *stop_reason,
					 size_t len);
};

/* fe stays registered (NULL: no scripts); registering arms the power-off
 * callback again (hooks.c). */
void script_frontend_set(const struct script_frontend *fe);

#endif
