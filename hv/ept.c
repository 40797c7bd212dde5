/* ept.c — build and edit 4-level EPT paging structures (SDM Vol. 3C §29.3).
 *
 * Levels count up from the leaves: 1 = PT (4 KiB), 2 = PD (2 MiB leaves),
 * 3 = PDPT (1 GiB leaves), 4 = PML4. Invariants kept by every operation:
 * each leaf carries EPT_ENTRY_MAPPED, so "mapped" is simply "entry != 0";
 * no table is empty (unmap frees those it empties); and a table replaces a
 * large leaf only with the same translation, written in one store. */
#include "ept.h"

#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

#define EPT_ENTRIES 512
#define EPT_TABLE_RIGHTS ((uint64_t)EPT_RWX)
#define EPT_HPA_LIMIT (1ull << 52)	/* the architectural MAXPHYADDR ceiling */

static uint64_t level_size(int level)
{
	return 1ull << (12 + 9 * (level - 1));
}

static unsigned level_index(uint64_t gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static uint64_t align_down(uint64_t a, uint64_t size)
{
	return a & ~(size - 1);
}

/* PML4 entries have no large-page bit (it is reserved); PTEs are always leaves. */
static bool is_leaf(uint64_t entry, int level)
{
	return entry && (level == 1 || (entry & EPT_ENTRY_LARGE));
}

static uint64_t *table_of(const struct ept *e, uint64_t entry)
{
	return e->ops.phys_to_virt(e->ops.ctx, entry & EPT_ENTRY_ADDR_MASK);
}

/* Clears the page ourselves: stale bytes would read as live entries. */
static uint64_t *alloc_table(struct ept *e, uint64_t *phys)
{
	uint64_t *t = e->ops.alloc_page(e->ops.ctx, phys);
	if (t)
		memset(t, 0, EPT_ENTRIES * sizeof(*t));
	return t;
}

static void free_table(struct ept *e, uint64_t *t, uint64_t phys)
{
	if (e->ops.free_page)
		e->ops.free_page(e->ops.ctx, t, phys);
}

/* Frees the table an entry at `level` points to, and every table below it. */
static void free_tree(struct ept *e, uint64_t entry, int level)
{
	uint64_t *t = table_of(e, entry);
	for (int i = 0; level > 2 && i < EPT_ENTRIES; i++)
		if (t[i] && !is_leaf(t[i], level - 1))
			free_tree(e, t[i], level - 1);
	free_table(e, t, entry & EPT_ENTRY_ADDR_MASK);
}

static bool table_empty(const uint64_t *t)
{
	for (int i = 0; i < EPT_ENTRIES; i++)
		if (t[i])
			return false;
	return true;
}

/* The entry that decides gpa's translation: its leaf, or the empty entry
 * where the walk stops; *level says which table it sits in. */
static uint64_t *ept_lookup(const struct ept *e, uint64_t gpa, int *level)
{
	uint64_t *table = e->pml4;
	for (int l = 4;; l--) {
		uint64_t *ent = &table[level_index(gpa, l)];
		if (!*ent || is_leaf(*ent, l)) {
			*level = l;
			return ent;
		}
		table = table_of(e, *ent);
	}
}

/* Whether some part of [start, end) is mapped (mapped = true) or unmapped
 * (mapped = false); steps a whole leaf or empty entry at a time. */
static bool range_has(const struct ept *e, uint64_t start, uint64_t end, bool mapped)
{
	for (uint64_t a = start; a < end;) {
		int level;
		const uint64_t *ent = ept_lookup(e, a, &level);
		if ((*ent != 0) == mapped)
			return true;
		a = align_down(a, level_size(level)) + level_size(level);
	}
	return false;
}

/* 4 KiB-aligned and inside the 48 bits a 4-level EPT translates. */
static int check_range(uint64_t gpa, uint64_t len)
{
	if ((gpa | len) & 0xfff)
		return -EINVAL;
	if (gpa >= EPT_GPA_LIMIT || len > EPT_GPA_LIMIT - gpa)
		return -EINVAL;
	return 0;
}

/* Rights that would be an EPT misconfiguration (SDM Vol. 3C §29.3.3.1):
 * write without read, or execute-only where the CPU lacks it. */
static int check_perms(const struct ept *e, unsigned perms)
{
	if (perms & ~EPT_RWX)
		return -EINVAL;
	if ((perms & EPT_W) && !(perms & EPT_R))
		return -EINVAL;
	if (perms == EPT_X && !e->exec_only)
		return -EINVAL;
	return 0;
}

/* Memory types 2, 3 and 7 are reserved: a leaf with one is a misconfiguration. */
static int check_memtype(unsigned memtype)
{
	switch (memtype) {
	case EPT_MT_UC: case EPT_MT_WC: case EPT_MT_WT: case EPT_MT_WP: case EPT_MT_WB:
		return 0;
	default:
		return -EINVAL;
	}
}

/* Replaces a large leaf by a table of the next level with the same
 * translation; A/D flags are inherited so dirty tracking loses nothing. */
static int split_leaf(struct ept *e, uint64_t *ent, int level)
{
	uint64_t phys;
	uint64_t *t = alloc_table(e, &phys);
	if (!t)
		return -ENOMEM;
	uint64_t base = *ent & EPT_ENTRY_ADDR_MASK;
	uint64_t attrs = *ent & ~EPT_ENTRY_ADDR_MASK;
	if (level - 1 == 1)
		attrs &= ~EPT_ENTRY_LARGE;	/* bit 7 of a PTE is ignored, not "large" */
	for (int i = 0; i < EPT_ENTRIES; i++)
		t[i] = (base + (uint64_t)i * level_size(level - 1)) | attrs;
	/* One store: the CPU sees the old leaf or the new table, never a mix. */
	*ent = phys | EPT_TABLE_RIGHTS;
	return 0;
}

/* Makes addr a boundary between leaves: splits the large leaves it falls inside. */
static int split_at(struct ept *e, uint64_t addr)
{
	if (addr >= EPT_GPA_LIMIT)
		return 0;
	uint64_t *table = e->pml4;
	for (int l = 4; l > 1; l--) {
		uint64_t *ent = &table[level_index(addr, l)];
		if (!*ent || !(addr & (level_size(l) - 1)))
			return 0;
		if (*ent & EPT_ENTRY_LARGE) {
			int err = split_leaf(e, ent, l);
			if (err)
				return err;
		}
		table = table_of(e, *ent);
	}
	return 0;
}

/* The largest page both addresses are aligned for and the CPU supports. */
static int pick_level(const struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t left)
{
	for (int level = 3; level > 1; level--) {
		uint64_t size = level_size(level);
		bool supported = level == 3 ? e->large_1g : e->large_2m;
		if (supported && !((gpa | hpa) & (size - 1)) && left >= size)
			return level;
	}
	return 1;
}

/* Installs a leaf at `level` for gpa, creating the tables above it. The
 * caller has checked the slot is unmapped, and no empty table exists. */
static int set_leaf(struct ept *e, uint64_t gpa, int level, uint64_t leaf)
{
	uint64_t *table = e->pml4;
	for (int l = 4; l > level; l--) {
		uint64_t *ent = &table[level_index(gpa, l)];
		if (!*ent) {
			uint64_t phys;
			if (!alloc_table(e, &phys))
				return -ENOMEM;
			/* A right clear anywhere on the walk denies (§29.3.3.2):
			 * tables grant everything, leaves decide. */
			*ent = phys | EPT_TABLE_RIGHTS;
		}
		table = table_of(e, *ent);
	}
	table[level_index(gpa, level)] = leaf;
	return 0;
}

/* Clears [start, end) below a table, freeing tables it covers or empties.
 * split_at() has run on both ends, so an entry only partly inside is a table. */
static void clear_range(struct ept *e, uint64_t *table, int level, uint64_t start, uint64_t end)
{
	uint64_t size = level_size(level);
	for (uint64_t a = start; a < end; a = align_down(a, size) + size) {
		uint64_t *ent = &table[level_index(a, level)];
		uint64_t lo = align_down(a, size), hi = lo + size;
		if (!*ent)
			continue;
		if (start <= lo && hi <= end) {
			if (!is_leaf(*ent, level))
				free_tree(e, *ent, level);
			*ent = 0;
			continue;
		}
		uint64_t *child = table_of(e, *ent);
		clear_range(e, child, level - 1, a, hi < end ? hi : end);
		if (table_empty(child)) {
			free_table(e, child, *ent & EPT_ENTRY_ADDR_MASK);
			*ent = 0;
		}
	}
}

int ept_init(struct ept *e, const struct ept_ops *ops, bool large_2m, bool large_1g)
{
	if (!ops || !ops->alloc_page || !ops->phys_to_virt)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->ops = *ops;
	e->large_2m = large_2m;
	e->large_1g = large_1g;
	e->pml4 = alloc_table(e, &e->pml4_phys);
	return e->pml4 ? 0 : -ENOMEM;
}

void ept_destroy(struct ept *e)
{
	/* The PML4 as if an entry one level above pointed to it. */
	if (e->pml4)
		free_tree(e, e->pml4_phys, 5);
	e->pml4 = NULL;
	e->pml4_phys = 0;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t len, unsigned perms,
	    unsigned memtype)
{
	int err = check_range(gpa, len);
	if (!err)
		err = check_perms(e, perms);
	if (!err)
		err = check_memtype(memtype);
	if (!err && ((hpa & 0xfff) || hpa >= EPT_HPA_LIMIT || len > EPT_HPA_LIMIT - hpa))
		err = -EINVAL;
	if (err)
		return err;
	if (range_has(e, gpa, gpa + len, true))
		return -EEXIST;

	uint64_t attrs = perms | (uint64_t)memtype << EPT_ENTRY_MT_SHIFT | EPT_ENTRY_MAPPED;
	for (uint64_t done = 0; done < len;) {
		int level = pick_level(e, gpa + done, hpa + done, len - done);
		uint64_t leaf = (hpa + done) | attrs | (level > 1 ? EPT_ENTRY_LARGE : 0);
		err = set_leaf(e, gpa + done, level, leaf);
		if (err) {
			/* The range was all unmapped, so no leaf straddles its ends:
			 * clearing it needs no split and frees the tables just made. */
			clear_range(e, e->pml4, 4, gpa, gpa + len);
			return err;
		}
		done += level_size(level);
	}
	return 0;
}

int ept_unmap(struct ept *e, uint64_t gpa, uint64_t len)
{
	int err = check_range(gpa, len);
	if (!err)
		err = split_at(e, gpa);
	if (!err)
		err = split_at(e, gpa + len);
	if (err)
		return err;
	clear_range(e, e->pml4, 4, gpa, gpa + len);
	return 0;
}

int ept_protect(struct ept *e, uint64_t gpa, uint64_t len, unsigned perms)
{
	int err = check_range(gpa, len);
	if (!err)
		err = check_perms(e, perms);
	if (err)
		return err;
	if (range_has(e, gpa, gpa + len, false))
		return -ENOENT;
	/* Splitting both ends first means a failure leaves every right as it was. */
	err = split_at(e, gpa);
	if (!err)
		err = split_at(e, gpa + len);
	if (err)
		return err;
	for (uint64_t a = gpa; a < gpa + len;) {
		int level;
		uint64_t *ent = ept_lookup(e, a, &level);
		*ent = (*ent & ~(uint64_t)EPT_RWX) | perms;
		a = align_down(a, level_size(level)) + level_size(level);
	}
	return 0;
}

uint64_t *ept_leaf_4k(struct ept *e, uint64_t gpa)
{
	gpa = align_down(gpa, level_size(1));
	if (gpa >= EPT_GPA_LIMIT)
		return NULL;
	int level;
	if (!*ept_lookup(e, gpa, &level))
		return NULL;
	if (level > 1 && (split_at(e, gpa) || split_at(e, gpa + level_size(1))))
		return NULL;
	uint64_t *ent = ept_lookup(e, gpa, &level);
	return level == 1 ? ent : NULL;
}

int ept_query(const struct ept *e, uint64_t gpa, struct ept_mapping *out)
{
	memset(out, 0, sizeof(*out));
	if (gpa >= EPT_GPA_LIMIT)
		return -EINVAL;
	int level;
	uint64_t entry = *ept_lookup(e, gpa, &level);
	if (!entry)
		return 0;
	uint64_t size = level_size(level);
	out->present = true;
	out->hpa = align_down(entry & EPT_ENTRY_ADDR_MASK, size) | (gpa & (size - 1));
	out->perms = entry & EPT_RWX;
	out->memtype = (entry >> EPT_ENTRY_MT_SHIFT) & 7;
	out->accessed = entry & EPT_ENTRY_ACCESSED;
	out->dirty = entry & EPT_ENTRY_DIRTY;
	out->level = level;
	out->page_size = size;
	return 0;
}

/* EPTP (SDM Vol. 3C §25.6.11): bits 2:0 memory type of the paging structures,
 * 5:3 walk length minus one, 6 A/D enable, 51:12 the PML4's address. */
uint64_t ept_pointer(const struct ept *e, bool enable_ad)
{
	return e->pml4_phys | (3ull << 3) | EPT_MT_WB | (enable_ad ? 1ull << 6 : 0);
}

const char *ept_perms_string(unsigned perms, char buf[4])
{
	buf[0] = perms & EPT_R ? 'r' : '-';
	buf[1] = perms & EPT_W ? 'w' : '-';
	buf[2] = perms & EPT_X ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

int ept_parse_perms(const char *s, unsigned *perms)
{
	static const char letters[3] = { 'r', 'w', 'x' };
	unsigned p = 0;
	for (int i = 0; i < 3; i++) {
		if (s[i] == letters[i])
			p |= 1u << i;
		else if (s[i] != '-')
			return -EINVAL;
	}
	if (s[3] != '\0')
		return -EINVAL;
	*perms = p;
	return 0;
}

/* Exit qualification bits (SDM Vol. 3C, Table 28-7). */
#define QUAL_ACCESS_MASK 0x7ull		/* 0 read, 1 write, 2 fetch */
#define QUAL_RIGHTS_SHIFT 3		/* 5:3 the entries' R/W/X, ANDed over the walk */
#define QUAL_LINEAR_VALID (1ull << 7)
#define QUAL_FINAL_TRANSLATION (1ull << 8)	/* vs. a guest paging-structure access */
#define QUAL_NMI_UNBLOCKING (1ull << 12)
#define QUAL_SHADOW_STACK (1ull << 13)

int ept_violation_describe(uint64_t qual, char *buf, size_t len)
{
	/* Both read and write: a read-modify-write (Table 28-7's note on bit 0). */
	static const char *const access[8] = {
		"access to", "read of", "write to", "read/write of",
		"instruction fetch from", "read/fetch of", "write/fetch of", "read/write/fetch of",
	};
	unsigned rights = (qual >> QUAL_RIGHTS_SHIFT) & EPT_RWX;
	char perms[4];
	const char *linear = !(qual & QUAL_LINEAR_VALID) ? "no guest linear address"
		: qual & QUAL_FINAL_TRANSLATION ? "guest linear address valid, final translation"
		: "guest linear address valid, guest paging-structure access";

	/* Bits 2:0 all clear is what the SDM calls "not present" (§29.3.2). */
	return ksnprintf(buf, len, "%s %s%s (%s%s%s)", access[qual & QUAL_ACCESS_MASK],
			 rights ? "a page mapped " : "a non-present page",
			 rights ? ept_perms_string(rights, perms) : "", linear,
			 qual & QUAL_NMI_UNBLOCKING ? ", NMI unblocking due to IRET" : "",
			 qual & QUAL_SHADOW_STACK ? ", shadow-stack access" : "");
}
