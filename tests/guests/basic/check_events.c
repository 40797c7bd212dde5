/* check_events.c — events as the hardware delivers them, whoever raised
 * them.  Each check also passes bare, so a difference under vmxdbg is the
 * hypervisor's:
 * - events-ud-rf: VMCALL outside VMX operation is #UD, a fault, and the
 *   EFLAGS image of every fault but an instruction breakpoint has RF set
 *   (SDM Vol. 3A §18.3.1.1).  Under vmxdbg VMCALL exits and the #UD is
 *   injected, so the hypervisor must set RF itself (SDM Vol. 3C §27.6.1.1:
 *   VM entry does not).
 * - events-hlt-tf: `sti; hlt` single-stepped.  The step's #DB is a trap
 *   after HLT, so the #DB handler sees EIP just past HLT, once.  Under
 *   vmxdbg HLT exits; the hypervisor must deliver the pending #DB (book
 *   §4.13.3), not halt with it pending.
 * - events-port-f4: port 0xf4 is QEMU's isa-debug-exit when configured;
 *   elsewhere (Bochs, hardware) a write there reaches no device and the
 *   guest runs on.  Skipped under QEMU, where it would end the run.
 * QEMU's TCG departs from the SDM in the first two (no RF in a fault's
 * image; the step trap of HLT comes one instruction late): skipped there. */
#include "checks.h"
#include "cmdline.h"
#include "pic_pit.h"
#include "probe.h"
#include "qemu_tcg.h"
#include "report.h"
#include "trap.h"
#include "x86.h"

#define VEC_DB		1
#define EFLAGS_TF	(1u << 8)
#define EFLAGS_RF	(1u << 16)
#define PORT_QEMU_DEBUG_EXIT 0xf4
#define TIMER_HZ	1000

static void check_injected_fault_sets_rf(void)
{
	probe_begin();
	__asm__ volatile(PROBE_ASM("vmcall") : : : "memory");
	int vector = probe_end();
	report_expect("events-ud-rf", vector == VEC_UD && (probe_result.eflags & EFLAGS_RF),
		      "vector %d, saved eflags 0x%x (want #UD with RF, bit 16)", vector, probe_result.eflags);
}

static volatile uint32_t step_eip, step_hits, timer_ticks;
extern const char after_stepped_hlt[];

static void single_step_handler(struct trap_frame *f)
{
	if (step_hits++ == 0)
		step_eip = f->eip;
	f->eflags &= ~EFLAGS_TF;
}

static void timer_handler(struct trap_frame *f)
{
	timer_ticks++;
	pic_eoi((uint8_t)(f->vector - PIC_VECTOR_BASE));
}

/* Bare, the processor halts and the step's #DB waits for the wake-up: the
 * PIT ticks so the HLT ends either way — unless the command line says
 * `hlt-tf-alone`, where only a #DB delivered before the halt (vmxdbg's
 * promise) lets the guest go on.  Single-step traps outrank external
 * interrupts (SDM Vol. 3A Table 6-2), so the first #DB sees EIP just past
 * HLT whichever ends the halt. */
static void check_stepped_hlt_takes_the_debug_trap(void)
{
	trap_set_handler(VEC_DB, single_step_handler);
	trap_set_handler(PIC_VECTOR_BASE, timer_handler);
	pic_init();
	pit_start(TIMER_HZ);
	if (!cmdline_has("hlt-tf-alone"))
		pic_unmask_only(0);
	step_hits = timer_ticks = 0;
	step_eip = 0;
	/* A POPF that sets TF traps after the instruction that follows it
	 * (SDM Vol. 3A §18.3.1.4): here, after HLT. */
	__asm__ volatile("sti\n\t"
			 "pushfl\n\t"
			 "orl %0, (%%esp)\n\t"
			 "popfl\n\t"
			 "hlt\n\t"
			 ".globl after_stepped_hlt\n"
			 "after_stepped_hlt:\n\t"
			 "cli"
			 : : "i"(EFLAGS_TF) : "memory", "cc");
	pic_mask_all();
	trap_set_handler(VEC_DB, 0);
	trap_set_handler(PIC_VECTOR_BASE, 0);
	report_expect("events-hlt-tf", step_hits == 1 && step_eip == (uint32_t)after_stepped_hlt,
		      "%u #DB, first at eip 0x%x (after hlt: 0x%x), %u timer ticks", step_hits, step_eip,
		      (uint32_t)after_stepped_hlt, timer_ticks);
}

static void check_port_f4_is_no_device_here(void)
{
	outb(PORT_QEMU_DEBUG_EXIT, 0x41);
	report_expect("events-port-f4", true, "still running after a write to port 0xf4");
}

void check_events(void)
{
	if (running_under_qemu_tcg()) {
		report_skip("events-ud-rf");
		report_skip("events-hlt-tf");
		report_skip("events-port-f4");
		return;
	}
	check_injected_fault_sets_rf();
	check_stepped_hlt_takes_the_debug_trap();
	check_port_f4_is_no_device_here();
}
