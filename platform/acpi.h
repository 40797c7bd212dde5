/* acpi.h — just enough ACPI to power off: RSDP → RSDT/XSDT → FADT → DSDT's
 * \_S5 sleep type (ACPI spec §5.2 tables, §7.4.2 \_Sx objects); and to find
 * other tables by signature. */
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
/* The checksummed table with this 4-character signature ("DMAR", "APIC"),
 * or NULL when the firmware lists none. */
const void *acpi_find_table(const char *sig);
/* Whether the FADT's 6-character OEM ID (space-padded) is oem_id. */
bool acpi_oem_is(const char *oem_id);

#endif
