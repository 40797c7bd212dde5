/* selfsum.h — the guest checksums a page of its own code while a debugger
 * breaks in it (option selfsum=N; README.md). */
#ifndef BASIC_SELFSUM_H
#define BASIC_SELFSUM_H

#include <stdint.h>

/* selfsum_page.S */
extern const uint8_t selfsum_page[4096];
uint32_t selfsum_target(uint32_t x);
void selfsum_other(void);
uint32_t selfsum_near(void);

/* With selfsum=N: N rounds of a call to selfsum_target and two checksums
 * of its page (CRC-32 by code elsewhere, and selfsum_near), then
 * "GUEST INFO selfsum rounds=N calls=... crc=... near=...". */
void selfsum_run(void);

#endif
