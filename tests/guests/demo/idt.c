/* idt.c — 64-bit interrupt gates for vectors 0-47 (SDM Vol. 3A §7.14.1),
 * each pointing at its 16-byte stub in isr.S. */
#include "demo.h"

#define IDT_VECTORS	48
#define STUB_SIZE	16
#define SEL_CODE64	0x08
#define GATE_INTERRUPT	0x8e	/* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));

static struct idt_gate idt[IDT_VECTORS];
extern char isr_stubs[];

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		uint64_t at = (uint64_t)(uintptr_t)isr_stubs + v * STUB_SIZE;
		idt[v] = (struct idt_gate){ .offset_low = (uint16_t)at, .selector = SEL_CODE64,
					    .type = GATE_INTERRUPT, .offset_mid = (uint16_t)(at >> 16),
					    .offset_high = (uint32_t)(at >> 32) };
	}
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}
