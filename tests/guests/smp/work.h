/* work.h — the deterministic work each processor does on its own memory. */
#ifndef SMP_WORK_H
#define SMP_WORK_H

#include <stdint.h>

/* Stirs cpu's own 4 KiB work area and returns its CRC-32. */
uint32_t work_area_run(unsigned cpu);
/* SMP_LOCKED_ADDS lock-prefixed increments of smp.locked_counter. */
void work_locked_adds(void);
/* CRC-32 of the little-endian words bsp crc, ap crc, locked counter, IPIs
 * to the AP, IPIs to the BSP, ap_counter: the line both runs must agree on. */
uint32_t work_checksum(void);

#endif
