/* allstop.h — when one vCPU stops for the debugger, every vCPU stops
 * (gdb's all-stop mode).  The stopping vCPU becomes the owner: it asks the
 * others to park (VCPU_REQ_PARK, NMI IPI) and waits until each has left the
 * guest, saved what lives only in its processor (x87/SSE) and VMCLEARed its
 * VMCS, so the owner can VMPTRLD any of them to read or change it (SDM Vol.
 * 3C §25.1: a VMCS is active on one processor at a time).  When gdb lets the
 * guest go, the vCPUs given an action run; the others stay parked. */
#ifndef HV_ALLSTOP_H
#define HV_ALLSTOP_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

/* On the stopping vCPU, before the debugger hears of the stop.  True when
 * it was parked by another vCPU's stop first: its own stop may be stale. */
bool allstop_begin(struct vcpu *v);
/* A stop dropped before the debugger heard of it: v and the vCPUs its
 * stop parked run on as they were. */
void allstop_resume_those_parked_by(struct vcpu *v);
/* Whether the debugger's resume lets any started vCPU run. */
bool allstop_something_runs(void);
/* After the debugger resumed: releases the vCPUs with run_next set (all
 * when every_vcpu), makes v's own VMCS current again, and parks v itself
 * when it was given no action. */
void allstop_end(struct vcpu *v);
/* On v's processor: leave the guest's state where the owner can reach it
 * and wait to be released. */
void allstop_park(struct vcpu *v);

/* Make v's VMCS the current one on this processor (the owner's, while the
 * guest is stopped): -EBUSY when v is running elsewhere. */
int vcpu_vmcs_use(struct vcpu *v);

/* The vCPU serving the debugger while the guest is stopped, else NULL. */
struct vcpu *allstop_owner(void);

/* TSC ticks from the last stop to the last vCPU parked (make bench). */
extern uint64_t allstop_last_latency;

#endif
