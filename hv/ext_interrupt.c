/* ext_interrupt.c — delivering the external interrupts a script watches
 * (event_monitor.c turns external-interrupt exiting on for them) while
 * the guest owns its interrupt controllers.
 *
 * External-interrupt exiting makes every interrupt a VM exit, whatever
 * the guest's RFLAGS.IF (SDM Vol. 3C §26.2).  Acknowledging it on exit
 * (§25.7.1, §28.2.2) is the only way to learn its vector, but an
 * acknowledgement the guest could not have made yet changes what it sees:
 * an 8259 gives the vector of its base at INTA time (the guest may be
 * reprogramming it with interrupts off: the basic guest is, at boot), and
 * a masked line must stay quiet.  So the acknowledgement waits for the
 * moment the bare guest would have taken the interrupt:
 *
 * 1. The exit without acknowledgement (the default): the interrupt is
 *    still pending in its controller (§28.1).  If the guest can take it
 *    now, acknowledge-on-exit goes on for one exit and we resume: the
 *    interrupt exits again at once, acknowledged.  If not, external-
 *    interrupt exiting goes off and interrupt-window exiting on: the guest
 *    runs as on bare metal with its interrupt pending, and the window exit
 *    comes before any external interrupt is delivered (§27.7.5: it has
 *    priority over external interrupts); there, exiting goes on again and
 *    the interrupt exits once more, now takeable.
 * 2. The acknowledged exit: its vector goes to the hooks, then into the
 *    guest at this very entry.
 *
 * Should the guest still be unable to take an acknowledged interrupt (one
 * that vanished from an 8259 between the two exits, then another came
 * while IF = 0), it is held in an IRR of our own and injected at the
 * window, highest vector first: the guest's EOIs then clear the APIC's
 * ISR bits in the order the APIC set them.  Dropping an acknowledged
 * interrupt would leave its ISR bit set, blocking its class and below. */
#include "ext_interrupt.h"

#include "apic_virtual.h"

#include "event_monitor.h"
#include "exits.h"
#include "vmx.h"
#include "vmx_msr.h"

#define INTR_INFO_VALID (1u << 31)
#define EXT_PIN VMX_PIN_EXTERNAL_INTERRUPT_EXITING
#define EXT_ACK VMX_EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT

void ext_interrupt_controls(struct vcpu *v, bool force)
{
	if (apic_virtual)
		return;	/* the mode's own: exiting and acknowledging always on (apic_virtual.c) */
	bool on = event_watch.ext_interrupts;
	uint32_t pin = on && !v->irq_deferred ? v->pin_ctls | EXT_PIN : v->pin_ctls & ~EXT_PIN;
	uint32_t exit = on && v->irq_ack_next ? v->exit_ctls | EXT_ACK : v->exit_ctls & ~EXT_ACK;

	if (pin != v->pin_ctls || force) {
		v->pin_ctls = pin;
		vmwrite(PIN_BASED_VM_EXEC_CONTROL, pin);
	}
	if (exit != v->exit_ctls || force) {
		v->exit_ctls = exit;
		vmwrite(PRIMARY_VM_EXIT_CONTROLS, exit);
	}
}

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

bool ext_interrupt_acknowledged(void)
{
	return vmread(VM_EXIT_INTERRUPTION_INFO) & INTR_INFO_VALID;
}

/* Nothing else goes in at this entry and the guest takes interrupts. */
static bool takeable_now(const struct vcpu *v)
{
	return !(vmread(VM_ENTRY_INTERRUPTION_INFO) & INTR_INFO_VALID) && ext_interrupt_highest(v) < 0 &&
	       v->pending_irq < 0 && guest_can_take_interrupt();
}

void ext_interrupt_passthrough(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VM_EXIT_INTERRUPTION_INFO);

	/* An event whose delivery the exit cut short goes in first (§28.2.4). */
	inject_vectoring_event(v);
	if (info & INTR_INFO_VALID) {
		v->irq_ack_next = false;
		hold(v, info & 0xff);
	} else if (takeable_now(v)) {
		v->irq_ack_next = true;
	} else {
		v->irq_deferred = true;
	}
	ext_interrupt_controls(v, false);
	inject_pending_events(v);	/* and interrupt-window exiting while deferred */
}

void ext_interrupt_window(struct vcpu *v)
{
	if (!v->irq_deferred)
		return;
	v->irq_deferred = false;
	ext_interrupt_controls(v, false);
}
