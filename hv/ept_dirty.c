/* ept_dirty.c — dirty-page tracking with EPT A/D flags and PML
 * (ept_dirty.h): the VMCS side, the PML-full exit, start/stop/list.  The
 * set, the PML reading and the EPT walk are ept_dirty_log.c's. */
#include "ept_dirty.h"

#include "allstop.h"
#include "ept_dirty_log.h"
#include "entry_failure.h"
#include "exits.h"
#include "guest.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "vcpu_kick.h"
#include "vmx.h"
#include "vmx_caps.h"

#define PML_CONTROL_BIT 17	/* secondary processor-based control "enable PML" */
#define SPLIT_BATCH 64

static struct dirty_set set;
static bool started;			/* the set means something */
static enum dirty_method method;
static unsigned generation;		/* bumped by start and stop */
static unsigned synced[VCPU_MAX];	/* the generation each vCPU's VMCS has */
static uint64_t *pml_page[VCPU_MAX];	/* identity-mapped: virtual = physical */
static bool split_done;

static bool cpu_has_ad(void)
{
	return vmx_caps.ept_vpid_cap & VMX_EPT_ACCESSED_DIRTY;
}

static bool cpu_has_pml(void)
{
	uint32_t msr;
	uint64_t cap;
	return vmx_caps_control_msr(&vmx_caps, VMX_CTL_PROC2, &msr, &cap) && (cap >> 32 >> PML_CONTROL_BIT & 1);
}

const char *ept_dirty_method_name(enum dirty_method m)
{
	return m == DIRTY_PML ? "PML" : m == DIRTY_SCAN ? "EPT dirty-flag scan" : "off";
}

enum dirty_method ept_dirty_method(void)
{
	return method;
}

/* The set's bitmap and each vCPU's PML page, once. */
static int alloc_once(void)
{
	if (!set.bits) {
		uint64_t npages = (guest_mem.ram_top + PAGE_SIZE - 1) / PAGE_SIZE;
		uint64_t bytes = (npages + 63) / 64 * 8;
		uint64_t p = pmm_alloc_contig(&phys_pages, (bytes + PAGE_SIZE - 1) / PAGE_SIZE, PAGE_SIZE);
		if (!p)
			return -ENOMEM;
		set.bits = (uint64_t *)(uintptr_t)p;
		set.npages = npages;
	}
	for (unsigned i = 0; i < vcpu_count; i++) {
		if (pml_page[i] || !vcpus[i].vmcs_phys)
			continue;
		uint64_t p = pmm_alloc(&phys_pages);
		if (!p)
			return -ENOMEM;
		pml_page[i] = (uint64_t *)(uintptr_t)p;
		memset(pml_page[i], 0xff, PAGE_SIZE);	/* every slot PML_EMPTY */
	}
	return 0;
}

struct large_leaves {
	uint64_t gpa[SPLIT_BATCH];
	unsigned perms[SPLIT_BATCH];
	unsigned n;
};

static void find_large_ram(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
	struct large_leaves *l = ctx;
	unsigned memtype = (*entry >> EPT_ENTRY_MT_SHIFT) & 7;
	if (size > PAGE_SIZE && memtype == EPT_MT_WB && gpa < guest_mem.ram_top && l->n < SPLIT_BATCH) {
		l->gpa[l->n] = gpa;
		l->perms[l->n++] = (unsigned)(*entry & EPT_RWX);
	}
}

/* Guest RAM in 4 KiB leaves: protecting one 4 KiB page with the rights it
 * has splits the large page around it (ept_protect). */
static int split_ram(struct ept *e)
{
	for (;;) {
		struct large_leaves l = { .n = 0 };
		ept_leaves(e, find_large_ram, &l);
		if (!l.n)
			return 0;
		for (unsigned i = 0; i < l.n; i++) {
			int rc = ept_protect(e, l.gpa[i], PAGE_SIZE, l.perms[i]);
			if (rc)
				return rc;
		}
	}
}

/* The VMCS lost what the last sync wrote (the write guard restored the
 * controls saved at a stop): write it again. */
void ept_dirty_resync(struct vcpu *v)
{
	if (pml_page[v->index])
		pml_drain(pml_page[v->index], &set);	/* the index starts afresh below */
	synced[v->index] = generation - 1;
	ept_dirty_sync(v);
}

void ept_dirty_sync(struct vcpu *v)
{
	if (synced[v->index] == generation)
		return;
	synced[v->index] = generation;
	if (method == DIRTY_PML && pml_page[v->index]) {
		vmwrite(PML_ADDRESS, (uintptr_t)pml_page[v->index]);
		vmwrite(PML_INDEX, PML_ENTRIES - 1);
		v->proc2_ctls |= 1u << PML_CONTROL_BIT;
	} else {
		v->proc2_ctls &= ~(1u << PML_CONTROL_BIT);
	}
	vmwrite(SECONDARY_VM_EXEC_CONTROL, v->proc2_ctls);
	v->eptp = ept_pointer(&v->ept, method != DIRTY_OFF);
	vmwrite(EPT_POINTER, v->eptp);
	invept(INVEPT_SINGLE_CONTEXT, v->eptp);
}

/* Every vCPU follows: this processor's at once; a parked one as it
 * leaves its park (allstop.c); a running one at its next kick. */
static void sync_all(void)
{
	struct vcpu *me = this_vcpu();
	generation++;
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *u = &vcpus[i];
		if (u == me || !u->vmcs_phys || __atomic_load_n(&u->parked, __ATOMIC_ACQUIRE))
			continue;
		if (u->state == VCPU_RUNNING)
			vcpu_request(u, VCPU_REQ_SYNC);
		else
			__atomic_or_fetch(&u->requests, VCPU_REQ_SYNC, __ATOMIC_SEQ_CST);
	}
	vcpu_vmcs_use(me);
	ept_dirty_sync(me);
}

static void drain_all(void)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (pml_page[i])
			pml_drain(pml_page[i], &set);
}

int ept_dirty_start(bool scan, char *msg, size_t len)
{
	struct ept *e = &vcpus[0].ept;
	if (!cpu_has_ad()) {
		ksnprintf(msg, len, "dirty: refused: this CPU's EPT has no accessed/dirty flags "
			  "(IA32_VMX_EPT_VPID_CAP bit 21), and tracking by write protection is not implemented");
		return -ENODEV;
	}
	int rc = alloc_once();
	if (!rc && !split_done && !(rc = split_ram(e)))
		split_done = true;
	if (rc) {
		ksnprintf(msg, len, "dirty: refused: no memory for %s", split_done ? "the PML pages and the page set"
										   : "the guest RAM's 4 KiB page tables");
		return rc;
	}
	method = cpu_has_pml() && !scan ? DIRTY_PML : DIRTY_SCAN;
	dirty_set_clear(&set);
	drain_all();
	dirty_set_clear(&set);
	ept_leaves(e, ept_leaf_clear_ad, NULL);
	started = true;
	sync_all();
	if (method == DIRTY_PML)
		ksnprintf(msg, len, "dirty: tracking guest writes with PML (EPT A/D flags, a 512-entry log per vCPU)");
	else
		ksnprintf(msg, len, "dirty: tracking guest writes by scanning the EPT's dirty flags at each list "
			  "(degraded: %s)", cpu_has_pml() ? "asked for" : "this CPU has no PML");
	return 0;
}

int ept_dirty_stop(void)
{
	if (method == DIRTY_OFF)
		return -ENOENT;
	if (method == DIRTY_PML)
		drain_all();
	else
		ept_leaves(&vcpus[0].ept, ept_leaf_collect_dirty, &set);
	method = DIRTY_OFF;
	sync_all();
	return 0;
}

long ept_dirty_list(dirty_page_fn fn, void *ctx, uint64_t *outside)
{
	if (!started)
		return -ENOENT;
	if (method == DIRTY_PML)
		drain_all();
	else if (method == DIRTY_SCAN)
		ept_leaves(&vcpus[0].ept, ept_leaf_collect_dirty, &set);
	long n = 0;
	for (uint64_t a = dirty_set_next(&set, 0); a != UINT64_MAX; a = dirty_set_next(&set, a + PAGE_SIZE)) {
		fn(ctx, a);
		n++;
	}
	*outside = set.outside;
	return n;
}

enum exit_action exit_pml_full(struct vcpu *v)
{
	if (pml_page[v->index])
		pml_drain(pml_page[v->index], &set);
	vmwrite(PML_INDEX, PML_ENTRIES - 1);
	return EXIT_RESUME;
}
