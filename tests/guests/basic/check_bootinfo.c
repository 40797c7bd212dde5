/* check_bootinfo.c — the boot information, part of the boot group
 * (Multiboot 0.6.96 §3.3, Multiboot2 §3.6): the structure well formed and
 * in RAM; the command line echoed so the test can compare it with what it
 * passed; the memory map printed and sane; each module printed with its
 * size and CRC-32 (the test compares them with the file) and lying in
 * usable memory, clear of the kernel, the structure and the other modules. */
#include "checks.h"
#include "crc32.h"
#include "kstring.h"
#include "mbinfo.h"
#include "options.h"
#include "print.h"
#include "report.h"

#define ONE_MIB		0x100000ull
#define PAGE_SIZE	4096u

extern char _image_start[], _image_end[];

/* The names vmxdbg's own "mem:" lines use, so a test can compare maps. */
static const char *type_name(uint32_t type)
{
	static const char *const names[] = { "unknown", "usable", "reserved", "ACPI reclaimable",
					     "ACPI NVS", "bad" };
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

static bool overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < a1 && b0 < b1 && a0 < b1 && b0 < a1;
}

/* The usable region holding addr, or -1. */
static int usable_region_at(const struct mb_info *mb, uint64_t addr)
{
	for (unsigned i = 0; i < mb->nregions; i++) {
		const struct mb_region *r = &mb->regions[i];
		if (r->type == MBINFO_MEM_USABLE && addr >= r->base && addr - r->base < r->len)
			return (int)i;
	}
	return -1;
}

/* Whether usable regions, one after another, cover [start, end). */
static bool usable_covers(const struct mb_info *mb, uint64_t start, uint64_t end)
{
	while (start < end) {
		int i = usable_region_at(mb, start);
		if (i < 0)
			return false;
		start = mb->regions[i].base + mb->regions[i].len;
	}
	return true;
}

static void check_structure(const struct mb_info *mb)
{
	uint32_t k0 = (uint32_t)_image_start, k1 = (uint32_t)_image_end;
	if (mb->protocol == MB_NONE) {
		report_fail("bootinfo-structure", "EAX held no multiboot magic: nothing to read");
		return;
	}
	if (mb->error) {
		report_fail("bootinfo-structure", "%s", mb->error);
		return;
	}
	report_info("bootinfo-structure", "%u bytes at 0x%08x", mb->size, mb->addr);
	if (overlap(mb->addr, (uint64_t)mb->addr + mb->size, k0, k1)) {
		report_fail("bootinfo-structure", "0x%08x-0x%08x overlaps the kernel 0x%08x-0x%08x",
			    mb->addr, mb->addr + mb->size - 1, k0, k1 - 1);
		return;
	}
	report_expect("bootinfo-structure",
		      !mb->has_mmap || usable_covers(mb, mb->addr, (uint64_t)mb->addr + mb->size),
		      "0x%08x-0x%08x is not all usable memory", mb->addr, mb->addr + mb->size - 1);
}

static void check_cmdline(const struct mb_info *mb)
{
	if (mb->cmdline)
		report_info("cmdline", "\"%s\"", mb->cmdline);
	report_expect("bootinfo-cmdline", mb->cmdline != NULL,
		      "the loader gave no command line (v1 flags bit 2, v2 tag 1)");
}

static void print_map(const struct mb_info *mb)
{
	bool sorted = true;
	uint64_t usable_high = 0;
	for (unsigned i = 0; i < mb->nregions; i++) {
		const struct mb_region *r = &mb->regions[i];
		uint64_t end = r->base + r->len;
		kprintf("GUEST INFO mmap %u: 0x%016llx-0x%016llx %s\n", i, r->base, r->len ? end - 1 : r->base,
			type_name(r->type));
		if (i && r->base < mb->regions[i - 1].base)
			sorted = false;
		if (r->type == MBINFO_MEM_USABLE && end > ONE_MIB)
			usable_high += end - (r->base > ONE_MIB ? r->base : ONE_MIB);
	}
	report_info("bootinfo-mmap", "%u regions%s, %s, %llu KiB usable above 1 MiB", mb->nregions,
		    mb->regions_dropped ? " kept (more were given)" : "", sorted ? "sorted" : "not sorted",
		    usable_high >> 10);
}

/* Empty, wrapping or overlapping regions: a map that contradicts itself. */
static bool map_consistent(const struct mb_info *mb)
{
	for (unsigned i = 0; i < mb->nregions; i++) {
		const struct mb_region *a = &mb->regions[i];
		if (a->len == 0 || a->base + a->len < a->base) {
			report_fail("bootinfo-mmap", "region %u is empty or wraps around", i);
			return false;
		}
		for (unsigned j = 0; j < i; j++) {
			const struct mb_region *b = &mb->regions[j];
			if (overlap(a->base, a->base + a->len, b->base, b->base + b->len)) {
				report_fail("bootinfo-mmap", "regions %u (%s) and %u (%s) overlap", j,
					    type_name(b->type), i, type_name(a->type));
				return false;
			}
		}
	}
	return true;
}

/* mem_lower and mem_upper (§3.3; v2 §3.6.3) must not claim RAM the map denies. */
static bool meminfo_agrees(const struct mb_info *mb)
{
	if (!mb->has_meminfo)
		return true;
	uint64_t lower = (uint64_t)mb->mem_lower << 10, upper = (uint64_t)mb->mem_upper << 10;
	report_info("bootinfo-mmap", "mem_lower %u KiB, mem_upper %u KiB", mb->mem_lower, mb->mem_upper);
	if (lower > 640 * 1024 || !usable_covers(mb, 0, lower)) {
		report_fail("bootinfo-mmap", "mem_lower %u KiB: not all usable in the map", mb->mem_lower);
		return false;
	}
	if (!usable_covers(mb, ONE_MIB, ONE_MIB + upper)) {
		report_fail("bootinfo-mmap", "mem_upper %u KiB: 1 MiB-0x%llx is not all usable in the map",
			    mb->mem_upper, ONE_MIB + upper - 1);
		return false;
	}
	return true;
}

/* hv-reserved=ADDR: the hypervisor's region is reserved, never usable. */
static bool hv_region_reserved(const struct mb_info *mb)
{
	uint32_t addr;
	if (!options_hv_reserved(&addr))
		return true;
	int in_usable = usable_region_at(mb, addr);
	if (in_usable >= 0) {
		report_fail("bootinfo-mmap", "hv-reserved 0x%08x lies in region %d, which is usable", addr, in_usable);
		return false;
	}
	for (unsigned i = 0; i < mb->nregions; i++) {
		const struct mb_region *r = &mb->regions[i];
		if (addr >= r->base && addr - r->base < r->len) {
			report_info("bootinfo-mmap", "hv-reserved 0x%08x lies in region %u (%s)", addr, i,
				    type_name(r->type));
			return true;
		}
	}
	report_fail("bootinfo-mmap", "hv-reserved 0x%08x lies in no region: the map should reserve it", addr);
	return false;
}

static void check_mmap(const struct mb_info *mb)
{
	uint32_t k0 = (uint32_t)_image_start, k1 = (uint32_t)_image_end;
	if (!mb->has_mmap || mb->nregions == 0) {
		report_fail("bootinfo-mmap", "no memory map (v1 flags bit 6, v2 tag 6)");
		return;
	}
	print_map(mb);
	if (!map_consistent(mb) || !meminfo_agrees(mb) || !hv_region_reserved(mb))
		return;
	if (!usable_covers(mb, k0, k1)) {
		report_fail("bootinfo-mmap", "the kernel 0x%08x-0x%08x is not all in usable memory", k0, k1 - 1);
		return;
	}
	bool high = false;
	for (unsigned i = 0; i < mb->nregions; i++)
		if (mb->regions[i].type == MBINFO_MEM_USABLE && mb->regions[i].base + mb->regions[i].len > ONE_MIB)
			high = true;
	report_expect("bootinfo-mmap", high, "no usable region above 1 MiB");
}

/* Where module i must not be: over the kernel, the structure, an earlier
 * module; outside usable memory; off a page boundary when we asked. */
static const char *module_misplaced(const struct mb_info *mb, unsigned i)
{
	const struct mb_module *m = &mb->modules[i];
	if (m->end < m->start)
		return "it ends before it starts";
	if (overlap(m->start, m->end, (uint32_t)_image_start, (uint32_t)_image_end))
		return "it overlaps the kernel";
	if (overlap(m->start, m->end, mb->addr, (uint64_t)mb->addr + mb->size))
		return "it overlaps the information structure";
	for (unsigned j = 0; j < i; j++)
		if (overlap(m->start, m->end, mb->modules[j].start, mb->modules[j].end))
			return "it overlaps an earlier module";
	if (mb->has_mmap && !usable_covers(mb, m->start, m->end))
		return "it is not all in usable memory";
	if (mbinfo_header_wants_aligned_modules() && m->start % PAGE_SIZE)
		return "it is not page-aligned, which our header asks for";
	return NULL;
}

static void check_modules(const struct mb_info *mb)
{
	uint32_t want;
	bool ok = true;
	for (unsigned i = 0; i < mb->nmodules; i++) {
		const struct mb_module *m = &mb->modules[i];
		uint32_t size = m->end >= m->start ? m->end - m->start : 0;
		kprintf("GUEST INFO module %u: cmdline \"%s\" size %u crc32 0x%08x at 0x%08x\n", i, m->cmdline, size,
			crc32((const void *)m->start, size), m->start);
		const char *why = module_misplaced(mb, i);
		if (why) {
			report_fail("bootinfo-modules", "module %u at 0x%08x-0x%08x: %s", i, m->start, m->end, why);
			ok = false;
		}
	}
	if (!mb->nmodules)
		report_info("bootinfo-modules", "none");
	if (mb->modules_dropped)
		report_info("bootinfo-modules", "more than %u modules: the rest were not checked", MBINFO_MAX_MODULES);
	if (options_expect_modules(&want) && want != mb->nmodules) {
		report_fail("bootinfo-modules", "%u modules, expect-modules=%u", mb->nmodules, want);
		ok = false;
	}
	if (ok)
		report_pass("bootinfo-modules");
}

void check_bootinfo(void)
{
	const struct mb_info *mb = mbinfo();
	check_structure(mb);
	check_cmdline(mb);
	check_mmap(mb);
	check_modules(mb);
}
