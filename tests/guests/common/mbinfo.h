/* mbinfo.h — the boot information a multiboot loader handed over, v1 or v2,
 * in one shape: command line, loader name, memory information, memory map,
 * modules.  Strings and module contents stay where the loader put them
 * (the guests never write there); the memory map is copied. */
#ifndef GUEST_MBINFO_H
#define GUEST_MBINFO_H

#include <stdbool.h>
#include <stdint.h>

#define MB1_BOOT_MAGIC	0x2BADB002u	/* EAX from a v1 loader (Multiboot 0.6.96 §3.2) */
#define MB2_BOOT_MAGIC	0x36D76289u	/* EAX from a v2 loader (Multiboot2 §3.3) */
#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB2_HEADER_MAGIC 0xE85250D6u

#define MBINFO_MAX_REGIONS	64
#define MBINFO_MAX_MODULES	8

/* Memory map types, shared by both versions (== ACPI address range types). */
#define MBINFO_MEM_USABLE	1

enum mb_protocol { MB_NONE, MB_V1, MB_V2 };

struct mb_region {
	uint64_t base, len;
	uint32_t type;
};

struct mb_module {
	uint32_t start, end;	/* physical, end exclusive */
	const char *cmdline;	/* never NULL */
};

struct mb_info {
	enum mb_protocol protocol;	/* from EAX */
	uint32_t addr, size;		/* the structure: v2's total_size, v1's fixed part */
	const char *error;		/* malformed structure: what is wrong, or NULL */

	const char *cmdline;		/* NULL if the loader gave none */
	const char *loader;		/* NULL if the loader gave none */
	bool has_meminfo;
	uint32_t mem_lower, mem_upper;	/* KiB, below 640 KiB and above 1 MiB */
	bool has_mmap;
	unsigned nregions;		/* kept; more were given if regions_dropped */
	bool regions_dropped;
	struct mb_region regions[MBINFO_MAX_REGIONS];
	unsigned nmodules;
	bool modules_dropped;
	struct mb_module modules[MBINFO_MAX_MODULES];
};

/* The image's own header (header.S), to know which protocol to expect. */
extern const uint32_t multiboot_header[];

/* Reads the structure at `addr` as the magic in `eax` says; call once, first. */
void mbinfo_init(uint32_t eax, uint32_t addr);
const struct mb_info *mbinfo(void);
/* "multiboot" or "multiboot2": what EAX said, and what our header asks for. */
const char *mbinfo_protocol_name(enum mb_protocol p);
enum mb_protocol mbinfo_header_protocol(void);
/* Whether the header asks for page-aligned modules (v1 flags bit 0, v2 tag 6). */
bool mbinfo_header_wants_aligned_modules(void);

#endif
