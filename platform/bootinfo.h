/* bootinfo.h — what the boot loader told us, validated and copied out of
 * the multiboot2 information structure. */
#ifndef PLATFORM_BOOTINFO_H
#define PLATFORM_BOOTINFO_H

#include <stdbool.h>
#include <stdint.h>

#define BOOT_MAX_REGIONS 128
#define BOOT_MAX_MODULES 32
#define BOOT_MAX_WARNINGS 8
#define BOOT_WARNING_LEN 96

/* Multiboot2 memory types (== ACPI address range types). */
enum mem_type {
	MEM_USABLE = 1, MEM_RESERVED = 2, MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4, MEM_BAD = 5,
};

struct mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type;
};

struct boot_module {
	uint64_t start;		/* physical, inclusive */
	uint64_t end;		/* physical, exclusive */
	const char *cmdline;	/* "guest ...", "script", ...; never NULL */
};

struct boot_info {
	const char *cmdline;	/* never NULL */
	const char *loader;	/* never NULL */
	uint64_t info_addr, info_len;	/* the structure itself, to reserve */

	unsigned nregions;
	struct mem_region regions[BOOT_MAX_REGIONS];
	unsigned nmodules;
	struct boot_module modules[BOOT_MAX_MODULES];

	const void *rsdp;	/* copy inside the info structure, or NULL */
	unsigned rsdp_len;
	bool has_basic_meminfo;
	uint32_t mem_lower_kb, mem_upper_kb;

	unsigned nwarnings;	/* malformed input, reported by the caller */
	char warnings[BOOT_MAX_WARNINGS][BOOT_WARNING_LEN];
};

#define MB2_BOOTLOADER_MAGIC 0x36d76289
/* The biggest information structure we accept; GRUB's are a few KiB. */
#define MB2_MAX_INFO_LEN (1u << 20)

/* Parses the information structure at `info` (identity-mapped).  Returns 0,
 * or -EINVAL when the magic or the header is unusable (nothing parsed).
 * Malformed tags are skipped with a warning; parsing stops at the first tag
 * whose size would run past the structure. */
int mb2_parse(uint32_t magic, const void *info, struct boot_info *bi);

const char *mem_type_name(uint32_t type);

#endif
