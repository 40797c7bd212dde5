/* hooks.h — the seam between the exit path and scripted exit handlers
 * (a script front end, frontend.h).  An exit reason with no hook costs one
 * bit test on the hot path.  The end of the run is a hook too. */
#ifndef HV_HOOKS_H
#define HV_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

#define EXIT_HOOK_WORDS ((EXIT_REASON_LIMIT + 63) / 64)
/* Bit r set: reason r has at least one hook ("*" hooks set every bit). */
extern uint64_t exit_hook_bitmap[EXIT_HOOK_WORDS];

static inline int exit_hooked(unsigned reason)
{
	return reason < EXIT_REASON_LIMIT && (exit_hook_bitmap[reason / 64] >> (reason % 64) & 1);
}

enum hook_verdict {
	HOOK_DEFAULT,	/* nil: the hypervisor's own handler runs */
	HOOK_SKIP,	/* "skip": advance RIP past the instruction, no default handling */
	HOOK_RESUME,	/* "resume": back to the guest unchanged */
	HOOK_STOP,	/* "stop": stop into the debugger; stop_reason says why */
};

/* "skip" means advancing RIP by the VM-exit instruction length, which the
 * CPU saves only for exits an instruction caused (SDM Vol. 3C §28.2.5),
 * and for INT3/INTO/INT1 among exception exits (interruption type 6 or 5
 * in interruption_info, read only for EXCEPTION_NMI). */
bool exit_hook_may_skip(unsigned reason, uint32_t interruption_info);

/* "skip" on an exception hook (hv.on_exception) swallows the event: not
 * for #DF, an abort the guest must handle (#MC is not hookable at all). */
bool event_hook_may_skip(unsigned vector);

/* Runs the hooks of this exit through the registered script front end
 * (an indirect call, off the hot path: only for a hooked reason);
 * HOOK_DEFAULT when none is registered. */
enum hook_verdict exit_hooks_run(struct vcpu *v, unsigned reason, char *stop_reason, size_t len);

/* The same for the guest's own exception or NMI on a watched vector
 * (event_monitor.h); HOOK_DEFAULT when no engine is registered. */
enum hook_verdict script_event_hooks_run(struct vcpu *v, uint32_t interruption_info, char *stop_reason,
					 size_t len);

/* The end of the run: when the guest powers the machine off (how: "ACPI
 * S5", ...), right after that is logged and before the machine stops,
 * the script front end's power-off callback runs once (lua/:
 * hv.on_poweroff). */
void poweroff_hook_run(struct vcpu *v, const char *how);

/* A script's hidden breakpoint was hit (stealth_bp.c): the front end's
 * breakpoint callback; HOOK_DEFAULT without one. */
enum hook_verdict breakpoint_hook_run(struct vcpu *v, unsigned id, uint64_t gva, char *stop_reason, size_t len);

#endif
