/* linux_pvh.h — Linux through its PVH entry (Xen's "x86/HVM direct boot
 * ABI", docs/misc/pvh.pandoc, which Linux implements with CONFIG_PVH): an
 * uncompressed vmlinux whose ELF note XEN_ELFNOTE_PHYS32_ENTRY names a
 * 32-bit entry point.  It is loaded at its physical addresses (no
 * decompressor runs: under emulation that saves about a minute) and entered
 * in protected mode, paging off, EBX pointing at an hvm_start_info. */
#ifndef HV_LINUX_PVH_H
#define HV_LINUX_PVH_H

#include <stdbool.h>

#include "guest.h"
#include "linux_boot.h"
#include "platform/pmm.h"

/* Whether the image is an ELF with the PVH note; its entry in *entry. */
bool linux_pvh_entry(const uint8_t *img, size_t len, uint32_t *entry);
/* Where the kernel's segments go, before anything is written. */
int linux_pvh_measure(struct linux_boot *lb, struct phys_range *extent);
/* Loads the segments, builds hvm_start_info version 1 (memory map, command
 * line, the initrd as module 0, RSDP) in the area and fills *e.  0, or
 * -EINVAL with lb->err saying why. */
int linux_pvh_load(struct linux_boot *lb, struct guest_entry *e);

#endif
