/* guest_walk.c — the guest's linear-to-physical translation, done by hand
 * from its CR0/CR3/CR4/EFER and its tables in guest-physical memory. */
#include "guest_walk.h"

#include "platform/errno.h"

/* Paging-structure entry bits common to every mode (SDM Vol. 3A §5.3-§5.5). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)	/* in a PTE this bit is PAT instead */
#define PTE_XD (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull	/* bits 51:12, MAXPHYADDR = 52 */

/* A PAE PDPTE has no R/W, U/S or XD: bits 2:1, 8:5 and 63:52 are reserved (§5.4.1). */
#define PAE_PDPTE_RESERVED (0xfff0000000000000ull | 0x1e6ull)
/* A 32-bit 4 MiB PDE: bits 20:13 are physical bits 39:32 (PSE-36), bit 21 reserved (§5.3). */
#define PDE32_4M_RESERVED (1ull << 21)

#define KiB4 0x1000ull
#define LOW_4G 0xffffffffull

enum guest_mode { MODE_NONE, MODE_32, MODE_PAE, MODE_4LEVEL, MODE_5LEVEL };

struct walker {
	guest_read_phys_fn read_phys;
	void *ctx;
	bool nxe;
	struct walk_result *out;
};

/* §5.1.1: CR0.PG, then CR4.PAE, then EFER.LME, then CR4.LA57 pick the mode. */
static enum guest_mode mode_of(const struct guest_paging *p)
{
	if (!(p->cr0 & GUEST_CR0_PG))
		return MODE_NONE;
	if (!(p->cr4 & GUEST_CR4_PAE))
		return MODE_32;
	if (!(p->efer & GUEST_EFER_LME))
		return MODE_PAE;
	return p->cr4 & GUEST_CR4_LA57 ? MODE_5LEVEL : MODE_4LEVEL;
}

/* Entries are little-endian, like the host: a 4-byte read fills the low half. */
static int read_entry(const struct walker *w, uint64_t gpa, size_t size, uint64_t *entry)
{
	*entry = 0;
	return w->read_phys(w->ctx, gpa, entry, size) < 0 ? -EIO : 0;
}

/* Rights are the AND over every entry of the walk (§5.6). */
static void take_rights(struct walk_result *out, uint64_t entry)
{
	out->writable = out->writable && (entry & PTE_RW);
	out->user = out->user && (entry & PTE_US);
	if (entry & PTE_XD)
		out->executable = false;
	out->levels++;
}

static int finish(struct walk_result *out, uint64_t gpa, uint64_t page_size)
{
	out->gpa = gpa;
	out->page_size = page_size;
	return 0;
}

/* §5.3: a 1024-entry directory at CR3[31:12], 4 MiB pages when CR4.PSE. */
static int walk_32bit(const struct guest_paging *p, uint64_t gva, const struct walker *w)
{
	uint64_t pde, pte;
	if (gva > LOW_4G)
		return -EFAULT;
	int err = read_entry(w, (p->cr3 & 0xfffff000) + ((gva >> 22) & 0x3ff) * 4, 4, &pde);
	if (err)
		return err;
	if (!(pde & PTE_P))
		return -EFAULT;
	take_rights(w->out, pde);
	if ((p->cr4 & GUEST_CR4_PSE) && (pde & PTE_PS)) {
		if (pde & PDE32_4M_RESERVED)
			return -EFAULT;
		uint64_t base = (pde & 0xffc00000) | ((pde >> 13) & 0xff) << 32;
		return finish(w->out, base | (gva & 0x3fffff), 4 * 1024 * 1024);
	}
	err = read_entry(w, (pde & 0xfffff000) + ((gva >> 12) & 0x3ff) * 4, 4, &pte);
	if (err)
		return err;
	if (!(pte & PTE_P))
		return -EFAULT;
	take_rights(w->out, pte);
	return finish(w->out, (pte & 0xfffff000) | (gva & 0xfff), KiB4);
}

/* The 512-entry tables shared by PAE, 4-level and 5-level paging, from a
 * table at `level` (5 = PML5, 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT) down. */
static int walk_tables(const struct walker *w, uint64_t table, int level, uint64_t gva)
{
	for (;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t entry, size = 1ull << shift;
		int err = read_entry(w, table + ((gva >> shift) & 511) * 8, 8, &entry);
		if (err)
			return err;
		if (!(entry & PTE_P))
			return -EFAULT;
		/* XD is reserved without EFER.NXE, PS in PML5Es and PML4Es (§5.5). */
		if (((entry & PTE_XD) && !w->nxe) || (level >= 4 && (entry & PTE_PS)))
			return -EFAULT;
		take_rights(w->out, entry);
		if (level > 1 && !(entry & PTE_PS)) {
			table = entry & PTE_ADDR_MASK;
			continue;
		}
		/* In a 1 GiB or 2 MiB page, bits shift-1:13 are reserved (bit 12 is PAT). */
		if (entry & (size - 1) & ~0x1fffull)
			return -EFAULT;
		return finish(w->out, (entry & PTE_ADDR_MASK & ~(size - 1)) | (gva & (size - 1)), size);
	}
}

/* §5.4: four PDPTEs at CR3[31:5], then a PD and PT of 64-bit entries. */
static int walk_pae(const struct guest_paging *p, uint64_t gva, const struct walker *w)
{
	uint64_t pdpte;
	if (gva > LOW_4G)
		return -EFAULT;
	int err = read_entry(w, (p->cr3 & 0xffffffe0) + ((gva >> 30) & 3) * 8, 8, &pdpte);
	if (err)
		return err;
	if (!(pdpte & PTE_P) || (pdpte & PAE_PDPTE_RESERVED))
		return -EFAULT;
	w->out->levels++;
	return walk_tables(w, pdpte & PTE_ADDR_MASK, 2, gva);
}

/* §5.5: bits 63:48 (63:57 with LA57) must copy the top translated bit. */
static bool canonical(uint64_t gva, unsigned bits)
{
	int64_t extended = (int64_t)(gva << (64 - bits)) >> (64 - bits);
	return (uint64_t)extended == gva;
}

int guest_walk(const struct guest_paging *p, uint64_t gva, guest_read_phys_fn read_phys,
	       void *ctx, struct walk_result *out)
{
	struct walker w = { read_phys, ctx, (p->efer & GUEST_EFER_NXE) != 0, out };
	*out = (struct walk_result){ .writable = true, .user = true, .executable = true };

	enum guest_mode mode = mode_of(p);
	if (mode == MODE_NONE) {
		/* Without paging, linear addresses are physical ones, 32 bits wide. */
		if (gva > LOW_4G)
			return -EFAULT;
		return finish(out, gva, KiB4);
	}
	if (mode == MODE_32)
		return walk_32bit(p, gva, &w);
	if (mode == MODE_PAE)
		return walk_pae(p, gva, &w);
	bool la57 = mode == MODE_5LEVEL;
	if (!canonical(gva, la57 ? 57 : 48))
		return -EFAULT;
	return walk_tables(&w, p->cr3 & PTE_ADDR_MASK, la57 ? 5 : 4, gva);
}

const char *guest_paging_mode_name(const struct guest_paging *p)
{
	static const char *const names[] = {
		[MODE_NONE] = "real/no paging",
		[MODE_32] = "32-bit",
		[MODE_PAE] = "PAE",
		[MODE_4LEVEL] = "4-level",
		[MODE_5LEVEL] = "5-level",
	};
	return names[mode_of(p)];
}
