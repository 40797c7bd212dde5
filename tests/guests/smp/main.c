/* main.c — the SMP guest: the BSP starts the AP as an SMP kernel does
 * (INIT, 10 ms, start-up IPI, 200 µs, start-up IPI: SDM Vol. 3A §9.4.4.1),
 * both do fixed work and exchange fixed-vector IPIs, and the BSP prints
 * what they did and a checksum that must be the same on any machine that
 * runs them right, bare or under a hypervisor.  Options: apic=xapic (the
 * default) or apic=x2apic, spin=N (ap_counter's length).  Output lines and
 * their meaning: tests/guests/README.md. */
#include "acpi.h"
#include "boot.h"
#include "cmdline.h"
#include "ipi.h"
#include "kstring.h"
#include "lapic.h"
#include "pic_pit.h"
#include "poweroff.h"
#include "print.h"
#include "smp.h"
#include "trampoline.h"
#include "wait.h"
#include "work.h"
#include "platform/acpi_madt.h"

#define INIT_DELAY_US	10000	/* §9.4.4.1: INIT, then 10 ms */
#define SIPI_DELAY_US	200	/* between and after the start-up IPIs */
#define AP_START_MS	1000	/* then this long for the AP's first C code */
#define IPI_ACK_MS	100	/* per IPI, for the receiver's handler */
#define AP_STALL_MS	500	/* the AP's progress standing still this long: it is lost */
#define AP_FALLBACK_ID	1	/* tried when the MADT names no AP */

struct smp_shared smp;
static struct madt_info madt;

/* Called once a millisecond while the BSP waits for the AP's end.  The
 * empty asm is a side effect: without it gcc may drop calls to a function
 * that does nothing, noinline or not. */
__attribute__((noinline)) void bsp_only_function(void)
{
	__asm__ volatile("" ::: "memory");
}

/* The run's last line, then power off. */
static void give_up(const char *line)
{
	kprintf("SMP %s\n", line);
	poweroff(1);
}

static void bad_option(const char *key, struct cmdline_value v, const char *want)
{
	kprintf("SMP options: %s=%.*s: want %s\n", key, (int)v.len, v.text, want);
	poweroff(1);
}

static void parse_options(void)
{
	struct cmdline_value v;
	if (cmdline_find("apic", &v)) {
		if (value_is(v, "x2apic"))
			lapic_mode = LAPIC_X2APIC;
		else if (!value_is(v, "xapic"))
			bad_option("apic", v, "xapic or x2apic");
	}
	uint32_t spin = SMP_SPIN_DEFAULT;
	if (cmdline_find("spin", &v) && !parse_u32(v.text, v.len, &spin))
		bad_option("spin", v, "a number");
	smp.spin = spin;
}

/* The AP to start: the MADT's first enabled processor that is not us. */
static uint32_t pick_ap(void)
{
	const void *table = acpi_find_madt();
	if (!table || madt_parse(table, &madt) != 0) {
		kprintf("SMP madt: not found; trying APIC id %u\n", AP_FALLBACK_ID);
		return AP_FALLBACK_ID;
	}
	kprintf("SMP madt: %u cpu%s (APIC ids", madt.ncpus, madt.ncpus == 1 ? "" : "s");
	for (unsigned i = 0; i < madt.ncpus; i++)
		kprintf(" %u", madt.cpus[i].apic_id);
	kprintf(")\n");
	for (unsigned i = 0; i < madt.ncpus; i++)
		if (madt.cpus[i].apic_id != smp.bsp_apic_id)
			return madt.cpus[i].apic_id;
	kprintf("SMP madt: no AP listed; trying APIC id %u anyway\n", AP_FALLBACK_ID);
	return AP_FALLBACK_ID;
}

static void start_ap(uint32_t apic_id)
{
	memcpy((void *)SMP_TRAMPOLINE_BASE, smp_trampoline, smp_trampoline_end - smp_trampoline);
	uint32_t page = SMP_TRAMPOLINE_BASE >> 12;
	smp.ap_apic_id = apic_id;
	lapic_send(apic_id, ICR_INIT);
	wait_us(INIT_DELAY_US);
	lapic_send(apic_id, ICR_STARTUP | page);
	wait_us(SIPI_DELAY_US);
	lapic_send(apic_id, ICR_STARTUP | page);
	wait_us(SIPI_DELAY_US);
}

static bool wait_for_ack(volatile uint32_t *count, uint32_t want)
{
	return wait_count_ms(count, want, IPI_ACK_MS);
}

static uint32_t ap_progress(void)
{
	return ap_counter + smp.ap_polls;
}

/* The BSP's half of the work, then the AP's end; false if the AP is lost. */
static bool run_both(void)
{
	smp.crc[SMP_CPU_BSP] = work_area_run(SMP_CPU_BSP);
	work_locked_adds();
	uint32_t sent = ipi_send_acked(smp.ap_apic_id, SMP_VECTOR_TO_AP, &smp.ipis_to_ap, wait_for_ack);
	if (sent != SMP_IPIS)
		kprintf("SMP ipi: bsp->ap %u of %u acknowledged; no handler count for the next in %u ms\n",
			sent, SMP_IPIS, IPI_ACK_MS);
	if (!wait_while_progress(&smp.ap_done, ap_progress, AP_STALL_MS)) {
		kprintf("SMP ap: stalled in \"%s\" (no progress in %u ms)\n", smp.ap_phase, AP_STALL_MS);
		return false;
	}
	if (smp.ap_error)
		kprintf("SMP ap: %s\n", smp.ap_error);
	return sent == SMP_IPIS && !smp.ap_error;
}

static void report(void)
{
	kprintf("SMP work: bsp crc 0x%08x, ap crc 0x%08x\n", smp.crc[SMP_CPU_BSP], smp.crc[SMP_CPU_AP]);
	kprintf("SMP locked adds: %u\n", smp.locked_counter);
	kprintf("SMP ipis: bsp->ap %u, ap->bsp %u\n", smp.ipis_to_ap, smp.ipis_to_bsp);
	if (smp.misrouted)
		kprintf("SMP ipis: %u taken on the wrong CPU\n", smp.misrouted);
	if (smp.spurious)
		kprintf("SMP spurious interrupts: %u\n", smp.spurious);
	kprintf("SMP ap_counter: %u\n", ap_counter);
	kprintf("SMP checksum: 0x%08x\n", work_checksum());
}

void guest_main(void)
{
	parse_options();
	kprintf("SMP apic: %s\n", lapic_mode == LAPIC_X2APIC ? "x2apic" : "xapic");
	if (lapic_mode == LAPIC_X2APIC && !lapic_has_x2apic())
		give_up("apic: x2apic not supported (CPUID.1:ECX.x2APIC = 0)");
	/* Every legacy IRQ masked: the only interrupts are the IPIs. */
	pic_init();
	if (lapic_enable() != 0)
		give_up("apic: the local APIC is not at 0xfee00000");
	smp.bsp_apic_id = lapic_id();
	ipi_init();
	kprintf("SMP bsp: APIC id %u\n", smp.bsp_apic_id);
	uint32_t ap = pick_ap();
	__asm__ volatile("sti");

	start_ap(ap);
	if (!wait_count_ms(&smp.ap_started, 1, AP_START_MS)) {
		kprintf("SMP ap: did not start (APIC id %u, %u ms after INIT-SIPI-SIPI)\n", ap, AP_START_MS);
		give_up("cpus: 1");
	}
	kprintf("SMP ap: started (APIC id %u)\n", smp.ap_apic_id);
	kprintf("SMP cpus: 2\n");
	bool ok = run_both();
	report();
	if (!ok || smp.misrouted)
		give_up("failed");
	kprintf("SMP done\n");
	poweroff(0);
}

void guest_unexpected_trap(const struct trap_frame *f)
{
	kprintf("SMP unexpected trap: %s (vector %u) error=0x%x eip=0x%x on APIC id %u\n",
		trap_name(f->vector), f->vector, f->error, f->eip, lapic_id());
	poweroff(1);
}
