/* apic_hw.c — the real local APIC, as apic_icr.c forwards IPIs to it: the
 * guest owns IA32_APIC_BASE (its writes pass through, exit_msr.c), and
 * platform/lapic.c reads the mode and base from it at each send. */
#include "apic_icr.h"
#include "platform/cpu.h"
#include "platform/lapic.h"

void apic_hw_send_ipi(uint32_t dest, uint32_t low)
{
	lapic_send_ipi(dest, low);
}

uint64_t apic_hw_now(void)
{
	return rdtsc();
}
