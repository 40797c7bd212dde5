/* acpi.h — just enough ACPI to power off: RSDP → RSDT/XSDT → FADT → DSDT's
 * \_S5 sleep type (ACPI spec §5.2 tables, §7.4.2 \_Sx objects). */
#ifndef PLATFORM_ACPI_H
#define PLATFORM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

/* rsdp: the copy the boot loader gave, or NULL to scan the BIOS areas. */
void acpi_init(const void *rsdp);
/* Enters S5 if the tables allowed it; returns if it did not happen. */
void acpi_power_off(void);
/* The PM1a control port and \_S5's SLP_TYPa, so that a guest writing them
 * (its own ACPI power-off) can be recognised; false when the tables gave none. */
bool acpi_s5(uint16_t *pm1a_cnt, uint16_t *slp_typa);

#endif
