/* page_guard.h — guard pages in the hypervisor's own page tables (boot.S's
 * identity map), below the stacks it allocates. */
#ifndef PLATFORM_PAGE_GUARD_H
#define PLATFORM_PAGE_GUARD_H

#include <stdint.h>

/* Makes the 4 KiB page at va not present.  0, or -EFAULT (va unmapped),
 * -EINVAL (a 1 GiB page), -ENOMEM (no page for a page table).  Call before
 * another CPU may hold a translation of va: no TLB shootdown is done. */
int page_guard(uint64_t va);

#endif
