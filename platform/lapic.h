/* lapic.h — the few local-APIC operations the hypervisor itself needs:
 * sending an NMI to another processor, in whatever mode (xAPIC or x2APIC)
 * the APIC is in right now — a guest with the APIC passed through may have
 * switched it (SDM Vol. 3A §12.12.1). */
#ifndef PLATFORM_LAPIC_H
#define PLATFORM_LAPIC_H

#include <stdint.h>

/* Writes the ICR (SDM Vol. 3A §12.6.1): an IPI with this low word to dest
 * (an APIC id, or whatever the low word's destination mode makes of it),
 * in the mode IA32_APIC_BASE says now. */
void lapic_send_ipi(uint32_t dest, uint32_t low);
/* An NMI IPI (delivery mode 100b, physical destination) to the processor
 * with this APIC id, after any IPI still pending on an xAPIC. */
void lapic_send_nmi(uint32_t apic_id);

/* Waiting for another processor's word, race-free (root mode, IF=0):
 *
 *	for (;;) {
 *		uint64_t seen = cpu_nmi_count();
 *		if (condition)
 *			break;
 *		cpu_wait_nmi_since(seen);
 *	}
 *
 * The sender sets the condition, then sends its NMI.  An NMI counted after
 * `seen` makes cpu_wait_nmi_since return at once; one that arrives between
 * its compare and its HLT is caught by the handler (cpu_wait_nmi_fixup),
 * which moves RIP past the HLT. */
uint64_t cpu_nmi_count(void);
void cpu_wait_nmi_since(uint64_t seen);
/* From the NMI handler in root mode: counts it, and ends a wait it
 * interrupted between the compare and the HLT. */
struct trap_frame;
void cpu_wait_nmi_fixup(struct trap_frame *f);
/* After an NMI VM exit NMIs may stay blocked in root mode until an IRET
 * (SDM Vol. 3C ch. 28, VM exits caused by NMIs; KVM does the same): an
 * IRET to ourselves unblocks them. */
void cpu_unblock_nmi(void);

#endif
