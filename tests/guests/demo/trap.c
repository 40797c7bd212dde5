/* trap.c — what each vector does: the timer ticks, a page fault in the
 * demand region maps a page, anything else is reported and ends the run. */
#include "cpu64.h"
#include "demo.h"
#include "pic_pit.h"
#include "poweroff.h"
#include "print.h"

#define VEC_PF		14
#define SPURIOUS_IRQ7	7	/* the 8259A reports a vanished request as IRQ 7; no EOI */

/* What isr.S pushed, then the CPU's frame (SDM Vol. 3A §7.14.2). */
struct demo_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

void demo_trap(struct demo_frame *f)
{
	if (f->vector >= PIC_VECTOR_BASE) {
		uint8_t irq = (uint8_t)(f->vector - PIC_VECTOR_BASE);
		if (irq == 0)
			demo_state.ticks++;
		if (irq != SPURIOUS_IRQ7)
			pic_eoi(irq);
		return;
	}
	uint64_t cr2 = read_cr2_64();
	if (f->vector == VEC_PF && demand_fault(cr2)) {
		demo_state.page_faults++;
		return;
	}
	kprintf("demo: unexpected trap: vector %llu error 0x%llx rip 0x%llx cr2 0x%llx; powering off\n",
		(unsigned long long)f->vector, (unsigned long long)f->error, (unsigned long long)f->rip,
		(unsigned long long)cr2);
	poweroff(1);
}
