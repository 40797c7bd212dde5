/* smp.c — the BSP starts each AP of the MADT in turn (SDM Vol. 3A §9.4.4.1
 * "Typical BSP Initialization Sequence": INIT IPI, 10 ms, start-up IPI,
 * 200 µs, a second start-up IPI when the first found no answer).  Each AP
 * enters smp_trampoline.S at the SIPI vector's page, reaches ap_entry in
 * long mode, and reports its stages through shared variables: the BSP does
 * all the logging, so two CPUs never write the console at once. */
#include "smp.h"

#include "acpi.h"
#include "acpi_madt.h"
#include "cpu.h"
#include "cpu_init.h"
#include "errno.h"
#include "gdt.h"
#include "kstring.h"
#include "log.h"
#include "memory.h"
#include "page_guard.h"
#include "percpu.h"
#include "smp_low_page.h"
#include "trap.h"

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_X2APIC (1ull << 10)	/* EXTD (SDM Vol. 3A §12.12.1) */
#define APIC_BASE_ADDRESS 0xfffff000ull	/* bits 31:12: boot.S maps 4 GiB */
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_ICR 0x830
#define XAPIC_ID 0x20
#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310
#define ICR_DELIVERY_PENDING (1u << 12)
/* SDM Vol. 3A §12.6.1 "Interrupt Command Register (ICR)": delivery mode
 * INIT (101b) or Start-Up (110b), level assert, physical destination. */
#define ICR_INIT 0x00004500u
#define ICR_STARTUP 0x00004600u

/* Delays in TSC ticks: at least the SDM's 10 ms and 200 µs up to a 1 GHz
 * TSC (under Bochs with clock sync=none the TSC counts instructions). */
#define INIT_DELAY_TICKS 10000000ull
#define SIPI_DELAY_TICKS 200000ull
/* An AP reaches VMX root in ≈ 0.1 M ticks under Bochs: one that has not
 * after 2000 times that is reported and left alone. */
#define AP_TIMEOUT_TICKS 200000000ull

#define AP_STACK_PAGES 4	/* 16 KiB: the AP's root-mode life until its first VM entry (hv/vcpu_ap.c) */

struct __attribute__((packed)) smp_trampoline_params {
	uint64_t gdt[4];
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint32_t far32_offset;
	uint16_t far32_selector;
	uint32_t far64_offset;
	uint16_t far64_selector;
	uint32_t cr3;
	uint64_t stack;
	uint64_t entry;
	uint32_t cpu;
	uint8_t started;
};

extern const uint8_t smp_trampoline_start[], smp_trampoline_params[], smp_trampoline_end[];
extern uint8_t boot_pml4[];

_Static_assert(MADT_MAX_CPUS <= PERCPU_MAX, "a per-CPU block for every CPU the MADT may list");

enum ap_stage { AP_WAITING, AP_LONG_MODE, AP_DONE };

/* What the AP being started reads and writes (one AP at a time). */
static struct {
	void *tables;
	uint8_t *ist;
	smp_ap_fn fn;
	smp_ap_main_fn then;
	void *ctx;
	const char *done_stage;
	volatile enum ap_stage stage;
	volatile int rc;
} ap;

static struct madt_info madt;
static uint32_t apic_ids[PERCPU_MAX];
static bool x2apic;
static uint64_t lapic_base;

static __attribute__((noreturn)) void ap_entry(uint32_t cpu_index)
{
	gdt_init_ap(ap.tables, ap.ist);
	idt_init();	/* rewrites the shared IDT with the same gates, then loads it */
	cpu_init();
	percpu_init(cpu_index);
	ap.stage = AP_LONG_MODE;
	int rc = ap.rc = ap.fn(cpu_index, ap.ctx);
	smp_ap_main_fn then = ap.then;
	__atomic_store_n(&ap.stage, AP_DONE, __ATOMIC_RELEASE);
	if (!rc && then)
		then(cpu_index);
	for (;;) {
		cli();
		hlt();
	}
}

static uint32_t own_apic_id(void)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_ID);
	return *(volatile uint32_t *)(uintptr_t)(lapic_base + XAPIC_ID) >> 24;
}

static void tsc_wait(uint64_t ticks)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < ticks)
		pause();
}

/* Writes the ICR (SDM Vol. 3A §12.6.1); false when the xAPIC never
 * reported the IPI sent. */
static bool send_ipi(uint32_t apic_id, uint32_t low)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)apic_id << 32 | low);
		return true;
	}
	volatile uint32_t *hi = (volatile uint32_t *)(uintptr_t)(lapic_base + XAPIC_ICR_HIGH);
	volatile uint32_t *lo = (volatile uint32_t *)(uintptr_t)(lapic_base + XAPIC_ICR_LOW);
	*hi = apic_id << 24;
	*lo = low;
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < SIPI_DELAY_TICKS;)
		if (!(*lo & ICR_DELIVERY_PENDING))
			return true;
	return false;
}

static bool wait_started(volatile const uint8_t *started, uint64_t ticks)
{
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < ticks; pause())
		if (*started)
			return true;
	return false;
}

static bool wait_stage(enum ap_stage stage, uint64_t ticks)
{
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < ticks; pause())
		if (__atomic_load_n(&ap.stage, __ATOMIC_ACQUIRE) >= stage)
			return true;
	return false;
}

/* INIT-SIPI-SIPI to one AP and its stages; true when fn returned 0. */
static bool start_ap(uint32_t apic_id, unsigned cpu_index, uint64_t page)
{
	struct smp_trampoline_params *tp =
		(void *)(uintptr_t)(page + (uint64_t)(smp_trampoline_params - smp_trampoline_start));
	/* Tables, IST stacks, a guard page, the stack on top. */
	uint64_t ist_pages = GDT_IST_BYTES / PAGE_SIZE;
	uint64_t pages = 1 + ist_pages + 1 + AP_STACK_PAGES;
	uint64_t mem = pmm_alloc_contig(&phys_pages, pages, PAGE_SIZE);
	int rc = mem ? page_guard(mem + (1 + ist_pages) * PAGE_SIZE) : -ENOMEM;
	if (rc) {
		log_warn("cpu %u: no memory for its stacks (%d); APIC id %u is left alone", cpu_index, rc, apic_id);
		return false;
	}
	memset((void *)(uintptr_t)mem, 0, (1 + ist_pages) * PAGE_SIZE);
	ap.tables = (void *)(uintptr_t)mem;
	ap.ist = (uint8_t *)(uintptr_t)(mem + PAGE_SIZE);
	ap.stage = AP_WAITING;
	ap.rc = 0;
	tp->stack = mem + pages * PAGE_SIZE;
	tp->cpu = cpu_index;
	tp->started = 0;

	uint8_t vector = (uint8_t)(page >> 12);
	bool sent = send_ipi(apic_id, ICR_INIT);
	tsc_wait(INIT_DELAY_TICKS);
	sent &= send_ipi(apic_id, ICR_STARTUP | vector);
	if (!wait_started(&tp->started, SIPI_DELAY_TICKS)) {
		sent &= send_ipi(apic_id, ICR_STARTUP | vector);
		wait_started(&tp->started, AP_TIMEOUT_TICKS);
	}
	if (!tp->started) {
		log_warn("cpu %u: APIC id %u did not answer INIT-SIPI-SIPI%s; left alone, outside VMX",
			 cpu_index, apic_id, sent ? "" : " (the IPI stayed pending)");
		return false;
	}
	log_debug("cpu %u: started (SIPI vector 0x%x, APIC id %u)", cpu_index, vector, apic_id);
	if (!wait_stage(AP_LONG_MODE, AP_TIMEOUT_TICKS)) {
		log_warn("cpu %u: never reached long mode; left alone, outside VMX", cpu_index);
		return false;
	}
	log_debug("cpu %u: long mode", cpu_index);
	if (!wait_stage(AP_DONE, AP_TIMEOUT_TICKS)) {
		log_warn("cpu %u: did not finish its start-up; left alone", cpu_index);
		return false;
	}
	if (ap.rc) {
		log_warn("cpu %u: start-up failed (%d); parked (cli; hlt) outside VMX", cpu_index, ap.rc);
		return false;
	}
	log_debug("cpu %u: %s%s", cpu_index, ap.done_stage, ap.then ? "" : ", parked");
	return true;
}

static void report_madt(void)
{
	if (madt.malformed || madt.truncated)
		log_warn("cpus: the MADT has %u malformed entr%s%s", madt.malformed, madt.malformed == 1 ? "y" : "ies",
			 madt.truncated ? " and ends inside an entry" : "");
	if (madt.duplicates)
		log_warn("cpus: the MADT lists %u APIC id(s) twice; each is started once", madt.duplicates);
	if (madt.overflow)
		log_warn("cpus: %u processors beyond the first %u are left alone", madt.overflow, MADT_MAX_CPUS);
	if (madt.online_capable)
		log_debug("cpus: %u online-capable processor(s) not present at boot", madt.online_capable);
}

uint32_t smp_apic_id(unsigned cpu_index)
{
	return cpu_index < PERCPU_MAX ? apic_ids[cpu_index] : 0;
}

unsigned smp_start_aps(const struct boot_info *bi, smp_ap_fn fn, void *ctx, const char *done_stage,
		       smp_ap_main_fn then, unsigned *found)
{
	const void *t = acpi_find_table("APIC");
	*found = 0;
	if (!t || madt_parse(t, &madt)) {
		log_warn("cpus: no usable MADT; APs, if any, are left alone");
		return 0;
	}
	report_madt();
	/* The CPU's own register is the truth about its APIC (SDM Vol. 3A
	 * §12.4.4); the MADT's copy is only compared. */
	uint64_t apic_base = rdmsr(MSR_IA32_APIC_BASE);
	x2apic = apic_base & APIC_BASE_X2APIC;
	lapic_base = apic_base & APIC_BASE_ADDRESS;
	if (!x2apic && madt.lapic_addr != lapic_base)
		log_warn("cpus: the MADT puts the local APIC at 0x%x, IA32_APIC_BASE at 0x%llx; using the latter",
			 madt.lapic_addr, (unsigned long long)lapic_base);
	uint32_t bsp = own_apic_id();
	apic_ids[0] = bsp;

	uint64_t page = madt.ncpus > 1 ? smp_low_page(bi) : 0;
	if (madt.ncpus > 1 && !page)
		log_warn("cpus: no free page below 640 KiB for the AP trampoline; APs left alone");
	if (page) {
		uint64_t size = (uint64_t)(smp_trampoline_end - smp_trampoline_start);
		memcpy((void *)(uintptr_t)page, smp_trampoline_start, size);
		struct smp_trampoline_params *tp =
			(void *)(uintptr_t)(page + (uint64_t)(smp_trampoline_params - smp_trampoline_start));
		tp->gdt_base += (uint32_t)page;
		tp->far32_offset += (uint32_t)page;
		tp->far64_offset += (uint32_t)page;
		tp->cr3 = (uint32_t)(uintptr_t)boot_pml4;
		tp->entry = (uint64_t)(uintptr_t)ap_entry;
		ap.fn = fn;
		ap.then = then;
		ap.ctx = ctx;
		ap.done_stage = done_stage;
	}

	unsigned index = 1, parked = 0;
	for (unsigned i = 0; page && i < madt.ncpus; i++) {
		uint32_t id = madt.cpus[i].apic_id;
		if (id == bsp)
			continue;
		if (!x2apic && id > 0xfe)
			log_warn("cpus: APIC id %u needs x2APIC mode; left alone", id);
		else {
			apic_ids[index] = id;
			if (start_ap(id, index, page))
				parked++;
		}
		index++;
	}
	if (page) {
		/* The guest may own the page from here.  An AP that answers late
		 * finds cli; hlt; jmp $-1 instead of the trampoline. */
		static const uint8_t halt[4] = { 0xfa, 0xf4, 0xeb, 0xfd };
		memset((void *)(uintptr_t)page, 0, PAGE_SIZE);
		memcpy((void *)(uintptr_t)page, halt, sizeof(halt));
	}
	*found = madt.ncpus;
	return parked;
}
