/* page_guard.c — a not-present page in the hypervisor's page tables: a
 * stack overflow then faults (#PF, handled on its IST stack) instead of
 * corrupting what lies below.  Used by the Lua stack and the APs' stacks. */
#include "page_guard.h"

#include "cpu.h"
#include "errno.h"
#include "memory.h"

#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

/* boot.S maps by 2 MiB pages: the one around va becomes a page table of
 * 4 KiB pages (same frames, same flags) first. */
int page_guard(uint64_t va)
{
	uint64_t *pml4 = (uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR);
	uint64_t e = pml4[(va >> 39) & 511];
	if (!(e & PTE_P))
		return -EFAULT;
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(e & PTE_ADDR);
	e = pdpt[(va >> 30) & 511];
	if (!(e & PTE_P) || (e & PTE_PS))
		return -EINVAL;	/* a 1 GiB page: not what boot.S builds */
	uint64_t *pde = (uint64_t *)(uintptr_t)(e & PTE_ADDR) + ((va >> 21) & 511);
	if (!(*pde & PTE_P))
		return -EFAULT;
	if (*pde & PTE_PS) {
		uint64_t *pt = (uint64_t *)(uintptr_t)pmm_alloc(&phys_pages);
		if (!pt)
			return -ENOMEM;
		uint64_t frame = *pde & PTE_ADDR & ~0x1fffffull;
		uint64_t flags = *pde & 0x7f & ~PTE_PS;	/* P W U PWT PCD A D; the 2 MiB PAT bit (12) is 0 here */
		flags |= *pde & (1ull << 63);
		for (unsigned i = 0; i < 512; i++)
			pt[i] = (frame + i * PAGE_SIZE) | flags;
		*pde = (uint64_t)(uintptr_t)pt | (*pde & 0x7 /* P W U */);
	}
	uint64_t *pt = (uint64_t *)(uintptr_t)(*pde & PTE_ADDR);
	pt[(va >> 12) & 511] &= ~PTE_P;
	write_cr3(read_cr3());	/* drops the 2 MiB translation and the page's (no global pages here) */
	return 0;
}

