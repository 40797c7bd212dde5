/* acpi_madt.h — the processors the firmware lists in the MADT ("APIC"
 * table, ACPI 6.5 §5.2.12): Processor Local APIC (type 0) and Processor
 * Local x2APIC (type 9) entries.  The table is input: every entry is
 * bounds-checked and anything malformed is counted, never followed. */
#ifndef PLATFORM_ACPI_MADT_H
#define PLATFORM_ACPI_MADT_H

#include <stdbool.h>
#include <stdint.h>

#define MADT_MAX_CPUS 64

struct madt_cpu {
	uint32_t apic_id;
	uint32_t acpi_uid;	/* ACPI processor id (type 0) or UID (type 9) */
	bool x2apic;		/* listed by a type 9 entry */
};

struct madt_info {
	uint32_t lapic_addr;	/* the local APIC's MMIO base (32-bit field) */
	unsigned ncpus;		/* enabled processors, the BSP among them */
	struct madt_cpu cpus[MADT_MAX_CPUS];
	unsigned online_capable;	/* disabled but hot-pluggable: not started */
	unsigned malformed;	/* entries whose length does not fit their type */
	unsigned duplicates;	/* a second entry for an APIC id already listed */
	unsigned overflow;	/* enabled processors beyond MADT_MAX_CPUS */
	bool truncated;		/* an entry ran past the table: parsing stopped */
};

/* Parses the MADT at `table` (its header's length bounds every read; the
 * caller has checked the checksum).  0, or -EINVAL when the header is not
 * an MADT of at least 44 bytes (nothing parsed). */
int madt_parse(const void *table, struct madt_info *out);

#endif
