/* hv_start.h — bring up VMX and run the guest; returns only by stopping. */
#ifndef HV_HV_START_H
#define HV_HV_START_H

#include <stdint.h>

#include "platform/bootinfo.h"

/* debug_uart: the gdb UART's base port, hidden from the guest, or 0. */
__attribute__((noreturn)) void hv_start(const struct boot_info *bi, uint16_t debug_uart);

#endif
