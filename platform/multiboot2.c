/* multiboot2.c — the boot information structure (Multiboot2 spec §3.6):
 * u32 total_size, u32 reserved, then 8-byte-aligned tags {u32 type, u32 size}
 * ending with a type-0 tag.  GRUB wrote it, but we still check every length:
 * a bad structure gets a warning, never a fault. */
#include "bootinfo.h"

#include <stdarg.h>
#include <stddef.h>

#include "errno.h"
#include "fmt.h"
#include "kstring.h"

enum {
	TAG_END = 0, TAG_CMDLINE = 1, TAG_LOADER_NAME = 2, TAG_MODULE = 3,
	TAG_BASIC_MEMINFO = 4, TAG_MMAP = 6, TAG_ACPI_OLD = 14, TAG_ACPI_NEW = 15,
};

struct tag {
	uint32_t type;
	uint32_t size;
};

static void __attribute__((format(printf, 2, 3)))
warn(struct boot_info *bi, const char *fmt, ...)
{
	va_list ap;

	if (bi->nwarnings >= BOOT_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	kvsnprintf(bi->warnings[bi->nwarnings++], BOOT_WARNING_LEN, fmt, ap);
	va_end(ap);
}

const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE: return "usable";
	case MEM_RESERVED: return "reserved";
	case MEM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
	case MEM_ACPI_NVS: return "ACPI NVS";
	case MEM_BAD: return "bad";
	default: return "unknown";
	}
}

/* A string payload must end inside its tag. */
static const char *tag_string(struct boot_info *bi, const struct tag *t, size_t offset, const char *what)
{
	const char *s = (const char *)t + offset;
	size_t room = t->size > offset ? t->size - offset : 0;
	if (room == 0 || strnlen(s, room) == room) {
		warn(bi, "multiboot2: %s string is not terminated inside its tag; ignored", what);
		return NULL;
	}
	return s;
}

static void parse_module(struct boot_info *bi, const struct tag *t)
{
	const uint32_t *w = (const uint32_t *)(t + 1);
	if (t->size < 17) {
		warn(bi, "multiboot2: module tag of %u bytes is too short; ignored", t->size);
		return;
	}
	if (w[1] <= w[0]) {
		warn(bi, "multiboot2: module [0x%x-0x%x) is empty or inverted; ignored", w[0], w[1]);
		return;
	}
	const char *cmd = tag_string(bi, t, 16, "module command-line");
	if (!cmd)
		return;
	if (bi->nmodules == BOOT_MAX_MODULES) {
		warn(bi, "multiboot2: more than %d modules; the rest ignored", BOOT_MAX_MODULES);
		return;
	}
	bi->modules[bi->nmodules++] = (struct boot_module){ .start = w[0], .end = w[1], .cmdline = cmd };
}

static void parse_mmap(struct boot_info *bi, const struct tag *t)
{
	const uint32_t *w = (const uint32_t *)(t + 1);
	if (t->size < 16) {
		warn(bi, "multiboot2: memory-map tag of %u bytes is too short; ignored", t->size);
		return;
	}
	uint32_t entry_size = w[0];
	if (entry_size < 24 || entry_size % 8) {
		warn(bi, "multiboot2: memory-map entry size %u is invalid; map ignored", entry_size);
		return;
	}
	const uint8_t *p = (const uint8_t *)t + 16;
	const uint8_t *end = (const uint8_t *)t + t->size;
	if ((size_t)(end - p) % entry_size)
		warn(bi, "multiboot2: memory map ends with a partial entry; it is ignored");
	for (; end - p >= (ptrdiff_t)entry_size; p += entry_size) {
		struct mem_region r;
		memcpy(&r.base, p, 8);
		memcpy(&r.len, p + 8, 8);
		memcpy(&r.type, p + 16, 4);
		if (r.len == 0)
			continue;
		if (r.base + r.len < r.base) {
			warn(bi, "multiboot2: region at 0x%llx wraps around; clipped", (unsigned long long)r.base);
			r.len = -r.base;
		}
		if (bi->nregions == BOOT_MAX_REGIONS) {
			warn(bi, "multiboot2: more than %d memory regions; the rest ignored", BOOT_MAX_REGIONS);
			return;
		}
		bi->regions[bi->nregions++] = r;
	}
}

static void parse_tag(struct boot_info *bi, const struct tag *t)
{
	const char *s;

	switch (t->type) {
	case TAG_CMDLINE:
		if ((s = tag_string(bi, t, 8, "command-line")))
			bi->cmdline = s;
		break;
	case TAG_LOADER_NAME:
		if ((s = tag_string(bi, t, 8, "boot-loader name")))
			bi->loader = s;
		break;
	case TAG_MODULE:
		parse_module(bi, t);
		break;
	case TAG_BASIC_MEMINFO:
		if (t->size >= 16) {
			const uint32_t *w = (const uint32_t *)(t + 1);
			bi->has_basic_meminfo = true;
			bi->mem_lower_kb = w[0];
			bi->mem_upper_kb = w[1];
		}
		break;
	case TAG_MMAP:
		parse_mmap(bi, t);
		break;
	case TAG_ACPI_OLD:
	case TAG_ACPI_NEW:
		/* Prefer the ACPI 2.0+ RSDP (XSDT) when both are given. */
		if (t->size >= 8 + 20 && (!bi->rsdp || t->type == TAG_ACPI_NEW)) {
			bi->rsdp = t + 1;
			bi->rsdp_len = t->size - 8;
		}
		break;
	default:
		break;	/* framebuffer, EFI, ...: not ours to use */
	}
}

int mb2_parse(uint32_t magic, const void *info, struct boot_info *bi)
{
	*bi = (struct boot_info){ .cmdline = "", .loader = "unknown" };
	if (magic != MB2_BOOTLOADER_MAGIC) {
		warn(bi, "multiboot2: bad boot magic 0x%x (expected 0x%x)", magic, MB2_BOOTLOADER_MAGIC);
		return -EINVAL;
	}
	if (!info || ((uintptr_t)info & 7)) {
		warn(bi, "multiboot2: information structure at %p is not 8-byte aligned", info);
		return -EINVAL;
	}
	uint32_t total = *(const uint32_t *)info;
	if (total < 16 || total > MB2_MAX_INFO_LEN) {
		warn(bi, "multiboot2: absurd total size %u; nothing parsed", total);
		return -EINVAL;
	}
	bi->info_addr = (uintptr_t)info;
	bi->info_len = total;

	const uint8_t *base = info;
	size_t off = 8;
	bool ended = false;
	while (off + sizeof(struct tag) <= total) {
		const struct tag *t = (const struct tag *)(base + off);
		if (t->size < sizeof(struct tag) || t->size > total - off) {
			warn(bi, "multiboot2: tag type %u at offset %zu has size %u, past the end; parsing stopped",
			     t->type, off, t->size);
			return 0;
		}
		if (t->type == TAG_END) {
			ended = true;
			break;
		}
		parse_tag(bi, t);
		off += (t->size + 7) & ~(size_t)7;
	}
	if (!ended)
		warn(bi, "multiboot2: no end tag within %u bytes", total);
	return 0;
}
