/* breakpoints_sync.h — putting the debugger's hardware breakpoints and
 * watchpoints (DR0-DR3, DR7, MOV-DR exiting) and its exception bitmap into
 * one vCPU, on that vCPU's own processor with its VMCS current. */
#ifndef HV_BREAKPOINTS_SYNC_H
#define HV_BREAKPOINTS_SYNC_H

#include "vcpu.h"

void breakpoints_sync_vcpu(struct vcpu *v);

#endif
