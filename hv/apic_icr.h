/* apic_icr.h — the guest's writes to its local APIC's interrupt command
 * register (ICR, SDM Vol. 3A §12.6.1), caught in software because Bochs
 * 2.7's native INIT and SIPI exits are broken (docs/platform-notes.md):
 * INIT and start-up IPIs go to the vCPUs they name; every other IPI reaches
 * the real local APIC unchanged.  The x2APIC path comes from WRMSR 0x830
 * (exit_msr.c), the xAPIC path from EPT write violations on the APIC page
 * (apic_mmio.c). */
#ifndef HV_APIC_ICR_H
#define HV_APIC_ICR_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

/* ICR low word (SDM Vol. 3A Figure 12-12). */
#define ICR_VECTOR_MASK 0xffu
#define ICR_DELIVERY_SHIFT 8
#define ICR_DELIVERY_MASK (7u << ICR_DELIVERY_SHIFT)
#define ICR_DELIVERY_INIT (5u << ICR_DELIVERY_SHIFT)
#define ICR_DELIVERY_STARTUP (6u << ICR_DELIVERY_SHIFT)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK (3u << ICR_SHORTHAND_SHIFT)
#define ICR_SHORTHAND_SELF (1u << ICR_SHORTHAND_SHIFT)
#define ICR_SHORTHAND_ALL (2u << ICR_SHORTHAND_SHIFT)
#define ICR_SHORTHAND_OTHERS (3u << ICR_SHORTHAND_SHIFT)
/* x2APIC mode: WRMSR to the ICR with these low bits set raises #GP (SDM
 * Vol. 3A §12.12.9: delivery status, bit 13, 17:16, 31:20 are reserved). */
#define ICR_X2APIC_RESERVED 0xfff33000u

/* Physical destination "all" (x2APIC 0xffffffff; an xAPIC caller widens its
 * 8-bit 0xff to this before calling). */
#define APIC_DEST_BROADCAST 0xffffffffu

/* An IPI storm: this many IPIs from one vCPU within APIC_STORM_TICKS of
 * TSC is reported (they are still delivered: a guest may mean it). */
#define APIC_STORM_IPIS 1000u
#define APIC_STORM_TICKS 10000000ull

/* sender wrote the ICR: dest is the destination field (x2APIC: the 32-bit
 * APIC id; xAPIC: bits 63:56, 0xff widened to APIC_DEST_BROADCAST), low
 * the command.  INIT (level assert) and Start-Up with a physical
 * destination or a shorthand call vcpu_guest_init / vcpu_guest_sipi on the
 * vCPUs it names; INIT level de-assert is dropped (Pentium 4 and later
 * ignore it too); the rest goes to the real APIC through apic_hw_send_ipi.
 * Bad input (INIT or SIPI to the sender itself, to an APIC id no vCPU has,
 * with a logical destination; a storm) is logged, rate-limited, never fatal. */
void apic_icr_write(struct vcpu *sender, uint32_t dest, uint32_t low);

/* The hardware side (apic_hw.c; the host tests fake it).  The physical
 * APIC's mode and base are read from IA32_APIC_BASE: the guest owns it (its
 * writes pass through, exit_msr.c), so they are the guest's. */
void apic_hw_send_ipi(uint32_t dest, uint32_t low);	/* x2APIC: WRMSR 0x830; xAPIC: 0x310, 0x300 */
uint64_t apic_hw_now(void);				/* TSC */

#endif
