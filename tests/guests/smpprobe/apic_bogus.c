/* apic_bogus.c — apic=bogus: vectors the SDM calls illegal (0-15, SDM Vol.
 * 3A §12.5.3, "Send/Receive Illegal Vector") and a self-IPI flood with
 * interrupts on, each announced; a hypervisor must pass them to the APIC
 * (which flags them in ESR and delivers nothing) and stay up. */
#include "print.h"
#include "smpprobe.h"
#include "x86.h"

#define APIC_REG(off) ((volatile uint32_t *)(0xfee00000u + (off)))
#define APIC_ID 0x20
#define APIC_ESR 0x280
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_PPR 0xa0
#define LVT_MASKED (1u << 16)
#define FLOOD_IPIS 20000
#define FLOOD_VECTOR 0xf1

static volatile uint32_t flood_taken;

/* The flood's handler: counts, EOIs (an IDT gate of the probe's own). */
void apic_bogus_flood_handler(void);
__asm__(".pushsection .text\n"
	"apic_bogus_flood_handler:\n"
	"	lock incl flood_taken\n"
	"	movl $0, 0xfee000b0\n"
	"	iret\n"
	".popsection\n");

struct gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static void set_gate(unsigned vector, void (*fn)(void))
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr;
	uint16_t cs;
	__asm__ volatile("sidt %0; mov %%cs, %1" : "=m"(idtr), "=r"(cs));
	struct gate *g = (struct gate *)(uintptr_t)idtr.base + vector;
	g->off_lo = (uint16_t)(uintptr_t)fn;
	g->off_hi = (uint16_t)((uintptr_t)fn >> 16);
	g->sel = cs;
	g->zero = 0;
	g->type = 0x8e;	/* present, DPL 0, 32-bit interrupt gate */
}

static uint32_t esr(void)
{
	*APIC_REG(APIC_ESR) = 0;	/* latch (SDM Vol. 3A §12.5.3) */
	return *APIC_REG(APIC_ESR);
}

void apic_bogus(void)
{
	uint32_t self = *APIC_REG(APIC_ID) >> 24;

	esr();
	kprintf("SMPPROBE bogus: LVT timer with vector 0x03, one-shot, 1000 ticks\n");
	*APIC_REG(APIC_LVT_TIMER) = 0x03;
	*APIC_REG(APIC_TIMER_INITIAL) = 1000;
	/* Registers APIC virtualization leaves to the hypervisor (the running
	 * count; PPR under Bochs): APIC-access exits under apic=virtual. */
	uint32_t current = *APIC_REG(APIC_TIMER_CURRENT), ppr = *APIC_REG(APIC_PPR);
	kprintf("SMPPROBE bogus: timer current count %s 1000, PPR 0x%x\n", current <= 1000 ? "at most" : "above", ppr);
	for (volatile unsigned i = 0; i < 20000; i++)
		;
	*APIC_REG(APIC_LVT_TIMER) = LVT_MASKED;
	kprintf("SMPPROBE bogus: self-IPI (shorthand) with vector 0x02\n");
	xapic_send(0, ICR_FIXED | ICR_TO_SELF | 0x02);
	kprintf("SMPPROBE bogus: fixed IPI to APIC id %u with vector 0x0e\n", self);
	xapic_send(self, ICR_FIXED | 0x0e);
	kprintf("SMPPROBE bogus: ESR after them: 0x%x\n", esr());
	kprintf("SMPPROBE bogus: %u self-IPIs, vector 0x%x, interrupts on\n", FLOOD_IPIS, FLOOD_VECTOR);
	set_gate(FLOOD_VECTOR, apic_bogus_flood_handler);
	/* The BIOS's 8259 still sends IRQ 0 at vector 8: masked meanwhile. */
	uint8_t mask1 = inb(0x21), mask2 = inb(0xa1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	__asm__ volatile("sti");
	for (unsigned i = 0; i < FLOOD_IPIS; i++)
		xapic_send(0, ICR_FIXED | ICR_TO_SELF | FLOOD_VECTOR);
	__asm__ volatile("cli");
	outb(0x21, mask1);
	outb(0xa1, mask2);
	kprintf("SMPPROBE bogus: flood taken %u times\n", flood_taken);
	kprintf("SMPPROBE bogus: survived\n");
}
