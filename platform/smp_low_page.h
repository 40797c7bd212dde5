/* smp_low_page.h — where the AP trampoline goes: a start-up IPI's vector
 * names a 4 KiB page below 1 MiB (SDM Vol. 3A §9.4.4.1). */
#ifndef PLATFORM_SMP_LOW_PAGE_H
#define PLATFORM_SMP_LOW_PAGE_H

#include <stdint.h>

#include "bootinfo.h"

/* The highest page below 640 KiB (above page 0, the real-mode IVT) that a
 * usable region of the map holds whole and that overlaps neither the boot
 * information nor a module (both are still to be read); 0 when none. */
uint64_t smp_low_page(const struct boot_info *bi);

#endif
