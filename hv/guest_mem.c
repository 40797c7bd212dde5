/* guest_mem.c — the guest's physical memory: the machine's own, identity-
 * mapped through EPT (so devices and firmware tables stay where the guest
 * expects them), minus the hypervisor's region, which is absent from EPT and
 * reserved in the map the guest receives (book ch. 7; SDM Vol. 3C §29.3). */
#include "guest.h"

#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "vmx_caps.h"
#include "vmx_msr.h"

extern struct vmx_caps_raw vmx_caps;
struct guest_memory guest_mem;

#define GPA_SPACE (4ull << 30)	/* identity-mapped: RAM, ROMs, MMIO holes */

static void *ept_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	*phys = pmm_alloc(&phys_pages);
	return *phys ? (void *)(uintptr_t)*phys : NULL;
}

static void ept_free(void *ctx, void *page, uint64_t phys)
{
	(void)ctx;
	(void)page;
	pmm_free(&phys_pages, phys, 1);
}

static void *ept_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)(uintptr_t)phys;
}

/* The guest's map: every boot region, cut around the hypervisor's region,
 * which appears as one reserved region of its own. */
static void build_map(const struct boot_info *bi, uint64_t hv0, uint64_t hv1)
{
	struct guest_memory *g = &guest_mem;
	g->nregions = 0;
	for (unsigned i = 0; i < bi->nregions && g->nregions + 2 < GUEST_MAX_REGIONS; i++) {
		const struct mem_region *r = &bi->regions[i];
		uint64_t a = r->base, b = r->base + r->len;
		if (a < hv0)
			g->regions[g->nregions++] = (struct mem_region){ a, (b < hv0 ? b : hv0) - a, r->type };
		if (b > hv1)
			g->regions[g->nregions++] = (struct mem_region){ a > hv1 ? a : hv1, b - (a > hv1 ? a : hv1), r->type };
	}
	g->regions[g->nregions++] = (struct mem_region){ hv0, hv1 - hv0, MEM_RESERVED };
	g->ram_top = 0;
	for (unsigned i = 0; i < g->nregions; i++)
		if (g->regions[i].type == MEM_USABLE && g->regions[i].base + g->regions[i].len > g->ram_top)
			g->ram_top = g->regions[i].base + g->regions[i].len;
}

static bool is_cacheable(uint32_t type)
{
	return type == MEM_USABLE || type == MEM_ACPI_RECLAIMABLE || type == MEM_ACPI_NVS;
}

/* Memory type of one page-aligned address: write-back for RAM the map
 * names, uncached for everything else (MMIO, holes). */
static unsigned memtype_at(uint64_t a)
{
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		const struct mem_region *r = &guest_mem.regions[i];
		if (a >= r->base && a < r->base + r->len && is_cacheable(r->type))
			return EPT_MT_WB;
	}
	return EPT_MT_UC;
}

/* The next address after a where the memory type may change. */
static uint64_t next_boundary(uint64_t a, uint64_t limit)
{
	uint64_t next = limit;
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		const struct mem_region *r = &guest_mem.regions[i];
		uint64_t s = r->base & ~(PAGE_SIZE - 1), e = (r->base + r->len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		if (s > a && s < next)
			next = s;
		if (e > a && e < next)
			next = e;
	}
	return next;
}

static int map_range(struct ept *e, uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end;) {
		uint64_t b = next_boundary(a, end);
		int rc = ept_map(e, a, a, b - a, EPT_RWX, memtype_at(a));
		if (rc)
			return rc;
		a = b;
	}
	return 0;
}

int guest_memory_init(struct vcpu *v, const struct boot_info *bi, uint64_t hv_start, uint64_t hv_end)
{
	static const struct ept_ops ops = { NULL, ept_alloc, ept_free, ept_virt };
	bool large_2m = vmx_caps.ept_vpid_cap & VMX_EPT_PAGE_2M;
	bool large_1g = vmx_caps.ept_vpid_cap & VMX_EPT_PAGE_1G;

	guest_mem.hv_start = hv_start;
	guest_mem.hv_end = hv_end;
	build_map(bi, hv_start, hv_end);

	int rc = ept_init(&v->ept, &ops, large_2m, large_1g);
	v->ept.exec_only = vmx_caps.ept_vpid_cap & VMX_EPT_EXECUTE_ONLY;
	if (!rc)
		rc = map_range(&v->ept, 0, hv_start);
	if (!rc)
		rc = map_range(&v->ept, hv_end, GPA_SPACE > guest_mem.ram_top ? GPA_SPACE : guest_mem.ram_top);
	if (rc) {
		log_error("ept: building the guest's EPT failed (%d)", rc);
		return rc;
	}
	v->eptp = ept_pointer(&v->ept, false);
	log_info("ept: guest memory identity-mapped, hypervisor region 0x%llx-0x%llx absent, EPTP 0x%llx",
		 (unsigned long long)hv_start, (unsigned long long)hv_end - 1, (unsigned long long)v->eptp);
	return 0;
}

bool guest_phys_reachable(uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;
	if (end < gpa || end > IDENTITY_MAP_LIMIT)
		return false;
	if (gpa < guest_mem.hv_end && end > guest_mem.hv_start)
		return false;
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		const struct mem_region *r = &guest_mem.regions[i];
		if (r->type == MEM_USABLE && gpa >= r->base && end <= r->base + r->len)
			return true;
	}
	return false;
}

void *guest_phys_ptr(uint64_t gpa, uint64_t len)
{
	return guest_phys_reachable(gpa, len) ? (void *)(uintptr_t)gpa : NULL;
}
