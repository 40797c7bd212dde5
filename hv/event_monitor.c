/* event_monitor.c — the controls a script's event hooks need, on every
 * vCPU, and the hooks of the guest's own exceptions and NMIs.
 *
 * One watch for the machine; each vCPU brings its own VMCS to it on its
 * own processor (a VMCS is current on one processor at a time, SDM Vol. 3C
 * §25.1): the processor that changed the watch at once, every other
 * running vCPU at its next exit (a request and an NMI kick, vcpu_kick.c),
 * a parked one when it leaves its park (allstop.c), an AP when it starts
 * (vcpu_ap.c).  A generation number says who is up to date. */
#include "event_monitor.h"

#include "allstop.h"
#include "debugger.h"
#include "ext_interrupt.h"
#include "frontend.h"
#include "target.h"
#include "vcpu_kick.h"

struct event_watch event_watch;
static volatile unsigned watch_gen = 1;	/* a fresh vCPU (events_gen 0) is behind */

void event_monitor_sync(struct vcpu *v, bool force)
{
	unsigned gen = __atomic_load_n(&watch_gen, __ATOMIC_ACQUIRE);
	if (v->events_gen == gen && !force)
		return;
	if (!event_watch.ext_interrupts)
		v->irq_ack_next = v->irq_deferred = false;
	ext_interrupt_controls(v, force);
	/* The debugger's #BP/#DB and the user's bits with ours: either keeps a
	 * vector intercepted (breakpoints.c). */
	debugger_update_exception_bitmap(v);
	v->events_gen = gen;
}

/* Every other vCPU with a VMCS hears of it at its next exit; a parked or
 * waiting one also when it next enters the guest. */
static void tell_the_others(struct vcpu *me)
{
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *u = &vcpus[i];
		if (u != me && u->state != VCPU_ABSENT && u->vmcs_phys)
			vcpu_request(u, VCPU_REQ_EVENTS);
	}
}

void target_event_watch_set(bool ext_interrupts, uint32_t exceptions)
{
	if (event_watch.ext_interrupts == ext_interrupts && event_watch.exceptions == exceptions)
		return;
	event_watch.ext_interrupts = ext_interrupts;
	event_watch.exceptions = exceptions;
	__atomic_add_fetch(&watch_gen, 1, __ATOMIC_SEQ_CST);
	struct vcpu *me = this_vcpu();
	/* The stopped owner may have another vCPU's VMCS loaded for gdb:
	 * take its own back (every target call reloads what it needs). */
	if (me && me->vmcs_phys && !vcpu_vmcs_use(me))
		event_monitor_sync(me, false);
	tell_the_others(me);
}

enum hook_verdict event_hooks_run(struct vcpu *v, uint32_t info)
{
	return script_event_hooks_run(v, info, v->stop_reason, sizeof(v->stop_reason));
}
