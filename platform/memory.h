/* memory.h — the boot memory map, reported, and the page allocator over it. */
#ifndef PLATFORM_MEMORY_H
#define PLATFORM_MEMORY_H

#include "bootinfo.h"
#include "pmm.h"

/* Physical memory the page tables of boot.S identity-map. */
#define IDENTITY_MAP_LIMIT (4ull << 30)

extern struct pmm phys;

/* Logs the map, sets up `phys`; stops the machine when no usable memory
 * lies above 1 MiB. */
void memory_init(const struct boot_info *bi);

#endif
