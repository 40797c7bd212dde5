/* vcpu_kick.c — requests between vCPUs, delivered by NMI IPI.
 *
 * An NMI says nothing about who sent it, so they are counted: a sender adds
 * one to the target's `kicks` before its NMI leaves; the target counts the
 * NMIs it took, in root mode (the per-CPU count, platform/lapic.c) and as
 * VM exits.  While NMIs taken do not outnumber the kicks, an NMI is a kick;
 * any surplus is the guest's own (an NMI IPI between guest CPUs, a watchdog)
 * and goes back to the guest through the NMI window.  NMIs coalesce, so a
 * guest NMI and a kick landing together count once: that guest NMI is taken
 * for the kick (docs/design.md, Processors: limits). */
#include "vcpu_kick.h"

#include "allstop.h"
#include "event_monitor.h"
#include "ept_dirty.h"
#include "exits.h"
#include "platform/lapic.h"
#include "platform/percpu.h"
#include "vcpu_ap.h"

void vcpu_kick(struct vcpu *v)
{
	__atomic_add_fetch(&v->kicks, 1, __ATOMIC_SEQ_CST);
	v->poll_deadline = 0;	/* also the first exit past "now" looks */
	lapic_send_nmi(v->apic_id);
}

void vcpu_request(struct vcpu *v, unsigned req)
{
	__atomic_or_fetch(&v->requests, req, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
}

/* NMIs taken beyond the kicks sent are the guest's: hand one back. */
static void settle_nmis(struct vcpu *v)
{
	uint64_t taken = this_cpu()->nmis + v->nmi_exits;
	uint64_t kicks = __atomic_load_n(&v->kicks, __ATOMIC_ACQUIRE);
	if (taken > kicks && taken - kicks > v->guest_nmis) {
		v->guest_nmis = taken - kicks;
		v->pending_nmi = true;
		inject_pending_events(v);
	}
}

void vcpu_service(struct vcpu *v)
{
	settle_nmis(v);
	unsigned req = __atomic_load_n(&v->requests, __ATOMIC_ACQUIRE);
	if (req & VCPU_REQ_EVENTS) {
		__atomic_and_fetch(&v->requests, ~VCPU_REQ_EVENTS, __ATOMIC_SEQ_CST);
		event_monitor_sync(v, false);
	}
	if (req & VCPU_REQ_SYNC) {
		__atomic_and_fetch(&v->requests, ~VCPU_REQ_SYNC, __ATOMIC_SEQ_CST);
		ept_dirty_sync(v);
	}
	if (req & VCPU_REQ_INIT)
		vcpu_ap_wait_for_sipi(v);	/* never returns; clears the request */
	if (req & VCPU_REQ_PARK)
		allstop_park(v);
}

bool vcpu_nmi_exit_was_kick(struct vcpu *v)
{
	/* NMIs stay blocked in root mode after an NMI exit until an IRET. */
	cpu_unblock_nmi();
	v->nmi_exits++;
	uint64_t taken = this_cpu()->nmis + v->nmi_exits;
	if (taken > __atomic_load_n(&v->kicks, __ATOMIC_ACQUIRE) + v->guest_nmis) {
		v->guest_nmis++;
		return false;	/* the guest's: exit_exception_nmi hands it back */
	}
	vcpu_service(v);
	return true;
}
