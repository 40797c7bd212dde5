/* memory.h — the boot memory map, reported, and the page allocator over it. */
#ifndef PLATFORM_MEMORY_H
#define PLATFORM_MEMORY_H

#include "bootinfo.h"
#include "pmm.h"

/* Physical memory the page tables of boot.S identity-map. */
#define IDENTITY_MAP_LIMIT (4ull << 30)

/* The hypervisor's own region: its image first, then every page it
 * allocates (VMCS, EPT tables, stacks, later the Lua heap).  Guests never
 * see it: it is absent from their EPT and reserved in their memory map. */
#define HV_REGION_SIZE (32ull << 20)

extern struct pmm phys_pages;
extern uint64_t hv_region_start, hv_region_end;

/* Logs the map, sets up `phys_pages` confined to the hypervisor's region;
 * stops the machine when no usable memory lies above 1 MiB or the region
 * is not all usable RAM. */
void memory_init(const struct boot_info *bi);

#endif
