/* vcpu_kick.c — requests between vCPUs, delivered by NMI IPI. */
#include "vcpu_kick.h"

#include "allstop.h"
#include "platform/lapic.h"
#include "vcpu_ap.h"

void vcpu_kick(struct vcpu *v)
{
	__atomic_store_n(&v->kicked, true, __ATOMIC_SEQ_CST);
	v->poll_deadline = 0;	/* also the first exit past "now" looks */
	lapic_send_nmi(v->apic_id);
}

void vcpu_request(struct vcpu *v, unsigned req)
{
	__atomic_or_fetch(&v->requests, req, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
}

void vcpu_service(struct vcpu *v)
{
	unsigned req = __atomic_load_n(&v->requests, __ATOMIC_ACQUIRE);
	if (req & VCPU_REQ_INIT) {
		__atomic_and_fetch(&v->requests, ~VCPU_REQ_INIT, __ATOMIC_SEQ_CST);
		vcpu_ap_wait_for_sipi(v);	/* never returns */
	}
	if (req & VCPU_REQ_PARK)
		allstop_park(v);
}

bool vcpu_nmi_exit_was_kick(struct vcpu *v)
{
	/* NMIs stay blocked in root mode after an NMI exit until an IRET. */
	cpu_unblock_nmi();
	if (!__atomic_exchange_n(&v->kicked, false, __ATOMIC_SEQ_CST))
		return false;
	vcpu_service(v);
	return true;
}
