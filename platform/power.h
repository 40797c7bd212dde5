/* power.h — ending a run: power off, or halt for a human to read. */
#ifndef PLATFORM_POWER_H
#define PLATFORM_POWER_H

#include "cmdline.h"

extern enum panic_action stop_action;

/* Bochs magic break (the test harness' clean exit), ACPI S5, then Bochs'
 * shutdown port; halts if all of them fail. */
__attribute__((noreturn)) void power_off(void);
/* After a fatal error: power_off() or halt, as `panic=` says. */
__attribute__((noreturn)) void platform_stop(void);
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
