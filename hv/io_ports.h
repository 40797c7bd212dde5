/* io_ports.h — the ports the hypervisor traps through the I/O bitmaps. */
#ifndef HV_IO_PORTS_H
#define HV_IO_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#define IO_PORT_BOCHS_SHUTDOWN 0x8900
#define IO_PORT_QEMU_DEBUG_EXIT 0xf4

void io_ports_set_debug_uart(uint16_t base);
bool io_port_is_debug_uart(uint16_t port);

#endif
