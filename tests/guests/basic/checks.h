/* checks.h — the basic guest's check groups, in the order main.c runs them.
 * Each group prints one or more PASS/FAIL lines (see README.md). */
#ifndef BASIC_CHECKS_H
#define BASIC_CHECKS_H

void check_boot(void);
/* Part of the boot group: the information structure, command line, memory
 * map and modules (bootinfo-* lines). */
void check_bootinfo(void);
void check_com1(void);
void check_cpuid(void);
void check_msr(void);
void check_cr(void);
void check_exceptions(void);
void check_int80(void);
void check_paging(void);
void check_hlt(void);
void check_crc32(void);
/* x87/SSE/AVX registers kept across VM exits; leaves the checksum alone. */
void check_fpu(void);
/* Events as the hardware delivers them (RF, a stepped HLT, port 0xf4). */
void check_events(void);

#endif
