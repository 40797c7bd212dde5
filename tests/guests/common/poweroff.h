/* poweroff.h — end the run under Bochs, QEMU, or (failing both) halt. */
#ifndef GUEST_POWEROFF_H
#define GUEST_POWEROFF_H

#include <stdint.h>

/* status 0 = success.  Under QEMU with isa-debug-exit at 0xf4 the process
 * exits with (status << 1) | 1: 1 for success, 3 for failure. */
__attribute__((noreturn)) void poweroff(uint8_t status);

#endif
