/* console.h — the console UART, shared by the hypervisor's log and the
 * guest, which keeps it passed through (only the data port is trapped):
 * lines stay whole (console_lines.h). */
#ifndef SERIAL_CONSOLE_H
#define SERIAL_CONSOLE_H

#include <stdint.h>

#include "uart.h"

/* The log's sink from now on; u answered its probe. */
void console_attach(struct uart *u);
/* The guest wrote byte to the data port (the VM exit of the trap). */
void console_guest_out(uint8_t byte);
/* Every VMX-preemption-timer exit. */
void console_tick(void);

#endif
