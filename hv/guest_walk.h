/* guest_walk.h — translate a guest-linear address the way the guest's own
 * paging would (SDM Vol. 3A, ch. 5 "Paging"): no paging, 32-bit, PAE,
 * 4-level and 5-level. The debugger reads guest memory by virtual address
 * through it; it only reads the guest's tables, never sets their A/D flags. */
#ifndef HV_GUEST_WALK_H
#define HV_GUEST_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The control bits that choose the paging mode (SDM Vol. 3A §5.1.1). */
#define GUEST_CR0_PG (1ull << 31)
#define GUEST_CR4_PSE (1ull << 4)
#define GUEST_CR4_PAE (1ull << 5)
#define GUEST_CR4_LA57 (1ull << 12)
#define GUEST_EFER_LME (1ull << 8)
#define GUEST_EFER_NXE (1ull << 11)

/* What the VMCS guest-state area says. */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
};

/* Copies len bytes of guest-physical memory at gpa into buf; < 0 when gpa
 * is not guest memory. */
typedef int (*guest_read_phys_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

struct walk_result {
	uint64_t gpa;
	uint64_t page_size;	/* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
	/* The rights the entries grant, ANDed over the walk; CR0.WP, SMEP, SMAP
	 * and protection keys, which depend on who accesses, are not applied. */
	bool writable, user, executable;
	int levels;		/* paging-structure entries read; 0 without paging */
};

/* 0 and *out; -EFAULT when gva is not canonical (or above 4 GiB in a 32-bit
 * mode), an entry is not present or sets a reserved bit; -EIO when a table
 * read fails. MAXPHYADDR is taken as 52, the architectural ceiling. With PAE
 * paging the PDPTEs are read from memory at CR3, not from the VMCS copies. */
int guest_walk(const struct guest_paging *p, uint64_t gva, guest_read_phys_fn read_phys,
	       void *ctx, struct walk_result *out);

/* "real/no paging", "32-bit", "PAE", "4-level" or "5-level". */
const char *guest_paging_mode_name(const struct guest_paging *p);

#endif
