/* work.h — deterministic busywork whose CRC-32 ends up in "GUEST DONE ...
 * checksum=0x...".  A debugger that stops, steps or breakpoints the guest
 * and corrupts a register or a byte on the way changes the checksum. */
#ifndef BASIC_WORK_H
#define BASIC_WORK_H

#include <stdint.h>

/* One round per check group, run or skipped. */
void work_round(uint32_t round);
uint32_t work_checksum(void);
/* Not static and not inlined: a stable place for a debugger's breakpoint. */
uint32_t work_step(uint32_t word, uint32_t round, uint32_t index);

#endif
