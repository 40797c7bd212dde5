/* mbinfo.c — read the loader's information structure: Multiboot 0.6.96 §3.3
 * (v1: a flags word says which fixed fields are valid) or Multiboot2 §3.6
 * (v2: a list of 8-byte-aligned tags).  Anything malformed is recorded in
 * .error for a check to report, never trusted further. */
#include "kstring.h"
#include "mbinfo.h"

/* v1 flags (§3.3) */
#define MB1_INFO_MEMORY		(1u << 0)
#define MB1_INFO_CMDLINE	(1u << 2)
#define MB1_INFO_MODS		(1u << 3)
#define MB1_INFO_MMAP		(1u << 6)
#define MB1_INFO_LOADER_NAME	(1u << 9)
#define MB1_INFO_FIXED_SIZE	68	/* flags .. boot_loader_name */
#define MB1_HEADER_PAGE_ALIGN	(1u << 0)

/* v2 tag types (§3.6.2-§3.6.9) */
#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_LOADER_NAME	2
#define MB2_TAG_MODULE		3
#define MB2_TAG_MEMINFO		4
#define MB2_TAG_MMAP		6
#define MB2_HEADER_TAG_MODULE_ALIGN 6

static struct mb_info info;

static uint32_t rd32(uint32_t addr)
{
	uint32_t v;
	memcpy(&v, (const void *)addr, 4);
	return v;
}

static uint64_t rd64(uint32_t addr)
{
	uint64_t v;
	memcpy(&v, (const void *)addr, 8);
	return v;
}

static void add_region(uint64_t base, uint64_t len, uint32_t type)
{
	if (info.nregions == MBINFO_MAX_REGIONS) {
		info.regions_dropped = true;
		return;
	}
	info.regions[info.nregions++] = (struct mb_region){ base, len, type };
}

static void add_module(uint32_t start, uint32_t end, const char *cmdline)
{
	if (info.nmodules == MBINFO_MAX_MODULES) {
		info.modules_dropped = true;
		return;
	}
	info.modules[info.nmodules++] = (struct mb_module){ start, end, cmdline };
}

/* v1 memory map: entries of `size` bytes after their own size field (§3.3). */
static void read_mb1_mmap(uint32_t addr, uint32_t len)
{
	for (uint32_t p = addr; p < addr + len;) {
		uint32_t size = rd32(p);
		if (size < 20 || p + 4 + size > addr + len) {
			info.error = "a v1 memory map entry's size runs past mmap_length or is below 20";
			return;
		}
		add_region(rd64(p + 4), rd64(p + 12), rd32(p + 20));
		p += size + 4;
	}
}

static void read_mb1(uint32_t addr)
{
	uint32_t flags = rd32(addr);
	info.size = MB1_INFO_FIXED_SIZE;
	if (flags & MB1_INFO_MEMORY) {
		info.has_meminfo = true;
		info.mem_lower = rd32(addr + 4);
		info.mem_upper = rd32(addr + 8);
	}
	if (flags & MB1_INFO_CMDLINE)
		info.cmdline = (const char *)rd32(addr + 16);
	if (flags & MB1_INFO_MODS) {
		uint32_t count = rd32(addr + 20), mods = rd32(addr + 24);
		for (uint32_t i = 0; i < count && !info.modules_dropped; i++) {
			uint32_t m = mods + 16 * i, string = rd32(m + 8);
			add_module(rd32(m), rd32(m + 4), string ? (const char *)string : "");
		}
	}
	if (flags & MB1_INFO_MMAP) {
		info.has_mmap = true;
		read_mb1_mmap(rd32(addr + 48), rd32(addr + 44));
	}
	if (flags & MB1_INFO_LOADER_NAME)
		info.loader = (const char *)rd32(addr + 64);
}

/* A string inside a tag must end inside it. */
static const char *tag_string(uint32_t tag, uint32_t size, uint32_t offset)
{
	for (uint32_t p = tag + offset; p < tag + size; p++)
		if (*(const char *)p == '\0')
			return (const char *)(tag + offset);
	info.error = "a v2 string tag is not NUL-terminated within its size";
	return NULL;
}

static void read_mb2_mmap(uint32_t tag, uint32_t size)
{
	uint32_t entry_size = rd32(tag + 8);
	info.has_mmap = true;
	/* §3.6.8: entry_size is a multiple of 8; entries may grow, never shrink. */
	if (entry_size < 24 || entry_size % 8) {
		info.error = "the v2 memory map's entry_size is below 24 or not a multiple of 8";
		return;
	}
	for (uint32_t p = tag + 16; p + entry_size <= tag + size; p += entry_size)
		add_region(rd64(p), rd64(p + 8), rd32(p + 16));
}

static void read_mb2_tag(uint32_t tag, uint32_t type, uint32_t size)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
		info.cmdline = tag_string(tag, size, 8);
		break;
	case MB2_TAG_LOADER_NAME:
		info.loader = tag_string(tag, size, 8);
		break;
	case MB2_TAG_MODULE: {
		const char *s = size >= 17 ? tag_string(tag, size, 16) : NULL;
		add_module(rd32(tag + 8), rd32(tag + 12), s ? s : "");
		break;
	}
	case MB2_TAG_MEMINFO:
		info.has_meminfo = true;
		info.mem_lower = rd32(tag + 8);
		info.mem_upper = rd32(tag + 12);
		break;
	case MB2_TAG_MMAP:
		read_mb2_mmap(tag, size);
		break;
	}
}

/* §3.6.1-§3.6.2: total_size, reserved, then tags at 8-byte boundaries up to
 * an end tag (type 0, size 8). */
static void read_mb2(uint32_t addr)
{
	if (addr % 8) {
		info.error = "the v2 structure is not 8-byte aligned";
		return;
	}
	info.size = rd32(addr);
	if (info.size < 16) {
		info.error = "the v2 total_size is below 16";
		return;
	}
	for (uint32_t tag = addr + 8; tag + 8 <= addr + info.size;) {
		uint32_t type = rd32(tag), size = rd32(tag + 4);
		if (size < 8 || tag + size > addr + info.size) {
			info.error = "a v2 tag's size is below 8 or runs past total_size";
			return;
		}
		if (type == MB2_TAG_END)
			return;
		read_mb2_tag(tag, type, size);
		tag += (size + 7) & ~7u;
	}
	info.error = "the v2 structure has no end tag within total_size";
}

void mbinfo_init(uint32_t eax, uint32_t addr)
{
	info.addr = addr;
	if (eax == MB1_BOOT_MAGIC) {
		info.protocol = MB_V1;
		read_mb1(addr);
	} else if (eax == MB2_BOOT_MAGIC) {
		info.protocol = MB_V2;
		read_mb2(addr);
	}
}

const struct mb_info *mbinfo(void)
{
	return &info;
}

const char *mbinfo_protocol_name(enum mb_protocol p)
{
	return p == MB_V1 ? "multiboot" : p == MB_V2 ? "multiboot2" : "none";
}

enum mb_protocol mbinfo_header_protocol(void)
{
	return multiboot_header[0] == MB2_HEADER_MAGIC ? MB_V2 : MB_V1;
}

bool mbinfo_header_wants_aligned_modules(void)
{
	if (mbinfo_header_protocol() == MB_V1)
		return multiboot_header[1] & MB1_HEADER_PAGE_ALIGN;
	/* v2 header tags start after 16 bytes, 8-byte aligned (§3.1.3). */
	uint32_t end = (uint32_t)multiboot_header + multiboot_header[2];
	for (uint32_t tag = (uint32_t)multiboot_header + 16; tag + 8 <= end;) {
		uint32_t type = rd32(tag) & 0xffff, size = rd32(tag + 4);
		if (type == MB2_HEADER_TAG_MODULE_ALIGN)
			return true;
		if (type == 0 || size < 8)
			break;
		tag += (size + 7) & ~7u;
	}
	return false;
}
