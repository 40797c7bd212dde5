/* injected.c — take the vectors injected= names, say where each arrived,
 * and carry on.  An exception injected in place of an instruction (SDM
 * Vol. 3C §27.6.1: the saved EIP is that instruction's) returns to run it
 * again; a fault the instruction really raises would come back forever, so
 * past a few arrivals of one vector the trap counts as unexpected.  The
 * guest runs with interrupts off except in the hlt group: a hypervisor
 * holds an injected interrupt until then (interrupt-window exiting,
 * §25.6.2), or until the window injected_finish opens with the PIC masked
 * — use skip=hlt when a HLT must not be woken by it.  A #DB says what
 * DR6 held and whether the trapped code ran with TF (tf=1), then ends the
 * single-step and clears DR6 as an OS's handler would (SDM Vol. 3B
 * §19.2.3: the processor never clears DR6 itself): book example 4-1,
 * scripts/labs/ex4-1-debug-exceptions.lua. */
#include "boot.h"
#include "cmdline.h"
#include "injected.h"
#include "pic_pit.h"
#include "print.h"
#include "report.h"
#include "trap.h"
#include "x86.h"

#define MAX_VECTORS	8
#define MAX_ARRIVALS	4	/* per vector, before it counts as a real, repeating fault */
#define VEC_DB		1
#define EFLAGS_TF	(1u << 8)
#define DR6_CLEAN	0xffff0ff0u	/* DR6 with no condition recorded */

static struct {
	uint8_t vector;
	uint32_t arrivals;
} expected[MAX_VECTORS];
static unsigned nexpected;

static void arrived(struct trap_frame *f)
{
	for (unsigned i = 0; i < nexpected; i++) {
		if (expected[i].vector != f->vector)
			continue;
		if (++expected[i].arrivals > MAX_ARRIVALS)
			break;
		if (f->vector == VEC_DB) {
			kprintf("GUEST INFO injected: %s (vector %u) error=0x%x eip=0x%x dr6=0x%x tf=%u\n",
				trap_name(f->vector), f->vector, f->error, f->eip, read_dr6(),
				!!(f->eflags & EFLAGS_TF));
			f->eflags &= ~EFLAGS_TF;
			write_dr6(DR6_CLEAN);
			return;
		}
		kprintf("GUEST INFO injected: %s (vector %u) error=0x%x eip=0x%x\n",
			trap_name(f->vector), f->vector, f->error, f->eip);
		return;
	}
	guest_unexpected_trap(f);
}

void injected_init(void)
{
	const char *cursor = NULL;
	struct cmdline_value v;
	uint32_t vector;

	while (cmdline_next("injected", &cursor, &v)) {
		if (!parse_u32(v.text, v.len, &vector) || vector > 255 || nexpected == MAX_VECTORS) {
			report_fail("options", "\"injected=%.*s\": want a vector 0-255, at most %d of them",
				    (int)v.len, v.text, MAX_VECTORS);
			continue;
		}
		expected[nexpected++].vector = (uint8_t)vector;
		trap_set_handler((uint8_t)vector, arrived);
	}
}

/* STI's shadow covers the NOP; a held interrupt comes before the CLI. */
static __attribute__((noinline)) void interrupt_window(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

/* `self-nmi`: the guest's own NMI, an IPI from its local APIC (xAPIC at
 * its reset base) to itself — fixed destination: the self shorthand is
 * for fixed interrupts only (SDM Vol. 3A §11.6.1).  Under a hypervisor
 * with NMI exiting this is an NMI exit that must come back to the guest. */
#define XAPIC_BASE	0xfee00000u
#define XAPIC_ID	0x20
#define XAPIC_ICR_LOW	0x300
#define XAPIC_ICR_HIGH	0x310
#define ICR_NMI		(4u << 8)
#define ICR_ASSERT	(1u << 14)

static void send_self_nmi(void)
{
	volatile uint32_t *apic = (volatile uint32_t *)XAPIC_BASE;
	uint32_t id = apic[XAPIC_ID / 4] >> 24;
	apic[XAPIC_ICR_HIGH / 4] = id << 24;
	apic[XAPIC_ICR_LOW / 4] = ICR_NMI | ICR_ASSERT;
	for (volatile int spin = 0; spin < 100000; spin++)
		;
}

void injected_finish(void)
{
	bool interrupts = false;
	if (cmdline_has("self-nmi"))
		send_self_nmi();
	if (!nexpected)
		return;
	for (unsigned i = 0; i < nexpected; i++)
		interrupts |= expected[i].vector >= 32;
	if (interrupts) {
		pic_init();	/* every line masked: only injected interrupts come in */
		interrupt_window();
	}
	for (unsigned i = 0; i < nexpected; i++)
		if (!expected[i].arrivals) {
			report_fail("injected", "vector %u never arrived", expected[i].vector);
			return;
		}
	report_pass("injected");
}
