/* trap.c — IDT setup and the exception report.  A fault in VMX root is a
 * hypervisor bug: report everything that helps find it, then stop. */
#include "trap.h"

#include "lapic.h"
#include "msr_probe.h"

#include "cpu.h"
#include "gdt.h"
#include "log.h"
#include "power.h"

struct __attribute__((packed)) idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

struct __attribute__((packed)) idt_ptr {
	uint16_t limit;
	uint64_t base;
};

extern uint8_t isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static int trap_depth;
static trap_pf_fixup pf_fixup;

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved (15)", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization exception",
	"#CP control protection", "reserved (22)", "reserved (23)", "reserved (24)",
	"reserved (25)", "reserved (26)", "reserved (27)", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved (31)",
};

void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t addr = (uint64_t)(uintptr_t)(isr_stubs + 16 * v);
		uint8_t ist = v == 2 ? IST_NMI : v == 8 ? IST_DF : v == 18 ? IST_MC : v == 14 ? IST_PF : 0;
		idt[v] = (struct idt_gate){
			.offset_lo = addr & 0xffff,
			.selector = SEL_CODE64,
			.ist = ist,
			.type_attr = 0x8e,	/* present, DPL 0, 64-bit interrupt gate */
			.offset_mid = addr >> 16 & 0xffff,
			.offset_hi = addr >> 32,
		};
	}
	struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p));
}

uint64_t idt_base(void) { return (uint64_t)(uintptr_t)idt; }

void print_backtrace(uint64_t rip, uint64_t rbp)
{
	log_raw("backtrace:\n  #0 0x%016llx\n", (unsigned long long)rip);
	for (int i = 1; i < 16 && rbp && !(rbp & 7) && on_known_stack(rbp) && on_known_stack(rbp + 8); i++) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		if (!frame[1])
			break;
		log_raw("  #%d 0x%016llx\n", i, (unsigned long long)frame[1]);
		if (frame[0] <= rbp)	/* frames must climb the stack */
			break;
		rbp = frame[0];
	}
}

static void report(const struct trap_frame *f)
{
	const char *name = f->vector < 32 ? exception_names[f->vector] : "external interrupt";
	log_raw("EXCEPTION: %s (vector %llu), error code 0x%llx\n", name,
		(unsigned long long)f->vector, (unsigned long long)f->error);
	log_raw("  RIP=0x%016llx CS=0x%llx RFLAGS=0x%016llx\n", (unsigned long long)f->rip,
		(unsigned long long)f->cs, (unsigned long long)f->rflags);
	log_raw("  RSP=0x%016llx SS=0x%llx\n", (unsigned long long)f->rsp, (unsigned long long)f->ss);
	log_raw("  CR0=0x%016llx CR2=0x%016llx CR3=0x%016llx CR4=0x%016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	log_raw("  RAX=0x%016llx RBX=0x%016llx RCX=0x%016llx RDX=0x%016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_raw("  RSI=0x%016llx RDI=0x%016llx RBP=0x%016llx R8 =0x%016llx\n",
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_raw("  R9 =0x%016llx R10=0x%016llx R11=0x%016llx R12=0x%016llx\n",
		(unsigned long long)f->r9, (unsigned long long)f->r10,
		(unsigned long long)f->r11, (unsigned long long)f->r12);
	log_raw("  R13=0x%016llx R14=0x%016llx R15=0x%016llx\n",
		(unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
	if (f->vector == 14)
		log_raw("  #PF: %s access, page %s, %s mode%s\n", f->error & 2 ? "write" : "read",
			f->error & 1 ? "present (protection)" : "not present",
			f->error & 4 ? "user" : "supervisor", f->error & 16 ? ", instruction fetch" : "");
	print_backtrace(f->rip, f->rbp);
}

void trap_set_pf_fixup(trap_pf_fixup fn)
{
	pf_fixup = fn;
}

void trap_dispatch(struct trap_frame *f)
{
	/* CR2 holds the linear address that faulted (SDM Vol. 3A §7.15, #PF). */
	if (f->vector == 14 && !trap_depth && pf_fixup && pf_fixup(f, read_cr2()))
		return;	/* isr.S returns into the frame as the fixup rewrote it */
	if (f->vector == 13 && !trap_depth && msr_probe_catch(f))
		return;	/* an MSR the processor lacks: the probe says so */
	if (f->vector == 2) {
		/* An NMI in root mode is another processor's call (hv/vcpu_kick.c):
		 * whoever waits for one looks at its requests again. */
		cpu_wait_nmi_fixup(f);
		return;
	}
	if (trap_depth++) {
		/* A fault while reporting a fault: say the least and stop. */
		log_raw("EXCEPTION: nested vector %llu at RIP=0x%llx while reporting; stopping\n",
			(unsigned long long)f->vector, (unsigned long long)f->rip);
		platform_stop();
	}
	report(f);
	platform_stop();
}
