/* check_hlt.c — HLT returns on an interrupt.  With IF = 0 nothing would
 * wake it, so each HLT runs as "sti; hlt" (the STI shadow closes the race)
 * with the PIT ticking at 1 kHz on IRQ 0, the only line unmasked.  This
 * ends bare in QEMU and Bochs; under vmxdbg it needs HLT exits and
 * external interrupts handled right.  skip=hlt leaves it out. */
#include "checks.h"
#include "pic_pit.h"
#include "report.h"
#include "trap.h"
#include "x86.h"

#define HALTS		3
#define TIMER_HZ	1000
#define SPURIOUS_IRQ7	7	/* the 8259A reports a vanished request as IRQ 7; no EOI */

static volatile uint32_t timer_ticks, other_irqs;

static void irq_handler(struct trap_frame *f)
{
	uint8_t irq = (uint8_t)(f->vector - PIC_VECTOR_BASE);
	if (irq == 0)
		timer_ticks++;
	else
		other_irqs++;
	if (irq != SPURIOUS_IRQ7)
		pic_eoi(irq);
}

void check_hlt(void)
{
	for (uint8_t irq = 0; irq < 16; irq++)
		trap_set_handler((uint8_t)(PIC_VECTOR_BASE + irq), irq_handler);
	pic_init();
	pit_start(TIMER_HZ);
	timer_ticks = other_irqs = 0;
	pic_unmask_only(0);

	uint64_t start = rdtsc();
	for (int i = 0; i < HALTS; i++) {
		sti_hlt();
		cli();
	}
	uint64_t tsc = rdtsc() - start;
	pic_mask_all();

	report_info("hlt", "%d HLTs woke after %u timer and %u other interrupts, tsc delta %llu",
		    HALTS, timer_ticks, other_irqs, tsc);
	/* Each HLT ends with at least one interrupt; another may slip in
	 * between IRET and CLI, so more is fine. */
	report_expect("hlt", timer_ticks >= 1 && timer_ticks + other_irqs >= HALTS && !(read_eflags() & EFLAGS_IF),
		      "%u timer and %u other interrupts for %d HLTs", timer_ticks, other_irqs, HALTS);
}
