/* exits.c — instructions vmxdbg turns into VM exits, a few each round:
 * CPUID (always exits, SDM Vol. 3C §26.1.2), RDMSR and WRMSR of
 * IA32_MISC_ENABLE (in vmxdbg's MSR bitmap: virtualized, no #GP), and IN
 * from COM2's line status register (the debug UART: in the I/O bitmap,
 * hidden, reads 0xff).  Bare, without vmxdbg, IA32_MISC_ENABLE #GPs under
 * Bochs: this guest is for running under vmxdbg. */
#include "demo.h"
#include "uart.h"
#include "x86.h"

#define MSR_IA32_MISC_ENABLE	0x1a0

void exits_round(struct demo_state *s)
{
	struct cpuid_regs r = cpuid(0, 0);
	const uint32_t vendor[3] = { r.ebx, r.edx, r.ecx };
	for (unsigned i = 0; i < 12; i++)
		s->vendor[i] = (char)(vendor[i / 4] >> (8 * (i % 4)));
	s->cpu_signature = cpuid(1, 0).eax;

	uint64_t misc = rdmsr(MSR_IA32_MISC_ENABLE);
	wrmsr(MSR_IA32_MISC_ENABLE, misc);	/* the same value: changes nothing */
	s->misc_enable = (uint32_t)misc;

	s->com2_lsr = inb(COM2_BASE + UART_LSR);
}
