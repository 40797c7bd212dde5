/* lapic.h — the few local-APIC operations the hypervisor itself needs:
 * sending an NMI to another processor, in whatever mode (xAPIC or x2APIC)
 * the APIC is in right now — a guest with the APIC passed through may have
 * switched it (SDM Vol. 3A §12.12.1). */
#ifndef PLATFORM_LAPIC_H
#define PLATFORM_LAPIC_H

#include <stdint.h>

/* An NMI IPI (delivery mode 100b, physical destination: SDM Vol. 3A
 * §12.6.1) to the processor with this APIC id. */
void lapic_send_nmi(uint32_t apic_id);

/* Waits until an NMI arrives (or returns at once when one arrived since the
 * caller last looked: see cpu_wait_nmi in lapic_wait.S).  Root mode, IF=0. */
void cpu_wait_nmi(void);
/* From the NMI handler: true when the NMI interrupted cpu_wait_nmi's HLT,
 * which is then skipped (the lost-wake-up race closed). */
struct trap_frame;
void cpu_wait_nmi_fixup(struct trap_frame *f);
/* After an NMI VM exit: NMIs stay blocked in root mode until an IRET (SDM
 * Vol. 3C §28.? "NMI blocking"; §26.7.1): one to ourselves unblocks them. */
void cpu_unblock_nmi(void);

#endif
