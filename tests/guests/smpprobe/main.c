/* main.c — the SMP probe guest: it tries to start the processor with APIC
 * id 1 itself, as an SMP kernel does (INIT, then two start-up IPIs through
 * the xAPIC's ICR, SDM Vol. 3A §9.4.4.1), with a real-mode trampoline that
 * writes a marker to memory and "AP" to port 0xE9.  It prints
 *   SMPPROBE ap: started (marker 0x...)   or   SMPPROBE ap: did not start
 * then powers off.  Bare, the AP starts; under vmxdbg it must not (it is
 * parked in VMX root operation, where INIT is blocked).
 *
 * Option apic=MODE (apic_modes.c): x2apic (the same through WRMSR to the
 * x2APIC ICR), hostile (bad IPIs), cost (APIC writes and reads timed),
 * tf (an APIC store single-stepped by the guest's own TF), narrow (a byte
 * store to the APIC page). */
#include "boot.h"
#include "cmdline.h"
#include "poweroff.h"
#include "smpprobe.h"
#include "print.h"
#include "x86.h"

#define TRAMPOLINE 0x8000u	/* SIPI vector 0x08 */
#define MARKER 0x9000u
#define MARKER_VALUE 0xa11fu
#define ICR_LOW ((volatile uint32_t *)0xfee00300u)
#define ICR_HIGH ((volatile uint32_t *)0xfee00310u)
#define ICR_INIT 0x00004500u
#define ICR_STARTUP 0x00004600u
#define ICR_PENDING (1u << 12)
#define TARGET_APIC_ID 1u
/* TSC ticks (instructions under Bochs with clock sync=none): far more than
 * the trampoline needs, bare, even with CPUs run round-robin. */
#define WAIT_TICKS 2000000ull

/* Real mode at 0800:0000: ds = 0; movw $MARKER_VALUE, (MARKER);
 * "AP" to port 0xE9; then cli; hlt forever. */
static const uint8_t trampoline[] = {
	0x31, 0xc0,				/* xor %ax, %ax */
	0x8e, 0xd8,				/* mov %ax, %ds */
	0xc7, 0x06, MARKER & 0xff, MARKER >> 8, MARKER_VALUE & 0xff, MARKER_VALUE >> 8,
	0xb0, 'A', 0xe6, 0xe9,			/* mov $'A', %al; out %al, $0xe9 */
	0xb0, 'P', 0xe6, 0xe9,
	0xb0, '\n', 0xe6, 0xe9,
	0xfa,					/* cli */
	0xf4,					/* hlt */
	0xeb, 0xfd,				/* jmp hlt */
};

static void wait_ticks(uint64_t ticks)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < ticks)
		__asm__ volatile("pause");
}

void xapic_send(uint32_t apic_id, uint32_t low)
{
	*ICR_HIGH = apic_id << 24;
	*ICR_LOW = low;
	for (int i = 0; i < 100000 && (*ICR_LOW & ICR_PENDING); i++)
		__asm__ volatile("pause");
}

static void send_ipi(uint32_t low)
{
	if (cmdline_lists("apic", "x2apic"))
		x2apic_send(TARGET_APIC_ID, low);
	else
		xapic_send(TARGET_APIC_ID, low);
}

void guest_main(void)
{
	volatile uint16_t *marker = (volatile uint16_t *)MARKER;
	uint8_t *dst = (uint8_t *)TRAMPOLINE;
	for (unsigned i = 0; i < sizeof(trampoline); i++)
		dst[i] = trampoline[i];
	*marker = 0;
	if (cmdline_lists("apic", "hostile"))
		apic_hostile();
	if (cmdline_lists("apic", "bogus"))
		apic_bogus();
	if (cmdline_lists("apic", "cost"))
		apic_cost();
	if (cmdline_lists("apic", "tf"))
		apic_tf();
	if (cmdline_lists("apic", "narrow"))
		apic_narrow();
	if (cmdline_lists("apic", "x2apic") && !x2apic_enable())
		poweroff(1);
	kprintf("SMPPROBE sending INIT-SIPI-SIPI to APIC id %u (vector 0x%02x)\n", TARGET_APIC_ID,
		TRAMPOLINE >> 12);
	send_ipi(ICR_INIT);
	wait_ticks(WAIT_TICKS / 10);
	send_ipi(ICR_STARTUP | (TRAMPOLINE >> 12));
	wait_ticks(WAIT_TICKS / 10);
	send_ipi(ICR_STARTUP | (TRAMPOLINE >> 12));
	wait_ticks(WAIT_TICKS);
	if (*marker == MARKER_VALUE)
		kprintf("SMPPROBE ap: started (marker 0x%x)\n", *marker);
	else
		kprintf("SMPPROBE ap: did not start\n");
	poweroff(0);
}

void guest_unexpected_trap(const struct trap_frame *f)
{
	kprintf("SMPPROBE unexpected trap: %s (vector %u) error=0x%x eip=0x%x\n",
		trap_name(f->vector), f->vector, f->error, f->eip);
	poweroff(1);
}
