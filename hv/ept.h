/* ept.h — the EPT table builder: map, unmap, protect and query guest-physical
 * ranges in 4-level extended page tables, the EPT pointer, and a decoder of
 * EPT-violation exit qualifications.
 *
 * Pure logic over struct ept_ops: the image hands it the page allocator and
 * its identity map, the host tests a heap of fake pages. Nothing here runs a
 * VMX instruction: after ept_unmap or ept_protect (which also split large
 * pages and free tables) the caller issues a single-context INVEPT before the
 * guest runs again; ept_map fills only empty entries, which the CPU never
 * caches (SDM Vol. 3C §29.4, Invalidating Cached Translation Information). */
#ifndef HV_EPT_H
#define HV_EPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Access rights, bits 2:0 of every EPT entry (SDM Vol. 3C, Tables 29-1..29-6). */
#define EPT_R 1u
#define EPT_W 2u
#define EPT_X 4u
#define EPT_RWX (EPT_R | EPT_W | EPT_X)

/* EPT memory types, bits 5:3 of a leaf; 2, 3 and 7 are reserved
 * (SDM Vol. 3C §29.3, "EPT and Memory Typing"). */
#define EPT_MT_UC 0u
#define EPT_MT_WC 1u
#define EPT_MT_WT 4u
#define EPT_MT_WP 5u
#define EPT_MT_WB 6u

/* Entry bits (SDM Vol. 3C, Tables 29-1..29-6). */
#define EPT_ENTRY_MT_SHIFT 3
#define EPT_ENTRY_IGNORE_PAT (1ull << 6)
#define EPT_ENTRY_LARGE (1ull << 7)	/* PDPTE: 1 GiB leaf, PDE: 2 MiB leaf */
#define EPT_ENTRY_ACCESSED (1ull << 8)
#define EPT_ENTRY_DIRTY (1ull << 9)	/* leaves only */
/* Bit 11 is ignored by the processor in every format; ept sets it in each
 * leaf it builds, so a leaf protected to "---" (bits 2:0 = 0, which the CPU
 * reads as not present) keeps its translation for a later ept_protect(). */
#define EPT_ENTRY_MAPPED (1ull << 11)
#define EPT_ENTRY_ADDR_MASK 0x000ffffffffff000ull	/* bits 51:12 */

/* A 4-level EPT translates 48-bit guest-physical addresses. */
#define EPT_GPA_LIMIT (1ull << 48)

struct ept_ops {
	void *ctx;
	/* One 4 KiB page for a table: its pointer, and its physical address
	 * in *phys; NULL when memory is exhausted. ept clears it. */
	void *(*alloc_page)(void *ctx, uint64_t *phys);
	/* Gives back a table page ept no longer uses. May be NULL: the pages
	 * are then abandoned (a boot-time-only EPT never frees any). */
	void (*free_page)(void *ctx, void *page, uint64_t phys);
	/* Host pointer for the physical address of a table page. */
	void *(*phys_to_virt)(void *ctx, uint64_t phys);
};

struct ept {
	struct ept_ops ops;
	uint64_t pml4_phys;
	uint64_t *pml4;
	bool large_2m, large_1g;	/* IA32_VMX_EPT_VPID_CAP bits 16 and 17 */
	bool exec_only;			/* IA32_VMX_EPT_VPID_CAP bit 0: "--x" allowed; set after ept_init */
};

/* Allocates the PML4. -EINVAL when alloc_page or phys_to_virt is missing,
 * -ENOMEM when the allocator is empty. */
int ept_init(struct ept *e, const struct ept_ops *ops, bool large_2m, bool large_1g);
/* Frees every table page (through free_page), the PML4 included. */
void ept_destroy(struct ept *e);

/* Maps [gpa, gpa+len) to [hpa, hpa+len) with perms (EPT_R|EPT_W|EPT_X) and
 * memtype (EPT_MT_*), using the largest pages that the alignment of both gpa
 * and hpa and the flags allow. All three 4 KiB-aligned, gpa+len within
 * EPT_GPA_LIMIT, hpa+len within 52 bits, else -EINVAL; perms or memtype that
 * the SDM calls an EPT misconfiguration (§29.3.3.1): -EINVAL. -EEXIST when any
 * part is already mapped (nothing changes). -ENOMEM when tables run out: the
 * part already mapped is taken back, so the EPT is as before. */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t len, unsigned perms,
	    unsigned memtype);
/* Removes every translation in [gpa, gpa+len), splitting large pages that
 * straddle its ends; unmapped parts are fine. Tables left empty are freed.
 * -ENOMEM (from a split) changes no translation. */
int ept_unmap(struct ept *e, uint64_t gpa, uint64_t len);
/* Sets the access rights of a mapped range, splitting large pages that
 * straddle its ends; hpa and memory type stay. -ENOENT when any part is
 * unmapped, -EINVAL as for ept_map, -ENOMEM (from a split): nothing changes.
 * perms 0 ("---") keeps the translation but makes every access an EPT violation. */
int ept_protect(struct ept *e, uint64_t gpa, uint64_t len, unsigned perms);

/* The 4 KiB leaf that translates gpa's page, splitting the large page it
 * sits in: for a caller that swaps one page's translation with one store
 * (ept_views.c), then INVEPTs.  NULL when unmapped or a split runs out of
 * tables. */
uint64_t *ept_leaf_4k(struct ept *e, uint64_t gpa);

struct ept_mapping {
	bool present;		/* a translation exists (perms may still be 0) */
	uint64_t hpa;		/* the host-physical address of gpa itself */
	unsigned perms;
	unsigned memtype;
	bool accessed, dirty;	/* set by the CPU when the EPTP enables A/D flags */
	int level;		/* 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB; 0 when not present */
	uint64_t page_size;
};

/* 0 with out->present false when unmapped; -EINVAL when gpa >= EPT_GPA_LIMIT. */
int ept_query(const struct ept *e, uint64_t gpa, struct ept_mapping *out);

/* The VMCS EPT_POINTER value (SDM Vol. 3C §25.6.11): write-back paging
 * structures, a 4-level walk, A/D flags when enable_ad. */
uint64_t ept_pointer(const struct ept *e, bool enable_ad);

/* "rwx", "r-x", "---": buf, for 3 characters and a NUL. */
const char *ept_perms_string(unsigned perms, char buf[4]);
/* The inverse: exactly three characters, each its letter or '-'; else -EINVAL. */
int ept_parse_perms(const char *s, unsigned *perms);

/* Describes an EPT-violation exit qualification (SDM Vol. 3C, Table 28-7),
 * e.g. "write to a page mapped r-x (guest linear address valid, final
 * translation)". Returns the full length, like ksnprintf. */
int ept_violation_describe(uint64_t qual, char *buf, size_t len);

#endif
