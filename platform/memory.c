/* memory.c — report the memory map and hand the free pages to the pmm,
 * keeping the image, the boot structures and the modules reserved. */
#include "memory.h"

#include "log.h"
#include "power.h"

struct pmm phys_pages;
uint64_t hv_region_start, hv_region_end;

extern uint8_t _image_start[], _image_end[];

static void report_map(const struct boot_info *bi)
{
	uint64_t usable_high = 0;

	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct mem_region *r = &bi->regions[i];
		log_info("mem: 0x%016llx-0x%016llx %s", (unsigned long long)r->base,
			 (unsigned long long)(r->base + r->len - 1), mem_type_name(r->type));
		if (r->type != MEM_USABLE || r->base + r->len <= (1ull << 20))
			continue;
		uint64_t start = r->base > (1ull << 20) ? r->base : (1ull << 20);
		usable_high += r->base + r->len - start;
	}
	log_info("mem: %u regions, %llu MiB usable above 1 MiB", bi->nregions,
		 (unsigned long long)(usable_high >> 20));
}

/* Allocations come only from the hypervisor's region, so nothing the
 * hypervisor owns ever lands in guest RAM. */
static void confine_to_region(uint64_t bitmap)
{
	hv_region_start = (uintptr_t)_image_start;
	hv_region_end = hv_region_start + HV_REGION_SIZE;
	if (bitmap < hv_region_start || bitmap >= hv_region_end) {
		log_error("mem: no room for the page bitmap in the hypervisor region at 0x%llx; cannot continue",
			  (unsigned long long)hv_region_start);
		platform_stop();
	}
	if ((hv_region_end >> PAGE_SHIFT) > phys_pages.npages) {
		log_error("mem: the hypervisor region 0x%llx-0x%llx runs past usable memory; cannot continue",
			  (unsigned long long)hv_region_start, (unsigned long long)hv_region_end - 1);
		platform_stop();
	}
	pmm_mark_used(&phys_pages, 0, hv_region_start);
	pmm_mark_used(&phys_pages, hv_region_end, (phys_pages.npages << PAGE_SHIFT) - hv_region_end);
}

void memory_init(const struct boot_info *bi)
{
	struct phys_range reserved[2 + BOOT_MAX_MODULES];
	unsigned n = 0;
	uint64_t npages, bitmap;

	report_map(bi);
	reserved[n++] = (struct phys_range){ (uintptr_t)_image_start, (uintptr_t)_image_end };
	reserved[n++] = (struct phys_range){ bi->info_addr, bi->info_addr + bi->info_len };
	for (unsigned i = 0; i < bi->nmodules; i++)
		reserved[n++] = (struct phys_range){ bi->modules[i].start, bi->modules[i].end };

	if (pmm_plan(bi, reserved, n, IDENTITY_MAP_LIMIT, (uintptr_t)_image_end, &npages, &bitmap)) {
		log_error("mem: no usable memory above 1 MiB in the memory map; cannot continue");
		platform_stop();
	}
	pmm_init(&phys_pages, (uint64_t *)(uintptr_t)bitmap, npages);
	pmm_populate(&phys_pages, bi, reserved, n);
	confine_to_region(bitmap);
	log_info("pmm: %llu free pages (%llu MiB) in the hypervisor region 0x%llx-0x%llx, bitmap at 0x%llx",
		 (unsigned long long)phys_pages.free_pages, (unsigned long long)(phys_pages.free_pages >> 8),
		 (unsigned long long)hv_region_start, (unsigned long long)hv_region_end - 1,
		 (unsigned long long)bitmap);
}
