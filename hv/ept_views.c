/* ept_views.c — pages with an execute view and a data view (ept_views.h):
 * the swap on EPT violation, the shadow copies, the RWX step.
 *
 * Each view is one store to the page's 4 KiB EPT leaf (ept_leaf_4k): the
 * address and rights change, the memory type, the ignore-PAT bit, A/D
 * flags and ept.c's "mapped" bit stay.  Exit qualification bits 2:0 say
 * read, write, fetch (SDM Vol. 3C Table 28-7). */
#include "ept_views.h"

#include "debugger.h"
#include "guest.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "platform/pmm.h"
#include "platform/spinlock.h"

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define INT3 0xcc
#define QUAL_READ 1u
#define QUAL_WRITE 2u
#define QUAL_FETCH 4u

enum view { VIEW_EXEC, VIEW_DATA, VIEW_STEP };

struct view_page {
	uint64_t gpa;		/* the page; identity-mapped, so also the original's HPA */
	uint64_t *pte;
	uint8_t *shadow;	/* its physical address is its pointer (identity map) */
	enum view view;
	bool dirty;		/* written since the shadow was copied */
	unsigned step_vcpu;	/* VIEW_STEP: whose re-arm puts it back */
	uint64_t data_rip;	/* where the last read/write violation was */
	unsigned data_vcpu;
	unsigned nint3;
	uint16_t int3[EPT_VIEW_INT3S];	/* offsets in the page */
};

static struct view_page pages[EPT_VIEW_PAGES];	/* pages[0, npages) in use */
static unsigned npages;
static struct spinlock lock;
static volatile uint64_t generation;
static uint64_t flushed[VCPU_MAX];	/* the generation each vCPU last flushed */
static struct ept_views_stats stats;

static struct view_page *find(uint64_t gpa)
{
	for (unsigned i = 0; i < npages; i++)
		if (pages[i].gpa == (gpa & PAGE_MASK))
			return &pages[i];
	return NULL;
}

static void flush(struct vcpu *v)
{
	flushed[v->index] = ++generation;
	ept_views_invept(v);
}

static void set_pte(struct view_page *p, uint64_t hpa, unsigned perms)
{
	*p->pte = (*p->pte & ~(EPT_ENTRY_ADDR_MASK | EPT_RWX)) | hpa | perms;
}

/* The shadow: the page as the guest has it, int3s on top. */
static void copy_shadow(struct view_page *p)
{
	memcpy(p->shadow, (const void *)(uintptr_t)p->gpa, PAGE_SIZE);
	for (unsigned i = 0; i < p->nint3; i++)
		p->shadow[p->int3[i]] = INT3;
	p->dirty = false;
	stats.copies++;
}

static void to_exec(struct view_page *p)
{
	if (p->dirty)
		copy_shadow(p);
	set_pte(p, (uint64_t)(uintptr_t)p->shadow, EPT_X);
	p->view = VIEW_EXEC;
	stats.to_exec++;
}

static void to_data(struct view_page *p, bool write)
{
	set_pte(p, p->gpa, write ? EPT_R | EPT_W : EPT_R);
	p->dirty |= write;
	p->view = VIEW_DATA;
	stats.to_data++;
}

/* Read and execute; write too when the instruction is known to write
 * (else a write during the step faults once more and opens it: a step that
 * only reads leaves the shadow as it is, no copy). */
static void to_step(struct vcpu *v, struct view_page *p, bool write)
{
	set_pte(p, p->gpa, write ? EPT_RWX : EPT_R | EPT_X);
	p->view = VIEW_STEP;
	p->step_vcpu = v->index;
	p->dirty |= write;
	stats.steps++;
}

static unsigned view_perms(const struct view_page *p)
{
	return (unsigned)(*p->pte & EPT_RWX);
}

/* Why a page cannot have views: 0, or the refusal (logged). */
static int refuse(struct vcpu *v, uint64_t gpa)
{
	uint64_t page = gpa & PAGE_MASK;
	struct ept_mapping m;
	if (page < guest_mem.hv_end && page + PAGE_SIZE > guest_mem.hv_start) {
		log_warn("stealth: GPA 0x%llx is in the hypervisor's region: no hidden breakpoint there",
			 (unsigned long long)gpa);
		return -EPERM;
	}
	if (!guest_phys_reachable(page, PAGE_SIZE) || ept_query(&v->ept, page, &m) || !m.present ||
	    m.memtype != EPT_MT_WB) {
		log_warn("stealth: GPA 0x%llx is not guest RAM (MMIO such as the xAPIC page, or a hole): "
			 "no hidden breakpoint there", (unsigned long long)gpa);
		return -EFAULT;
	}
	if (!v->ept.exec_only) {
		log_warn("stealth: this CPU has no execute-only EPT (IA32_VMX_EPT_VPID_CAP bit 0): "
			 "no hidden breakpoints; use bp-mode int3");
		return -ENODEV;
	}
	if (m.perms != EPT_RWX) {
		log_warn("stealth: GPA 0x%llx: its page has other EPT rights (a watch, the xAPIC page, "
			 "a script's ept.protect): no hidden breakpoint there", (unsigned long long)gpa);
		return -EBUSY;
	}
	return 0;
}

/* Shadows of joined pages wait here until every running vCPU has flushed
 * since the join: one with a stale execute view may still run the old
 * shadow (its int3s already taken out), which must not become another
 * page's, let alone the hypervisor's, meanwhile.  A full pool gives its
 * oldest back to the allocator. */
struct spare {
	uint64_t page;
	uint64_t joined;	/* the generation of the join's flush */
};
static struct spare spares[EPT_VIEW_PAGES];
static unsigned nspares;

static bool flushed_since(uint64_t gen)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].state == VCPU_RUNNING && flushed[vcpus[i].index] < gen)
			return false;
	return true;
}

static uint64_t take_shadow(void)
{
	for (unsigned i = 0; i < nspares; i++) {
		if (!flushed_since(spares[i].joined))
			continue;
		uint64_t page = spares[i].page;
		spares[i] = spares[--nspares];
		return page;
	}
	return pmm_alloc(&phys_pages);
}

static void give_shadow(uint64_t page)
{
	if (nspares == EPT_VIEW_PAGES) {
		pmm_free(&phys_pages, spares[0].page, 1);
		spares[0] = spares[--nspares];
	}
	spares[nspares++] = (struct spare){ page, generation };
}

static int split(struct vcpu *v, uint64_t gpa, struct view_page **out)
{
	int rc = refuse(v, gpa);
	if (rc)
		return rc;
	if (npages == EPT_VIEW_PAGES) {
		log_warn("stealth: all %u split pages in use: no hidden breakpoint at GPA 0x%llx",
			 EPT_VIEW_PAGES, (unsigned long long)gpa);
		return -ENOSPC;
	}
	uint64_t shadow = take_shadow();
	uint64_t *pte = shadow ? ept_leaf_4k(&v->ept, gpa) : NULL;
	if (!pte) {
		if (shadow)
			give_shadow(shadow);
		log_warn("stealth: out of memory for GPA 0x%llx's shadow page", (unsigned long long)gpa);
		return -ENOMEM;
	}
	struct view_page *p = &pages[npages++];
	*p = (struct view_page){ .gpa = gpa & PAGE_MASK, .pte = pte, .shadow = (uint8_t *)(uintptr_t)shadow };
	*out = p;
	return 0;
}

static void join(struct vcpu *v, struct view_page *p)
{
	set_pte(p, p->gpa, EPT_RWX);
	flush(v);
	give_shadow((uint64_t)(uintptr_t)p->shadow);
	*p = pages[--npages];
}

int ept_views_add_int3(struct vcpu *v, uint64_t gpa)
{
	uint16_t off = (uint16_t)(gpa & ~PAGE_MASK);
	int rc = 0;
	spin_lock(&lock);
	struct view_page *p = find(gpa);
	if (!p && !(rc = split(v, gpa, &p)))
		p->dirty = true;
	for (unsigned i = 0; !rc && i < p->nint3; i++)
		if (p->int3[i] == off)
			goto out;	/* gdb may insert twice */
	if (!rc && p->nint3 == EPT_VIEW_INT3S) {
		log_warn("stealth: all %u hidden breakpoints of page 0x%llx in use", EPT_VIEW_INT3S,
			 (unsigned long long)p->gpa);
		rc = -ENOSPC;
	}
	if (!rc) {
		p->int3[p->nint3++] = off;
		p->dirty = true;
		if (p->view == VIEW_EXEC)
			to_exec(p);	/* the new int3 in place */
		flush(v);
	}
out:
	spin_unlock(&lock);
	return rc;
}

int ept_views_remove_int3(struct vcpu *v, uint64_t gpa)
{
	uint16_t off = (uint16_t)(gpa & ~PAGE_MASK);
	int rc = -ENOENT;
	spin_lock(&lock);
	struct view_page *p = find(gpa);
	for (unsigned i = 0; p && i < p->nint3; i++) {
		if (p->int3[i] != off)
			continue;
		p->int3[i] = p->int3[--p->nint3];
		p->shadow[off] = *(const uint8_t *)(uintptr_t)gpa;
		if (!p->nint3)
			join(v, p);
		else
			flush(v);
		rc = 0;
		break;
	}
	spin_unlock(&lock);
	return rc;
}

bool ept_views_owns(uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < npages; i++)
		if (pages[i].gpa < gpa + len && pages[i].gpa + PAGE_SIZE > gpa)
			return true;
	return false;
}

/* Fetch in the data view: back to execute, unless this very instruction
 * just faulted for data on the page too; then it runs once on the RWX
 * original (else the two views would take turns forever). */
static void fetch_violation(struct vcpu *v, struct view_page *p, uint64_t rip)
{
	if (p->view == VIEW_DATA && p->data_vcpu == v->index && p->data_rip == rip) {
		to_step(v, p, view_perms(p) & EPT_W);
		debugger_arm_rearm_step(v);
	} else {
		to_exec(p);
	}
}

bool ept_views_on_violation(struct vcpu *v, uint64_t gpa, uint64_t q, uint64_t rip)
{
	if (!npages)
		return false;
	spin_lock(&lock);
	struct view_page *p = find(gpa);
	if (!p) {
		spin_unlock(&lock);
		return false;
	}
	unsigned want = (q & QUAL_READ ? EPT_R : 0) | (q & QUAL_WRITE ? EPT_W : 0) | (q & QUAL_FETCH ? EPT_X : 0);
	if ((view_perms(p) & want) == want) {
		stats.stale++;	/* another vCPU swapped it already: this TLB was stale */
	} else if (q & QUAL_FETCH) {
		fetch_violation(v, p, rip);
	} else if (p->view == VIEW_STEP) {
		set_pte(p, p->gpa, EPT_RWX);	/* the stepped instruction writes too */
		p->dirty = true;
	} else {
		p->data_rip = rip;
		p->data_vcpu = v->index;
		to_data(p, q & QUAL_WRITE);
	}
	flush(v);
	spin_unlock(&lock);
	return true;
}

bool ept_views_step_original(struct vcpu *v, uint64_t gpa)
{
	spin_lock(&lock);
	struct view_page *p = find(gpa);
	if (p) {
		to_step(v, p, false);
		flush(v);
		debugger_arm_rearm_step(v);
	}
	spin_unlock(&lock);
	return p != NULL;
}

void ept_views_rearm(struct vcpu *v)
{
	if (!npages)
		return;
	spin_lock(&lock);
	bool any = false;
	for (unsigned i = 0; i < npages; i++) {
		if (pages[i].view == VIEW_STEP && pages[i].step_vcpu == v->index) {
			to_exec(&pages[i]);
			any = true;
		}
	}
	if (any)
		flush(v);
	spin_unlock(&lock);
}

void ept_views_wrote(uint64_t gpa, uint64_t len)
{
	if (!npages)
		return;
	spin_lock(&lock);
	for (unsigned i = 0; i < npages; i++) {
		struct view_page *p = &pages[i];
		if (p->gpa >= gpa + len || p->gpa + PAGE_SIZE <= gpa)
			continue;
		p->dirty = true;
		if (p->view == VIEW_EXEC)
			copy_shadow(p);	/* same page, new bytes: no flush needed */
	}
	spin_unlock(&lock);
}

bool ept_views_sync(struct vcpu *v)
{
	uint64_t g = generation;
	if (flushed[v->index] == g)
		return false;
	flushed[v->index] = g;
	ept_views_invept(v);
	return true;
}

void ept_views_stats(struct ept_views_stats *out)
{
	*out = stats;
	out->pages = npages;
	out->int3s = 0;
	for (unsigned i = 0; i < npages; i++)
		out->int3s += pages[i].nint3;
}
