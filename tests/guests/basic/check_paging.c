/* check_paging.c — 32-bit paging on and off again (SDM Vol. 3A §5.3
 * "32-Bit Paging"): one page table identity-maps the first 4 MiB except a
 * not-present "hole" page and a read-only page; with CR4.PSE a 4 MiB page
 * at 1 GiB aliases physical 0.  Checks #PF delivery and its error code
 * (§5.7 "Page-Fault Exceptions"), CR0.WP, the A/D bits the CPU writes into
 * our tables (under EPT these are guest-physical writes the hypervisor
 * must allow), and turning paging off. */
#include "checks.h"
#include "probe.h"
#include "report.h"
#include "x86.h"

#define PAGE_SIZE	4096u
#define PTE_P		(1u << 0)
#define PTE_RW		(1u << 1)
#define PTE_A		(1u << 5)
#define PTE_D		(1u << 6)
#define PDE_PS		(1u << 7)
#define PF_ERR_P	(1u << 0)	/* the page was present: a protection fault */
#define PF_ERR_W	(1u << 1)	/* the access was a write */
#define ALIAS_BASE	0x40000000u	/* 4 MiB page -> physical 0 */

static uint32_t page_directory[1024] __attribute__((aligned(PAGE_SIZE)));
static uint32_t page_table[1024] __attribute__((aligned(PAGE_SIZE)));
static volatile uint8_t hole_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile uint8_t readonly_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t alias_canary = 0x600dcafe;

static uint32_t *pte_of(volatile void *p)
{
	return &page_table[((uint32_t)p >> 12) & 1023];
}

static void build_tables(bool pse)
{
	for (uint32_t i = 0; i < 1024; i++)
		page_table[i] = (i * PAGE_SIZE) | PTE_P | PTE_RW;
	*pte_of(hole_page) = 0;
	*pte_of(readonly_page) = (uint32_t)readonly_page | PTE_P;
	for (uint32_t i = 0; i < 1024; i++)
		page_directory[i] = 0;
	page_directory[0] = (uint32_t)page_table | PTE_P | PTE_RW;
	if (pse)
		page_directory[ALIAS_BASE >> 22] = 0 | PTE_P | PTE_RW | PDE_PS;
}

static void check_alias(bool pse)
{
	if (!pse) {
		report_info("paging-pse-alias", "CPUID.1:EDX.PSE=0, no 4 MiB page to try");
		return;
	}
	volatile uint32_t *alias = (volatile uint32_t *)(ALIAS_BASE + (uint32_t)&alias_canary);
	uint32_t before = *alias;
	*alias = 0x0badf00d;
	uint32_t direct = alias_canary;
	alias_canary = 0x600dcafe;
	report_expect("paging-pse-alias", before == 0x600dcafe && direct == 0x0badf00d,
		      "through the alias read 0x%x (want 0x600dcafe); a write there showed 0x%x directly",
		      before, direct);
}

/* A read and a write of the hole: not-present faults, CR2 = the address. */
static void check_page_fault(void)
{
	uint32_t addr = (uint32_t)hole_page + 0x10, v;
	probe_read32(addr, &v);
	struct probe_result rd = probe_result;
	probe_write32(addr, 1);
	struct probe_result wr = probe_result;
	bool ok = rd.vector == VEC_PF && rd.error == 0 && rd.cr2 == addr && rd.eip == rd.insn &&
		  wr.vector == VEC_PF && wr.error == PF_ERR_W && wr.cr2 == addr && wr.eip == wr.insn;
	report_expect("exc-pf", ok,
		      "read: vector %d error 0x%x cr2 0x%x; write: vector %d error 0x%x cr2 0x%x; want 14, 0x0/0x2, cr2 0x%x",
		      rd.vector, rd.error, rd.cr2, wr.vector, wr.error, wr.cr2, addr);
}

/* Supervisor writes ignore R/W = 0 unless CR0.WP = 1 (SDM Vol. 3A §5.6.1). */
static void check_write_protect(void)
{
	uint32_t addr = (uint32_t)readonly_page, cr0 = read_cr0();
	write_cr0(cr0 & ~CR0_WP);
	int wp0 = probe_write32(addr, 0x11111111);
	write_cr0(cr0 | CR0_WP);
	int wp1 = probe_write32(addr, 0x22222222);
	struct probe_result r = probe_result;
	write_cr0(cr0);
	report_expect("cr0-wp-protect",
		      wp0 == PROBE_NONE && wp1 == VEC_PF && r.error == (PF_ERR_P | PF_ERR_W) && r.cr2 == addr &&
		      *(volatile uint32_t *)addr == 0x11111111,
		      "write with WP=0 gave vector %d, with WP=1 vector %d error 0x%x cr2 0x%x (want -1, 14, 0x3, 0x%x)",
		      wp0, wp1, r.error, r.cr2, addr);
}

/* The CPU sets A on any access through an entry and D on a write (§5.8). */
static void check_accessed_dirty(void)
{
	uint32_t pde = page_directory[0], pte = *pte_of(readonly_page);
	report_expect("paging-accessed-dirty", (pde & PTE_A) && (pte & PTE_A) && (pte & PTE_D),
		      "PDE 0x%08x, read-only page's PTE 0x%08x: want A set in both, D in the PTE", pde, pte);
}

void check_paging(void)
{
	bool pse = cpuid(1, 0).edx & (1u << 3);
	uint32_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4();

	build_tables(pse);
	write_cr3((uint32_t)page_directory);
	if (pse)
		write_cr4(cr4 | CR4_PSE);
	write_cr0(cr0 | CR0_PG);
	uint32_t on = read_cr0();
	report_expect("paging-enable", (on & CR0_PG) && read_cr3() == (uint32_t)page_directory,
		      "CR0=0x%08x CR3=0x%08x after enabling", on, read_cr3());

	check_alias(pse);
	check_page_fault();
	check_write_protect();
	check_accessed_dirty();

	write_cr0(cr0 & ~CR0_PG);
	uint32_t off = read_cr0();
	write_cr4(cr4);
	write_cr3(cr3);
	uint32_t v;
	int fault = probe_read32((uint32_t)hole_page, &v);
	report_expect("paging-disable", !(off & CR0_PG) && fault == PROBE_NONE,
		      "CR0=0x%08x after disabling; reading the hole page gave vector %d", off, fault);
}
