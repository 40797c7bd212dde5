/* acpi.h — the firmware's MADT, found as an OS finds it: RSDP in the BIOS
 * areas, then the RSDT or XSDT (ACPI 6.5 §5.2.5-§5.2.8). */
#ifndef SMP_ACPI_H
#define SMP_ACPI_H

/* The checksummed "APIC" table, or NULL if the firmware has none. */
const void *acpi_find_madt(void);

#endif
