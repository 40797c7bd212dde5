/* ext_interrupt.h — external interrupts that exit, in pass-through mode
 * (the local APIC and the PIC are the guest's), while a script watches
 * them (event_monitor.c): each is acknowledged only when the guest can
 * take it, shown to the hooks and injected (SDM Vol. 3C §26.2, §27.6;
 * book ch. 7). */
#ifndef HV_EXT_INTERRUPT_H
#define HV_EXT_INTERRUPT_H

#include <stdbool.h>

#include "vcpu.h"

/* The EXTERNAL_INTERRUPT exit: an interrupt not yet acknowledged is made
 * to exit again acknowledged, or left pending in its controller until the
 * guest opens its interrupt window; an acknowledged one is injected. */
void ext_interrupt_passthrough(struct vcpu *v);
/* True when this exit carries an acknowledged vector (hooks see those). */
bool ext_interrupt_acknowledged(void);
/* The interrupt-window exit: external-interrupt exiting back on. */
void ext_interrupt_window(struct vcpu *v);
/* Writes v's pin-based and VM-exit controls as the watch and v's state
 * want them (event_monitor_sync); force: whatever v thinks it has. */
void ext_interrupt_controls(struct vcpu *v, bool force);

/* The highest held vector, or -1; take removes one. */
int ext_interrupt_highest(const struct vcpu *v);
void ext_interrupt_take(struct vcpu *v, unsigned vector);

#endif
