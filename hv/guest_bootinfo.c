/* guest_bootinfo.c — what a boot loader hands a multiboot kernel, built by
 * the hypervisor in the guest's low memory: the memory map (the guest's own,
 * hypervisor region reserved), command line, loader name, modules
 * (Multiboot 0.6.96 §3.3; Multiboot2 §3.6). */
#include "guest_bootinfo.h"

#include "guest.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/pmm.h"

#define LOADER_NAME "vmxdbg"

static uint64_t area_next;

/* Bump allocation in the info area; zeroed; NULL when it is full. */
static void *area_alloc(uint64_t size, uint64_t align, uint64_t *gpa)
{
	uint64_t at = (area_next + align - 1) & ~(align - 1);
	if (at + size > GUEST_INFO_AREA_END)
		return NULL;
	void *p = guest_phys_ptr(at, size);
	if (!p)
		return NULL;
	area_next = at + size;
	*gpa = at;
	return memset(p, 0, size);
}

static uint32_t area_string(const char *s)
{
	uint64_t gpa = 0;
	char *p = area_alloc(strlen(s) + 1, 1, &gpa);
	if (p)
		memcpy(p, s, strlen(s) + 1);
	return (uint32_t)gpa;
}

struct copied_module {
	uint64_t start, end;
	const char *args;
};

/* Copies the `guest-module` modules, page-aligned, above the kernel. */
static int copy_modules(const struct boot_info *bi, uint64_t kernel_end, struct copied_module *out, unsigned *n)
{
	uint64_t at = (kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	*n = 0;
	for (unsigned i = 0; i < bi->nmodules; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (strncmp(m->cmdline, "guest-module", 12) || (m->cmdline[12] && m->cmdline[12] != ' '))
			continue;
		uint64_t len = m->end - m->start;
		void *d = guest_phys_ptr(at, len);
		if (!d) {
			log_error("guest: no guest RAM at 0x%llx for a %llu-byte module", (unsigned long long)at,
				  (unsigned long long)len);
			return -ENOMEM;
		}
		memcpy(d, (const void *)(uintptr_t)m->start, len);
		const char *args = m->cmdline + 12;
		while (*args == ' ')
			args++;
		out[(*n)++] = (struct copied_module){ at, at + len, args };
		at = (at + len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	}
	return 0;
}

static int check_area(uint64_t kernel_end)
{
	area_next = GUEST_INFO_AREA_START;
	if (kernel_end > GUEST_INFO_AREA_START && kernel_end <= GUEST_INFO_AREA_END) {
		log_error("guest: the kernel overlaps the boot-information area 0x%llx-0x%llx",
			  GUEST_INFO_AREA_START, GUEST_INFO_AREA_END);
		return -EINVAL;
	}
	return 0;
}

/* Conventional and extended memory in KiB, as the v1 mem_* fields want. */
static void basic_meminfo(uint32_t *lower, uint32_t *upper)
{
	*lower = *upper = 0;
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		const struct mem_region *r = &guest_mem.regions[i];
		if (r->type != MEM_USABLE)
			continue;
		if (r->base == 0)
			*lower = (uint32_t)((r->len < 0xa0000 ? r->len : 0xa0000) >> 10);
		if (r->base <= 0x100000 && r->base + r->len > 0x100000)
			*upper = (uint32_t)((r->base + r->len - 0x100000) >> 10);
	}
}

int guest_bootinfo_mb1(const struct boot_info *bi, const char *args, uint64_t kernel_end, uint64_t *info)
{
	struct copied_module mods[BOOT_MAX_MODULES];
	unsigned nmods;
	uint64_t mods_gpa = 0, mmap_gpa = 0;

	if (check_area(kernel_end) || copy_modules(bi, kernel_end, mods, &nmods))
		return -EINVAL;
	uint32_t *mbi = area_alloc(120, 8, info);
	uint32_t *mod = nmods ? area_alloc(16 * nmods, 8, &mods_gpa) : NULL;
	uint8_t *mmap = area_alloc(24 * guest_mem.nregions, 8, &mmap_gpa);
	if (!mbi || (nmods && !mod) || !mmap)
		return -ENOMEM;

	mbi[0] = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 6 | 1u << 9;	/* mem, cmdline, mods, mmap, loader */
	basic_meminfo(&mbi[1], &mbi[2]);
	mbi[4] = area_string(args);
	mbi[5] = nmods;
	mbi[6] = (uint32_t)mods_gpa;
	for (unsigned i = 0; i < nmods; i++) {
		mod[4 * i] = (uint32_t)mods[i].start;
		mod[4 * i + 1] = (uint32_t)mods[i].end;
		mod[4 * i + 2] = area_string(mods[i].args);
	}
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		uint32_t size = 20;
		memcpy(mmap + 24 * i, &size, 4);
		memcpy(mmap + 24 * i + 4, &guest_mem.regions[i].base, 8);
		memcpy(mmap + 24 * i + 12, &guest_mem.regions[i].len, 8);
		memcpy(mmap + 24 * i + 20, &guest_mem.regions[i].type, 4);
	}
	mbi[11] = 24 * guest_mem.nregions;
	mbi[12] = (uint32_t)mmap_gpa;
	mbi[16] = area_string(LOADER_NAME);
	return 0;
}

/* Appends one v2 tag of `size` bytes (8-byte aligned) and returns it. */
static uint8_t *tag(uint8_t **p, uint32_t type, uint32_t size)
{
	uint8_t *t = *p;
	memcpy(t, &type, 4);
	memcpy(t + 4, &size, 4);
	*p += (size + 7) & ~7u;
	return t;
}

static uint8_t *string_tag(uint8_t **p, uint32_t type, const char *s, uint32_t extra)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	uint8_t *t = tag(p, type, 8 + extra + n);
	memcpy(t + 8 + extra, s, n);
	return t;
}

int guest_bootinfo_mb2(const struct boot_info *bi, const char *args, uint64_t kernel_end, uint64_t *info)
{
	struct copied_module mods[BOOT_MAX_MODULES];
	unsigned nmods;
	uint64_t size = 4096 + 24 * guest_mem.nregions + (bi->rsdp_len + 16);

	if (check_area(kernel_end) || copy_modules(bi, kernel_end, mods, &nmods))
		return -EINVAL;
	for (unsigned i = 0; i < nmods; i++)
		size += 24 + strlen(mods[i].args) + 8;
	size += strlen(args) + 16;
	uint8_t *base = area_alloc(size, 8, info);
	if (!base)
		return -ENOMEM;

	uint8_t *p = base + 8;
	string_tag(&p, 1, args, 0);
	string_tag(&p, 2, LOADER_NAME, 0);
	for (unsigned i = 0; i < nmods; i++) {
		uint8_t *t = string_tag(&p, 3, mods[i].args, 8);
		uint32_t s = (uint32_t)mods[i].start, e = (uint32_t)mods[i].end;
		memcpy(t + 8, &s, 4);
		memcpy(t + 12, &e, 4);
	}
	uint8_t *t = tag(&p, 4, 16);
	basic_meminfo((uint32_t *)(t + 8), (uint32_t *)(t + 12));
	t = tag(&p, 6, 16 + 24 * guest_mem.nregions);
	uint32_t entry_size = 24, version = 0;
	memcpy(t + 8, &entry_size, 4);
	memcpy(t + 12, &version, 4);
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		memcpy(t + 16 + 24 * i, &guest_mem.regions[i].base, 8);
		memcpy(t + 24 + 24 * i, &guest_mem.regions[i].len, 8);
		memcpy(t + 32 + 24 * i, &guest_mem.regions[i].type, 4);
	}
	if (bi->rsdp) {
		t = tag(&p, bi->rsdp_len > 20 ? 15 : 14, 8 + bi->rsdp_len);
		memcpy(t + 8, bi->rsdp, bi->rsdp_len);
	}
	tag(&p, 0, 8);
	uint32_t total = (uint32_t)(p - base);
	memcpy(base, &total, 4);
	return 0;
}
