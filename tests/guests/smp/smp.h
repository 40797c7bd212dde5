/* smp.h — what the two processors share, and the fixed sizes of their work.
 * tests/integration/test_smp_guest.py recomputes the checksum from these
 * numbers: change one there too. */
#ifndef SMP_SMP_H
#define SMP_SMP_H

#include <stdint.h>

#define SMP_CPU_BSP		0
#define SMP_CPU_AP		1
#define SMP_IPIS		16	/* fixed-vector IPIs each way */
#define SMP_LOCKED_ADDS		10000	/* lock-prefixed increments of `locked_counter`, each CPU */
#define SMP_SPIN_DEFAULT	100000	/* ap_counter's increments; spin=N on the command line */
#define SMP_VECTOR_TO_AP	0x41
#define SMP_VECTOR_TO_BSP	0x42

/* Written by one processor and read by the other: every field volatile. */
struct smp_shared {
	volatile uint32_t bsp_apic_id, ap_apic_id;
	volatile uint32_t ap_started;		/* set by the AP's first C code */
	volatile uint32_t ap_done;		/* set by the AP's last */
	const char *volatile ap_phase;		/* what the AP is doing, for a report if it stalls */
	const char *volatile ap_error;		/* why the AP gave up, or NULL */
	volatile uint32_t ap_polls;		/* the AP's waiting loops count here: it is alive */
	volatile uint32_t ipis_to_ap, ipis_to_bsp;	/* counted by the IDT handlers */
	volatile uint32_t misrouted;		/* an IPI taken on the other CPU than its vector's */
	volatile uint32_t spurious;		/* the APICs' spurious vector (not EOIed, §11.9) */
	volatile uint32_t locked_counter;
	volatile uint32_t crc[2];		/* each CPU's work area's CRC-32 (work.c) */
	volatile uint32_t spin;			/* how far the AP counts ap_counter */
};
extern struct smp_shared smp;

/* The AP's work counter, counted up to smp.spin after everything else: a
 * debugger watches it advance (or, with the AP stopped, not advance). */
extern volatile uint32_t ap_counter;

/* Each runs on one processor only: stable breakpoint sites. */
void ap_only_function(void);
void bsp_only_function(void);

#endif
