/* guest.h — how the guest starts: its memory and its entry state, as a
 * loader (multiboot, later Linux) decides them. */
#ifndef HV_GUEST_H
#define HV_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/bootinfo.h"
#include "target.h"
#include "vcpu.h"

enum guest_mode {
	GUEST_MODE_PROTECTED32,	/* flat 32-bit, paging off (multiboot) */
	GUEST_MODE_LONG64,	/* 64-bit, paging on (PVH-like, later) */
};

struct guest_entry {
	enum guest_mode mode;
	uint64_t rip, rsp, cr3;
	struct guest_gprs gprs;
	/* Selectors of the flat code and data segments, and the GDT holding
	 * them: Linux's boot protocol names both; multiboot and PVH guests
	 * load their own (0x08/0x10, GDT base 0 limit 0xffff). */
	uint16_t cs, ds;
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

/* The guest's view of memory: the machine's map with the hypervisor's
 * region reserved; what the loaders give the guest and what EPT maps. */
#define GUEST_MAX_REGIONS (BOOT_MAX_REGIONS + 4)
struct guest_memory {
	unsigned nregions;
	struct mem_region regions[GUEST_MAX_REGIONS];
	uint64_t hv_start, hv_end;	/* absent from EPT */
	uint64_t ram_top;		/* end of the highest usable region */
};

extern struct guest_memory guest_mem;

/* Builds guest_mem from the boot map and the hypervisor's region, and the
 * EPT that maps it (RAM write-back, holes uncached, the region absent). */
int guest_memory_init(struct vcpu *v, const struct boot_info *bi, uint64_t hv_start, uint64_t hv_end);
/* A host pointer to [gpa, gpa+len) when it is all guest RAM the hypervisor
 * can reach; NULL otherwise.  Guest-physical page 0 is RAM too, and its host
 * pointer is NULL: callers that may touch it ask guest_phys_reachable(). */
void *guest_phys_ptr(uint64_t gpa, uint64_t len);
bool guest_phys_reachable(uint64_t gpa, uint64_t len);

/* What guest_load() loaded (the register view gdb gets follows it). */
extern enum target_image guest_image;

/* Finds the module tagged `guest`, loads it and fills *entry.  -ENOENT when
 * there is no guest module; other negative codes with a logged reason. */
int guest_load(const struct boot_info *bi, struct guest_entry *entry);

#endif
