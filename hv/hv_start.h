/* hv_start.h — bring up VMX and run the guest; returns only by stopping. */
#ifndef HV_HV_START_H
#define HV_HV_START_H

#include <stdint.h>

#include "platform/bootinfo.h"
#include "platform/cmdline.h"

/* The debugger front end, if any, is registered before (main.c); the
 * debug UART's ports (cfg->gdb) are hidden from the guest either way. */
__attribute__((noreturn)) void hv_start(const struct boot_info *bi, const struct hv_config *cfg);

#endif
