/* event_monitor.h — VMX controls switched on while a script watches the
 * guest's events, and off after the last watcher goes (issue 12 item 3):
 * external-interrupt exiting for hooks on EXTERNAL_INTERRUPT (with
 * acknowledge-on-exit for one exit at a time: ext_interrupt.c),
 * exception-bitmap bits for hooks on exception vectors.  NMIs need nothing: NMI exiting is always on (vcpu_kick.c), and
 * TASK_SWITCH always exits (SDM Vol. 3C §26.2).  Every vCPU gets the change
 * in its own VMCS, on its own processor (vcpu_kick.c requests). */
#ifndef HV_EVENT_MONITOR_H
#define HV_EVENT_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hooks.h"
#include "vcpu.h"

/* What the script front end watches now (hv/target.h sets it). */
struct event_watch {
	bool ext_interrupts;	/* EXTERNAL_INTERRUPT hooked */
	uint32_t exceptions;	/* vectors 0-31 hooked; bit 2 is the guest's NMIs */
};

extern struct event_watch event_watch;

static inline bool event_exception_watched(unsigned vector)
{
	return vector < 32 && (event_watch.exceptions >> vector & 1);
}

/* The exception-bitmap bits the watch needs (NMIs exit anyway). */
static inline uint32_t event_monitor_exception_bits(void)
{
	return event_watch.exceptions & ~(1u << 2);
}

/* On v's own processor, v's VMCS current: bring its controls to the
 * watch (a no-op when already done; force: write them whatever v thinks
 * it has, after something restored the VMCS under it). */
void event_monitor_sync(struct vcpu *v, bool force);

/* The guest's own exception or NMI, not the debugger's (exit_misc.c), on
 * a watched vector: its hooks run, and say whether the event still goes
 * to the guest.  Returns HOOK_DEFAULT (deliver it), HOOK_SKIP (swallow it)
 * or HOOK_STOP (deliver it, then stop for the debugger: stop_reason). */
enum hook_verdict event_hooks_run(struct vcpu *v, uint32_t interruption_info);

#endif
