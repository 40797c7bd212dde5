/* main.c — the demo guest: `make run` boots it under vmxdbg.  It runs
 * until stopped, one round per timer tick, and says on COM1 how to attach
 * gdb and what to try.  The README's first screen walks through it. */
#include "cpu64.h"
#include "demo.h"
#include "pic_pit.h"
#include "print.h"
#include "uart.h"

#define REPORT_ROUNDS	2000	/* a progress line every 2000 rounds: 20 s of guest time, a few s of Bochs */

struct demo_state demo_state;

static void banner(void)
{
	kprintf("demo: vmxdbg's demo guest (64-bit, symbols in build/guests/demo.elf) runs until stopped:\n"
		"demo:   Ctrl-C here, or `kill` in gdb.  Each round: work_step x%d, CPUID x2, RDMSR+WRMSR,\n"
		"demo:   IN from COM2 (hidden by vmxdbg), a page fault it maps itself, HLT until the timer.\n"
		"demo: attach gdb from another terminal:  make gdb\n"
		"demo: then try:  break work_step | continue | bt | stepi | delete\n"
		"demo:            watch demo_state.round | continue | print demo_state | monitor exits\n"
		"demo:            continue, then Ctrl-C | kill\n", DEMO_WORDS);
}

/* The TSC: under Bochs with `clock: sync=none`, instructions since power-on. */
static void report(const struct demo_state *s)
{
	kprintf("demo: round %llu, tsc %llu: ticks %llu, page faults %llu, cpuid \"%s\" 0x%x, "
		"misc_enable 0x%x, com2 0x%x\n", (unsigned long long)s->round, (unsigned long long)rdtsc(),
		(unsigned long long)s->ticks, (unsigned long long)s->page_faults, s->vendor,
		s->cpu_signature, s->misc_enable, s->com2_lsr);
}

/* One round: work, exits, a page fault, then sleep until the next tick. */
static void demo_round(struct demo_state *s)
{
	work_round(s);
	exits_round(s);
	demand_touch(s);
	sti_hlt();
	cli();
	s->round++;
}

void demo_main(void)
{
	uart_init();
	idt_init();
	pic_init();
	pit_start(DEMO_TIMER_HZ);
	pic_unmask_only(0);
	banner();
	for (;;) {
		demo_round(&demo_state);
		if (demo_state.round % REPORT_ROUNDS == 1)
			report(&demo_state);
	}
}
