/* acpi.h — just enough ACPI to power off: RSDP → RSDT/XSDT → FADT → DSDT's
 * \_S5 sleep type (ACPI spec §5.2 tables, §7.4.2 \_Sx objects). */
#ifndef PLATFORM_ACPI_H
#define PLATFORM_ACPI_H

#include <stdint.h>

/* rsdp: the copy the boot loader gave, or NULL to scan the BIOS areas. */
void acpi_init(const void *rsdp);
/* Enters S5 if the tables allowed it; returns if it did not happen. */
void acpi_power_off(void);

#endif
