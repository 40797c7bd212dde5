/* ext_interrupt.h — external interrupts that exit, in pass-through mode
 * (the local APIC is the guest's): each is acknowledged on exit, held
 * in a per-vCPU IRR of our own and injected when the guest can take it,
 * highest vector first (SDM Vol. 3C §26.2, §27.6; book ch. 7). */
#ifndef HV_EXT_INTERRUPT_H
#define HV_EXT_INTERRUPT_H

#include "vcpu.h"

/* The EXTERNAL_INTERRUPT exit's interrupt, acknowledged on exit (its
 * vector in VM_EXIT_INTERRUPTION_INFO): held, then injected as soon as
 * the guest can take it (interrupt-window exiting until then). */
void ext_interrupt_passthrough(struct vcpu *v);

/* The highest held vector, or -1; take removes one. */
int ext_interrupt_highest(const struct vcpu *v);
void ext_interrupt_take(struct vcpu *v, unsigned vector);

#endif
