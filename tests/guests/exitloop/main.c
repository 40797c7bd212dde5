/* main.c — the exit-loop guest: it does nothing but exit.  It prints
 * "EXITLOOP cpuid: looping", then executes CPUID (leaf 0) forever, counting
 * in exitloop_count.  Under vmxdbg nearly all machine time is the
 * hypervisor's: the case a break-in poll on guest time alone (the
 * VMX-preemption timer) would starve.  It never powers off. */
#include "boot.h"
#include "poweroff.h"
#include "print.h"
#include "x86.h"

volatile uint32_t exitloop_count;

static __attribute__((noinline, noreturn)) void cpuid_loop(void)
{
	for (;;) {
		cpuid(0, 0);
		exitloop_count++;
	}
}

void guest_main(void)
{
	kprintf("EXITLOOP cpuid: looping\n");
	cpuid_loop();
}

void guest_unexpected_trap(const struct trap_frame *f)
{
	kprintf("EXITLOOP unexpected trap: %s (vector %u) error=0x%x eip=0x%x\n",
		trap_name(f->vector), f->vector, f->error, f->eip);
	poweroff(1);
}
