/* vcpu_kick.h — one processor asking another's vCPU to do something: a
 * request bit, then an NMI IPI.  In the guest the NMI is a VM exit (NMI
 * exiting); in root mode it wakes cpu_wait_nmi; either way the vCPU
 * services its requests at the next point it looks (an NMI exit, the
 * debugger's poll at the end of an exit, a wait loop). */
#ifndef HV_VCPU_KICK_H
#define HV_VCPU_KICK_H

#include <stdbool.h>

#include "vcpu.h"

#define VCPU_REQ_PARK 1u	/* all-stop: leave the guest and wait (allstop.c) */
#define VCPU_REQ_INIT 2u	/* the guest sent it INIT: back to wait-for-SIPI */
#define VCPU_REQ_EVENTS 4u	/* the event watch changed: its controls (event_monitor.c) */
#define VCPU_REQ_SYNC 8u	/* dirty tracking changed: its VMCS follows (ept_dirty_sync) */

void vcpu_request(struct vcpu *v, unsigned req);
/* Sends the NMI again (a request the vCPU has not seen yet). */
void vcpu_kick(struct vcpu *v);
/* On v's own processor: act on what was asked (may park; after INIT never
 * returns: the vCPU waits for its SIPI and enters the guest afresh). */
void vcpu_service(struct vcpu *v);
/* An NMI VM exit: true when it was a kick (serviced), false when the NMI
 * is the guest's. */
bool vcpu_nmi_exit_was_kick(struct vcpu *v);

#endif
