/* linux_bzimage.h — Linux through the x86 boot protocol (Linux's
 * Documentation/x86/boot.rst), 32-bit entry: the bzImage's protected-mode
 * part is loaded at its preferred address, a zero page (struct boot_params)
 * carries the setup header, the e820 map, the command line and the initrd,
 * and the kernel's own decompressor runs first. */
#ifndef HV_LINUX_BZIMAGE_H
#define HV_LINUX_BZIMAGE_H

#include <stdbool.h>

#include "guest.h"
#include "linux_boot.h"
#include "platform/pmm.h"

/* Whether the image carries the boot protocol header ("HdrS" at 0x202). */
bool linux_bzimage_is(const uint8_t *img, size_t len);
/* Where the kernel goes and the room its decompressor works in
 * (pref_address, init_size), before anything is written. */
int linux_bzimage_measure(struct linux_boot *lb, struct phys_range *extent);
/* Loads the protected-mode kernel, builds boot_params and a GDT in the
 * area, fills *e.  0, or -EINVAL with lb->err saying why. */
int linux_bzimage_load(struct linux_boot *lb, struct guest_entry *e);

#endif
