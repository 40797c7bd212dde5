/* smp.h — starting the application processors (SDM Vol. 3A §9.4 "Multiple-
 * Processor (MP) Initialization"): the BSP finds them in the MADT and sends
 * each INIT-SIPI-SIPI; each comes up in long mode with its own stack,
 * GDT/TSS, IST stacks and per-CPU block, runs the caller's function, then
 * parks (cli; hlt) forever. */
#ifndef PLATFORM_SMP_H
#define PLATFORM_SMP_H

#include "bootinfo.h"

/* Runs on the AP, in long mode, while the BSP waits for it (so it may
 * allocate pages, but must not log: the BSP reports for it).  0 or -errno. */
typedef int (*smp_ap_fn)(unsigned cpu_index, void *ctx);

/* What an AP does for good once fn succeeded (the hypervisor's AP loop);
 * NULL: it parks (cli; hlt). */
typedef void (*smp_ap_main_fn)(unsigned cpu_index);

/* Starts every enabled AP of the MADT, one at a time, each running fn; logs
 * each stage at debug level, done_stage naming what fn achieved ("VMX root
 * (VMXON ok)"), and warns about every AP left alone.  *found: the enabled
 * processors of the MADT (0 without one).  Returns how many APs ran fn and
 * got 0 from it. */
unsigned smp_start_aps(const struct boot_info *bi, smp_ap_fn fn, void *ctx, const char *done_stage,
		       smp_ap_main_fn then, unsigned *found);
/* The local APIC id of the processor started as cpu_index (0: the BSP). */
uint32_t smp_apic_id(unsigned cpu_index);

#endif
