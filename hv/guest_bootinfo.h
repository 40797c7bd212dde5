/* guest_bootinfo.h — the boot information a multiboot guest receives. */
#ifndef HV_GUEST_BOOTINFO_H
#define HV_GUEST_BOOTINFO_H

#include <stdint.h>

#include "platform/bootinfo.h"

/* Where the structure and its strings go: conventional memory, 64-576 KiB. */
#define GUEST_INFO_AREA_START 0x10000ull
#define GUEST_INFO_AREA_END 0x90000ull

/* Build the v1 / v2 information structure in guest memory, copy the
 * `guest-module` modules above kernel_end, and return its guest-physical
 * address in *info. */
int guest_bootinfo_mb1(const struct boot_info *bi, const char *args, uint64_t kernel_end, uint64_t *info);
int guest_bootinfo_mb2(const struct boot_info *bi, const char *args, uint64_t kernel_end, uint64_t *info);

#endif
