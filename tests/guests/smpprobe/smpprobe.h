/* smpprobe.h — the probe's IPI senders and its extra modes (apic=...). */
#ifndef SMPPROBE_H
#define SMPPROBE_H

#include <stdbool.h>
#include <stdint.h>

#define ICR_INIT 0x00004500u		/* INIT, level assert */
#define ICR_STARTUP 0x00004600u		/* Start-Up; the vector in bits 7:0 */
#define ICR_FIXED 0x00004000u
#define ICR_LOGICAL (1u << 11)
#define ICR_TO_SELF (1u << 18)		/* destination shorthand "self" */

/* Through the xAPIC's ICR (0xfee00310, then 0xfee00300), waiting for the
 * delivery status to clear; through WRMSR 0x830 in x2APIC mode. */
void xapic_send(uint32_t apic_id, uint32_t low);
void x2apic_send(uint32_t apic_id, uint32_t low);
/* Switches the APIC to x2APIC mode; false (and a line) without CPUID's x2APIC. */
bool x2apic_enable(void);

/* apic=hostile: bad IPIs, each announced, then "SMPPROBE hostile: survived". */
void apic_hostile(void);
/* apic=cost: "SMPPROBE apic cost: write N ticks, read N ticks" per access. */
void apic_cost(void);
/* apic=bogus: illegal vectors and a self-IPI flood (apic_bogus.c), then
 * "SMPPROBE bogus: survived". */
void apic_bogus(void);

/* apic=narrow: a byte store to the APIC page. */
void apic_narrow(void);
/* apic=tf: "SMPPROBE tf: N #DB traps, at store+A and store+B". */
void apic_tf(void);

#endif
