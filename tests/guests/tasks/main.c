/* main.c — the task-switch guest (issue 12 item 4): hardware task switching
 * with 32-bit TSSs (SDM Vol. 3A ch. 8).  The main task CALLs task A (which
 * returns with IRET), JMPs to task B (which JMPs back), raises INT 0x40 and
 * #GP through task gates in the IDT (tasks C and D; D gets #GP's error
 * code on its stack), three times each.  It prints what each task saw, the
 * TSS descriptors' types afterwards (busy flags) and CR0.TS, and a CRC-32
 * of it all, then powers off.  Under VMX every one of these switches is a
 * TASK_SWITCH exit that the hypervisor emulates.
 * Options: `paging` runs it all with 32-bit paging on, task A on a page
 * directory of its own (`pae`: PAE paging, task A on PDPTEs of its own
 * that map an alias it reads through); `faults` also JMPs to a not-present TSS (#NP with its selector)
 * and to one shorter than 104 bytes (#TS), caught and reported, then to
 * a task whose LDT selector is bad (#TS after the commit, through a task gate); `tss16` JMPs to a 16-bit TSS last (bare, a real
 * switch the guest does not survive; under vmxdbg a stop with the reason). */
#include "boot.h"
#include "cmdline.h"
#include "crc32.h"
#include "gdt.h"
#include "poweroff.h"
#include "print.h"
#include "tasks.h"
#include "trap.h"
#include "x86.h"

#define ROUNDS 3
#define EFLAGS_NT (1u << 14)
#define CR0_TS (1u << 3)
#define STACK_WORDS 1024

struct tss32 tss_main __attribute__((aligned(128)));
struct tss32 tss_x;
static struct tss32 tss_a, tss_b, tss_c, tss_d, tss_e;
static uint32_t stacks[6][STACK_WORDS] __attribute__((aligned(16)));
volatile uint32_t e_runs, e_error, x_recovered, a_cr3;
/* With `paging`: main and most tasks on pd[0], task A on pd[1].  With
 * `pae`: pd[0] is the one page directory, main on pdpt[0], task A on
 * pdpt[1], whose second PDPTE maps 1-2 GiB onto the first GiB as well. */
static uint32_t pd[2][1024] __attribute__((aligned(4096)));
static uint64_t pdpt[2][4] __attribute__((aligned(32)));
static uint32_t task_cr3, own_cr3;
#define PAE_ALIAS 0x40000000u
static volatile uint32_t pae_alias, a_alias_ok;
volatile uint32_t a_runs, a_value = 1, a_link, a_nt, b_runs, c_runs, c_link, d_runs, d_error;

static uint64_t gdt[13] __attribute__((aligned(8))) = {
	0,
	0x00cf9a000000ffffull,	/* 0x08: as common/gdt.c */
	0x00cf92000000ffffull,	/* 0x10 */
};

struct __attribute__((packed)) table_pointer {
	uint16_t limit;
	uint32_t base;
};

/* An available 32-bit TSS descriptor, DPL 0 (SDM Vol. 3A §8.2.2 Figure 8-3). */
static uint64_t tss_descriptor(const struct tss32 *t)
{
	uint64_t base = (uint32_t)t, limit = sizeof(*t) - 1;
	return (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 | ((limit >> 16) & 0xf) << 48 |
	       (base >> 24) << 56;
}

static uint32_t str(void)
{
	uint16_t tr;
	__asm__ volatile("str %0" : "=r"(tr));
	return tr;
}

static uint32_t eflags(void)
{
	uint32_t f;
	__asm__ volatile("pushfl; popl %0" : "=r"(f));
	return f;
}

void task_a(void)
{
	for (;;) {
		a_runs++;
		a_value = a_value * 31 + 7;
		a_link = tss_a.link;
		a_cr3 = read_cr3();
		/* Only task A's PDPTEs map the alias: stale ones would #PF. */
		if (pae_alias)
			a_alias_ok = *(volatile uint32_t *)(PAE_ALIAS + (uint32_t)&a_runs) == a_runs;
		a_nt = (eflags() & EFLAGS_NT) != 0;
		__asm__ volatile("iret" ::: "memory");	/* NT: back to the caller */
	}
}

void task_b(void)
{
	for (;;) {
		b_runs++;
		__asm__ volatile("ljmp %0, $0" : : "i"(SEL_TSS_MAIN) : "memory");
	}
}

void task_c(void)
{
	for (;;) {
		c_runs++;
		c_link = tss_c.link;
		__asm__ volatile("iret" ::: "memory");
	}
}

static void task_init(struct tss32 *t, void (*entry)(void), uint32_t *stack)
{
	t->eip = (uint32_t)entry;
	t->esp = (uint32_t)(stack + STACK_WORDS);
	t->eflags = 0x2;	/* interrupts off, as the main task runs */
	t->cs = 0x08;
	t->ss = t->ds = t->es = t->fs = t->gs = 0x10;
	t->iomap = sizeof(*t);	/* no I/O bitmap */
	t->cr3 = task_cr3;	/* the CPU loads it only with paging on (§8.3 step 11) */
}

/* 32-bit paging, 4 MiB pages identity-mapping the first GiB (SDM Vol. 3A
 * §4.3), twice: a task switch loads the new task's CR3 from its TSS.  PAE
 * (§4.4): 2 MiB pages, and the PDPTEs, which VM entry takes from the VMCS
 * under EPT (SDM Vol. 3C §27.3.2.4), differ between the two CR3s. */
static void paging_on(bool pae)
{
	if (pae) {
		uint64_t *dir = (uint64_t *)pd[0];
		for (unsigned i = 0; i < 512; i++)
			dir[i] = ((uint64_t)i << 21) | 0x83;	/* present, writable, 2 MiB */
		pdpt[0][0] = pdpt[1][0] = pdpt[1][1] = (uint32_t)dir | 1;
		task_cr3 = (uint32_t)pdpt[0];
		own_cr3 = (uint32_t)pdpt[1];
		pae_alias = 1;
		write_cr4(read_cr4() | CR4_PAE);
	} else {
		for (unsigned d = 0; d < 2; d++)
			for (unsigned i = 0; i < 256; i++)
				pd[d][i] = (i << 22) | 0x83;	/* present, writable, 4 MiB */
		task_cr3 = (uint32_t)pd[0];
		own_cr3 = (uint32_t)pd[1];
		write_cr4(read_cr4() | CR4_PSE);
	}
	tss_main.cr3 = task_cr3;
	write_cr3(task_cr3);
	write_cr0(read_cr0() | CR0_PG);
}

static uint64_t *idt_gates(void)
{
	struct table_pointer idt;
	__asm__ volatile("sidt %0" : "=m"(idt));
	return (uint64_t *)idt.base;
}

static void tables_init(void)
{
	gdt[SEL_TSS_MAIN >> 3] = tss_descriptor(&tss_main);
	gdt[SEL_TSS_CALL >> 3] = tss_descriptor(&tss_a);
	gdt[SEL_TSS_JMP >> 3] = tss_descriptor(&tss_b);
	gdt[SEL_TSS_INT >> 3] = tss_descriptor(&tss_c);
	gdt[SEL_TSS_GP >> 3] = tss_descriptor(&tss_d);
	task_init(&tss_a, task_a, stacks[0]);
	task_init(&tss_b, task_b, stacks[1]);
	task_init(&tss_c, task_c, stacks[2]);
	task_init(&tss_d, task_d_entry, stacks[3]);
	tss_main.iomap = sizeof(tss_main);
	gdt[SEL_TSS_ABSENT >> 3] = tss_descriptor(&tss_a) & ~(1ull << 47);
	gdt[SEL_TSS_SHORT >> 3] = (tss_descriptor(&tss_a) & ~0xffffull) | 0x40;
	gdt[SEL_TSS_X >> 3] = tss_descriptor(&tss_x);
	gdt[SEL_TSS_TS >> 3] = tss_descriptor(&tss_e);
	task_init(&tss_x, task_x_recover, stacks[4]);
	tss_x.ldt = GDT_DATA_SEL;	/* not an LDT: #TS(0x10) in task X */
	task_init(&tss_e, task_e_entry, stacks[5]);
	gdt[SEL_TSS16 >> 3] = (tss_descriptor(&tss_a) & ~(0xfull << 40)) | 1ull << 40;

	struct table_pointer g = { sizeof(gdt) - 1, (uint32_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(g) : "memory");
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS_MAIN) : "memory");
	/* Task gates (SDM Vol. 3A §6.11 Figure 6-2): type 5, present, DPL 0. */
	uint64_t *gates = idt_gates();
	gates[TASKS_INT_VECTOR] = (uint64_t)SEL_TSS_INT << 16 | 0x85ull << 40;
	gates[13] = (uint64_t)SEL_TSS_GP << 16 | 0x85ull << 40;
}

static unsigned tss_type(uint16_t sel)
{
	return (unsigned)(gdt[sel >> 3] >> 40) & 0xf;
}

static volatile uint32_t np_error, np_count, ts_error, ts_count;

static void on_np(struct trap_frame *f)
{
	np_error = f->error;
	np_count++;
	f->eip = (uint32_t)absent_resume;
}

static void on_ts(struct trap_frame *f)
{
	ts_error = f->error;
	ts_count++;
	f->eip = (uint32_t)short_resume;
}

static void fault_checks(void)
{
	trap_set_handler(11, on_np);
	jmp_to_absent_tss();
	kprintf("TASKS absent TSS: #NP %u time(s), error 0x%x, TR 0x%x\n", np_count, np_error, str());
	trap_set_handler(10, on_ts);
	jmp_to_short_tss();
	kprintf("TASKS short TSS: #TS %u time(s), error 0x%x, TR 0x%x, type 0x%x\n", ts_count, ts_error, str(),
		tss_type(SEL_TSS_SHORT));
	/* Then #TS through a task gate, raised in the new task after the commit. */
	uint64_t *gates = idt_gates();
	gates[10] = (uint64_t)SEL_TSS_TS << 16 | 0x85ull << 40;
	__asm__ volatile("ljmp %0, $0" : : "i"(SEL_TSS_X) : "memory");
	kprintf("TASKS late #TS: task E ran %u time(s), error 0x%x; task X recovered %u time(s); TR 0x%x; "
		"types X 0x%x E 0x%x\n", e_runs, e_error, x_recovered, str(), tss_type(SEL_TSS_X),
		tss_type(SEL_TSS_TS));
}


void guest_main(void)
{
	bool pae = cmdline_has("pae"), paging = pae || cmdline_has("paging");
	if (paging)
		paging_on(pae);
	tables_init();
	if (paging)
		tss_a.cr3 = own_cr3;
	kprintf("TASKS start: TR 0x%x, 4 tasks, %u rounds\n", SEL_TSS_MAIN, ROUNDS);
	for (unsigned i = 0; i < ROUNDS; i++) {
		__asm__ volatile("lcall %0, $0" : : "i"(SEL_TSS_CALL) : "memory");
		__asm__ volatile("ljmp %0, $0" : : "i"(SEL_TSS_JMP) : "memory");
		__asm__ volatile("int %0" : : "i"(TASKS_INT_VECTOR) : "memory");
		gp_fault_and_resume();
	}
	uint32_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("clts");
	uint32_t main_nt = (eflags() & EFLAGS_NT) != 0;
	uint32_t ts = (cr0 & CR0_TS) != 0;
	uint32_t busy[5] = { tss_type(SEL_TSS_MAIN), tss_type(SEL_TSS_CALL), tss_type(SEL_TSS_JMP),
			     tss_type(SEL_TSS_INT), tss_type(SEL_TSS_GP) };
	kprintf("TASKS call: task A ran %u times, value 0x%x, link 0x%x, NT %u\n", a_runs, a_value, a_link, a_nt);
	kprintf("TASKS jmp: task B ran %u times\n", b_runs);
	kprintf("TASKS int 0x%x gate: task C ran %u times, link 0x%x\n", TASKS_INT_VECTOR, c_runs, c_link);
	kprintf("TASKS #GP gate: task D ran %u times, error 0x%x\n", d_runs, d_error);
	kprintf("TASKS main: NT %u, CR0.TS %u\n", main_nt, ts);
	kprintf("TASKS types: main 0x%x A 0x%x B 0x%x C 0x%x D 0x%x\n", busy[0], busy[1], busy[2], busy[3], busy[4]);
	uint32_t sum[] = { a_runs, a_value, a_link, a_nt, b_runs, c_runs, c_link, d_runs, d_error, main_nt, ts,
			   busy[0], busy[1], busy[2], busy[3], busy[4] };
	kprintf("TASKS checksum: 0x%08x\n", crc32(sum, sizeof(sum)));
	if (paging)
		kprintf("TASKS paging: task A on its own CR3 %u, main back on its own %u\n", a_cr3 == own_cr3,
			read_cr3() == task_cr3);
	if (pae)
		kprintf("TASKS pae: task A read through its own PDPTE %u\n", a_alias_ok);
	if (cmdline_has("faults"))
		fault_checks();
	if (cmdline_has("tss16")) {
		kprintf("TASKS tss16: JMP to 0x%x\n", SEL_TSS16);
		__asm__ volatile("ljmp %0, $0" : : "i"(SEL_TSS16) : "memory");
		kprintf("TASKS tss16: came back\n");
	}
	kprintf("TASKS done\n");
}

void guest_unexpected_trap(const struct trap_frame *f)
{
	kprintf("TASKS unexpected trap: %s (vector %u) error=0x%x eip=0x%x\n", trap_name(f->vector), f->vector,
		f->error, f->eip);
	poweroff(1);
}
