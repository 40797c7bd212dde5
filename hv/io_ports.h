/* io_ports.h — the ports the hypervisor traps through the I/O bitmaps. */
#ifndef HV_IO_PORTS_H
#define HV_IO_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#define IO_PORT_BOCHS_SHUTDOWN 0x8900
#define IO_PORT_QEMU_DEBUG_EXIT 0xf4

void io_ports_set_debug_uart(uint16_t base);
bool io_port_is_debug_uart(uint16_t port);
/* The console UART's data port, trapped so the hypervisor sees the guest's
 * bytes and keeps lines whole; 0 when there is no console UART. */
void io_ports_set_console(uint16_t base);
uint16_t io_ports_console_data(void);
/* The ACPI PM1a control register and \_S5's SLP_TYP: a guest's ACPI
 * power-off there ends the run; other accesses reach the register. */
void io_ports_set_acpi_pm1a(uint16_t port, uint16_t slp_typ_s5);

#endif
