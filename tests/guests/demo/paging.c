/* paging.c — demand paging: each round writes to the next page of a
 * 16-page window at DEMAND_BASE, which is not mapped until the #PF handler
 * maps it (trap.c).  Once all 16 are mapped, they are all unmapped again,
 * so every round takes one page fault.  The frames are this image's own
 * .bss (identity-mapped), the page table entry.S's demand_pt. */
#include "cpu64.h"
#include "demo.h"

#define PAGE_SIZE	4096
#define DEMAND_PAGES	16
#define PTE_P		0x001ull
#define PTE_W		0x002ull

extern uint64_t demand_pt[512];
static uint8_t demand_frames[DEMAND_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* 1 if addr is in the window and its page is now mapped.  No INVLPG
 * before the retry: the CPU caches no translation through a not-present
 * entry (SDM Vol. 3A §5.10.2.3). */
int demand_fault(uint64_t addr)
{
	if (addr < DEMAND_BASE || addr >= DEMAND_BASE + DEMAND_PAGES * PAGE_SIZE)
		return 0;
	unsigned page = (unsigned)((addr - DEMAND_BASE) / PAGE_SIZE);
	demand_pt[page] = (uint64_t)(uintptr_t)demand_frames[page] | PTE_P | PTE_W;
	return 1;
}

static void demand_unmap_all(void)
{
	for (unsigned page = 0; page < DEMAND_PAGES; page++) {
		demand_pt[page] = 0;
		invlpg(DEMAND_BASE + page * PAGE_SIZE);
	}
}

void demand_touch(struct demo_state *s)
{
	unsigned page = (unsigned)(s->round % DEMAND_PAGES);
	if (page == 0)
		demand_unmap_all();
	volatile uint64_t *slot = (volatile uint64_t *)(uintptr_t)(DEMAND_BASE + page * PAGE_SIZE);
	*slot = s->round;	/* faults: the page is not mapped yet */
}
