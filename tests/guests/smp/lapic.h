/* lapic.h — this CPU's local APIC, in xAPIC mode (MMIO at 0xfee00000) or
 * x2APIC mode (MSRs 0x800-0x8ff), SDM Vol. 3A §11.4 and §11.12. */
#ifndef SMP_LAPIC_H
#define SMP_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

enum lapic_mode { LAPIC_XAPIC, LAPIC_X2APIC };

/* Chosen once by the BSP before the AP starts; both CPUs use it. */
extern enum lapic_mode lapic_mode;

#define LAPIC_SPURIOUS_VECTOR	0xff

/* ICR low words (SDM Vol. 3A §11.6.1, Figure 11-12): delivery mode in bits
 * 10:8, level "assert" (bit 14); physical destination, no shorthand. */
#define ICR_FIXED	0x00004000u	/* | vector */
#define ICR_INIT	0x00004500u
#define ICR_STARTUP	0x00004600u	/* | vector: the start page's number */

/* CPUID.1:ECX.x2APIC[bit 21]. */
bool lapic_has_x2apic(void);
/* On this CPU: switch to lapic_mode (IA32_APIC_BASE, §11.12.1) and enable
 * the APIC in software (SVR bit 8, §11.9) with TPR 0.  0, or -1 if the APIC
 * is not at the xAPIC base the MMIO path assumes (xAPIC mode only). */
int lapic_enable(void);
uint32_t lapic_id(void);
/* Send one IPI: xAPIC writes ICR high then low with plain MOVs and waits
 * for the delivery status to clear; x2APIC is one WRMSR to 0x830 (§11.12.9). */
void lapic_send(uint32_t dest_apic_id, uint32_t icr_low);
void lapic_eoi(void);

#endif
