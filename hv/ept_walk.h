/* ept_walk.h — one guest-physical address walked through the EPT the way
 * the CPU walks it (SDM Vol. 3C §29.3.2): PML4E, PDPTE, PDE, PTE, stopping
 * at a large page or a non-present entry; and each entry's bits in words.
 * Pure logic over struct ept: host-tested. */
#ifndef HV_EPT_WALK_H
#define HV_EPT_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "ept.h"

struct ept_walk_step {
	int level;		/* 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE */
	uint64_t entry_hpa;	/* where the entry lives: table address + 8 * index */
	uint64_t value;
};

/* Fills steps[0..n) from the PML4E down; returns n (1-4), or -EINVAL when
 * gpa >= EPT_GPA_LIMIT. */
int ept_walk(const struct ept *e, uint64_t gpa, struct ept_walk_step steps[4]);

/* "PDE   @0x1234008 = 0x...: rwx, 2 MiB page 0x200000, memory type WB (6), ignore-PAT, accessed"
 * or "... : next table 0x..."; "not present" when bits 2:0 are clear.
 * Returns the full length, like ksnprintf. */
int ept_walk_describe(const struct ept_walk_step *s, char *buf, size_t len);

#endif
