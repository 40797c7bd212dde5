/* ext_interrupt.c — delivering the external interrupts a script watches
 * (event_monitor.c turns external-interrupt exiting on for them), when the
 * guest owns the local APIC.
 *
 * With "acknowledge interrupt on exit" the processor acknowledges the
 * interrupt controller as it exits (SDM Vol. 3C §28.1, §28.2.2): the
 * vector is in VM_EXIT_INTERRUPTION_INFO and in the APIC's ISR, no longer
 * pending anywhere else.  Dropping it would leave that ISR bit set until
 * a stray EOI, blocking every interrupt of its class and below, so it is
 * always injected, whatever a hook says.  Until the guest can take it
 * (RFLAGS.IF = 0, STI or MOV-SS shadow: §27.3.1.5) it waits here, and a
 * higher-priority interrupt may be acknowledged meanwhile: held vectors
 * are a 256-bit IRR delivered highest first, so the guest's EOIs clear
 * the APIC's ISR bits in the order the APIC would have set them. */
#include "ext_interrupt.h"

#include "exits.h"
#include "vmx.h"

#define INTR_INFO_VALID (1u << 31)

static void hold(struct vcpu *v, unsigned vector)
{
	v->held_irqs[vector / 64 & 3] |= 1ull << (vector % 64);
}

int ext_interrupt_highest(const struct vcpu *v)
{
	for (int w = 3; w >= 0; w--)
		if (v->held_irqs[w])
			return w * 64 + 63 - __builtin_clzll(v->held_irqs[w]);
	return -1;
}

void ext_interrupt_take(struct vcpu *v, unsigned vector)
{
	v->held_irqs[vector / 64 & 3] &= ~(1ull << (vector % 64));
}

void ext_interrupt_passthrough(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VM_EXIT_INTERRUPTION_INFO);

	/* An event whose delivery the exit cut short goes in first (§28.2.4);
	 * the interrupt then waits for the next window. */
	inject_vectoring_event(v);
	if (info & INTR_INFO_VALID)
		hold(v, info & 0xff);
	inject_pending_events(v);
}
