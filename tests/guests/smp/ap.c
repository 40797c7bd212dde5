/* ap.c — the application processor's side, from the trampoline's call on.
 * It shares the BSP's GDT and IDT, switches its own local APIC to the
 * BSP's mode, and reports through `smp`: it never prints, so that the
 * console's lines stay whole and in order. */
#include "gdt.h"
#include "ipi.h"
#include "lapic.h"
#include "smp.h"
#include "trampoline.h"
#include "trap.h"
#include "wait.h"
#include "work.h"

volatile uint32_t ap_counter;

/* Only the AP comes here: the place for a breakpoint that must report the
 * AP's thread.  noinline keeps it a function gdb can name. */
__attribute__((noinline)) void ap_only_function(void)
{
	smp.crc[SMP_CPU_AP] = work_area_run(SMP_CPU_AP);
}

static void ap_fail(const char *why)
{
	if (!smp.ap_error)
		smp.ap_error = why;
}

void ap_entry(void)
{
	gdt_init();
	idt_load();
	if (lapic_enable() != 0) {
		ap_fail("its local APIC is not at 0xfee00000");
		smp.ap_started = 1;
		smp.ap_done = 1;
		return;
	}
	smp.ap_apic_id = lapic_id();
	smp.ap_phase = "work";
	smp.ap_started = 1;
	__asm__ volatile("sti");

	ap_only_function();
	smp.ap_phase = "locked adds";
	work_locked_adds();
	smp.ap_phase = "IPIs to the BSP";
	if (ipi_send_acked(smp.bsp_apic_id, SMP_VECTOR_TO_BSP, &smp.ipis_to_bsp, ap_wait_count) != SMP_IPIS)
		ap_fail("an IPI to the BSP was not acknowledged");
	smp.ap_phase = "waiting for the BSP's IPIs";
	if (!ap_wait_count(&smp.ipis_to_ap, SMP_IPIS))
		ap_fail("the BSP's IPIs did not all arrive");
	smp.ap_phase = "ap_counter";
	for (uint32_t i = 0; i < smp.spin; i++)
		ap_counter++;
	smp.ap_phase = "done";
	smp.ap_done = 1;
}
