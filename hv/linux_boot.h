/* linux_boot.h — what both Linux loaders (linux_pvh.c, linux_bzimage.c)
 * take and share: the kernel image, its command line, the initrd already in
 * guest RAM, the guest's memory map, and a low area of guest RAM for the
 * structures they build.  Pure: guest memory is reached through a
 * guest_dest_fn, so the host tests run the loaders on a buffer. */
#ifndef HV_LINUX_BOOT_H
#define HV_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "elf_load.h"
#include "platform/bootinfo.h"

struct linux_boot {
	const uint8_t *image;
	size_t len;
	const char *cmdline;
	uint64_t initrd, initrd_len;	/* guest-physical; initrd_len 0: none */
	const void *rsdp;		/* the RSDP (a copy goes to the guest), or NULL */
	unsigned rsdp_len;
	const struct mem_region *map;	/* the guest's map, hypervisor region reserved */
	unsigned nmap;
	uint64_t area, area_end;	/* guest-physical room for boot structures */
	guest_dest_fn to;
	char err[96];			/* why a loader refused, one line */
};

/* Zeroed room in [area, area_end) for `size` bytes; its guest-physical
 * address in *gpa.  NULL when the area is full. */
void *linux_area_alloc(struct linux_boot *lb, uint64_t size, uint64_t align, uint64_t *gpa);
/* A copy of s in the area; its guest-physical address, 0 when full. */
uint64_t linux_area_string(struct linux_boot *lb, const char *s);
/* A copy of the RSDP in the area (16-byte aligned); 0 without one. */
uint64_t linux_area_rsdp(struct linux_boot *lb);
/* Sets lb->err and returns -EINVAL. */
int linux_fail(struct linux_boot *lb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
