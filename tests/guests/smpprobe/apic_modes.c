/* apic_modes.c — the probe's extra modes: the x2APIC sender, IPIs a
 * hypervisor must survive, and the price of one APIC access. */
#include "print.h"
#include "probe.h"
#include "trap.h"
#include "smpprobe.h"
#include "x86.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1u << 10)
#define MSR_X2APIC_ICR 0x830
#define CPUID_1_ECX_X2APIC (1u << 21)
#define APIC_REG(off) ((volatile uint32_t *)(0xfee00000u + (off)))
#define APIC_ID 0x20
#define APIC_TPR 0x80
#define STORM_IPIS 10000
#define COST_ROUNDS 1000

bool x2apic_enable(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC)) {
		kprintf("SMPPROBE x2apic: CPUID has no x2APIC\n");
		return false;
	}
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
	kprintf("SMPPROBE x2apic: on (IA32_APIC_BASE 0x%x)\n", (uint32_t)rdmsr(MSR_APIC_BASE));
	return true;
}

/* SDM Vol. 3A §12.12.9: one WRMSR; there is no delivery status to wait for. */
void x2apic_send(uint32_t apic_id, uint32_t low)
{
	wrmsr(MSR_X2APIC_ICR, (uint64_t)apic_id << 32 | low);
}

/* Run only under vmxdbg: bare, the INIT to itself would reset this CPU. */
void apic_hostile(void)
{
	uint32_t self = *APIC_REG(APIC_ID) >> 24;

	kprintf("SMPPROBE hostile: SIPI to APIC id 7, which no CPU has\n");
	xapic_send(7, ICR_STARTUP | 0x08);
	kprintf("SMPPROBE hostile: INIT to itself (APIC id %u)\n", self);
	xapic_send(self, ICR_INIT);
	kprintf("SMPPROBE hostile: INIT with a logical destination\n");
	xapic_send(1, ICR_INIT | ICR_LOGICAL);
	/* Both raise #GP on a CPU (SDM Vol. 3A §12.4.4, §12.12.1): vector 13. */
	int v = probe_wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 9));
	kprintf("SMPPROBE hostile: IA32_APIC_BASE with reserved bit 9 set: vector %d\n", v);
	v = probe_wrmsr(MSR_X2APIC_ICR, ICR_INIT | 1ull << 32);
	kprintf("SMPPROBE hostile: x2APIC ICR written in xAPIC mode: vector %d\n", v);
	kprintf("SMPPROBE hostile: %u fixed IPIs to itself, vector 0xf0, interrupts off\n", STORM_IPIS);
	cli();
	for (unsigned i = 0; i < STORM_IPIS; i++)
		xapic_send(0, ICR_FIXED | ICR_TO_SELF | 0xf0);
	kprintf("SMPPROBE hostile: survived\n");
}

/* Per access, in 32 bits (no 64-bit division here: no libgcc).  TPR
 * writes of 0 change nothing; each is a store gcc compiles to
 * movl $0, 0xfee00080 (C7 05). */
void apic_cost(void)
{
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < COST_ROUNDS; i++)
		*APIC_REG(APIC_TPR) = 0;
	uint64_t t1 = rdtsc();
	uint32_t sum = 0;
	for (unsigned i = 0; i < COST_ROUNDS; i++)
		sum += *APIC_REG(APIC_TPR);
	uint64_t t2 = rdtsc();
	kprintf("SMPPROBE apic cost: write %u ticks, read %u ticks (%u rounds, tpr %u)\n",
		(uint32_t)(t1 - t0) / COST_ROUNDS, (uint32_t)(t2 - t1) / COST_ROUNDS, COST_ROUNDS, sum);
}

/* apic=tf: an APIC store single-stepped by the guest's own RFLAGS.TF.  The
 * store is emulated under vmxdbg, so the step's #DB (a trap, after the
 * instruction: SDM Vol. 3A §18.3.1.4) is the hypervisor's to deliver. */
#define EFLAGS_TF (1u << 8)
#define VEC_DB 1
static volatile uint32_t db_eips[4];
static volatile unsigned db_count;

static void db_handler(struct trap_frame *f)
{
	if (db_count < 4)
		db_eips[db_count] = f->eip;
	if (++db_count >= 2)
		f->eflags &= ~EFLAGS_TF;
}

void apic_tf(void)
{
	uint32_t store, after;
	trap_set_handler(VEC_DB, db_handler);
	/* POPF's TF traps after the instruction that follows it (§18.3.1.4). */
	__asm__ volatile("pushfl\n\torl %2, (%%esp)\n\tpopfl\n"
			 "1:\tmovl $0, 0xfee00080\n"
			 "2:\tnop\n\t"
			 "movl $1b, %0\n\tmovl $2b, %1"
			 : "=r"(store), "=r"(after) : "i"(EFLAGS_TF) : "memory", "cc");
	kprintf("SMPPROBE tf: %u #DB traps, at store+%u and store+%u\n", db_count, db_eips[0] - store,
		db_eips[1] - store);
}

/* apic=narrow: a byte store to the APIC page, which the decoder refuses
 * (APIC registers take 32-bit writes): vmxdbg stops the guest, saying so. */
void apic_narrow(void)
{
	kprintf("SMPPROBE narrow: a byte store to the TPR\n");
	*(volatile uint8_t *)APIC_REG(APIC_TPR) = 0;
	kprintf("SMPPROBE narrow: went on\n");
}
