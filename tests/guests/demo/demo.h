/* demo.h — the demo guest's state: one struct a debugger can print and
 * watch (`print demo_state`, `watch demo_state.round`). */
#ifndef DEMO_H
#define DEMO_H

#include <stdint.h>

#define DEMO_TIMER_HZ	100	/* PIT rate: each round ends in HLT until the next tick */
#define DEMO_WORDS	16	/* work_step calls per round */

struct demo_state {
	uint64_t round;		/* rounds completed */
	uint64_t ticks;		/* timer interrupts (IRQ 0) taken */
	uint64_t page_faults;	/* #PFs the guest resolved by mapping a page */
	uint64_t checksum;	/* every round's work, folded together */
	uint32_t cpu_signature;	/* CPUID.1:EAX, read each round */
	uint32_t misc_enable;	/* IA32_MISC_ENABLE's low half, read and written back each round */
	uint8_t com2_lsr;	/* COM2's line status as the guest reads it (vmxdbg hides COM2: 0xff) */
	char vendor[13];	/* CPUID.0's vendor string */
	uint64_t work[DEMO_WORDS];	/* what work_step stirs */
};

extern struct demo_state demo_state;

/* work.c: one round of work_step over demo_state.work. */
void work_round(struct demo_state *s);
uint64_t work_step(uint64_t word, uint64_t round, uint32_t index);

/* exits.c: instructions that make vmxdbg exit (CPUID, RDMSR/WRMSR, IN). */
void exits_round(struct demo_state *s);

/* paging.c: demand paging in the 2 MiB at DEMAND_BASE. */
#define DEMAND_BASE	0x40000000ull
void demand_touch(struct demo_state *s);
int demand_fault(uint64_t addr);

/* idt.c */
void idt_init(void);

#endif
