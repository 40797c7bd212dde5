/* trap.c — IDT of 256 interrupt gates; dispatch to a handler, a fault probe, or the guest's fatal hook. */
#include <stddef.h>

#include "boot.h"
#include "gdt.h"
#include "probe.h"
#include "trap.h"

#define STUB_SIZE	16
#define GATE_INT32	0x8e	/* present, DPL 0, 32-bit interrupt gate: IF cleared on entry */

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low, selector;
	uint8_t zero, type;
	uint16_t offset_high;
};

struct __attribute__((packed)) idt_pointer {
	uint16_t limit;
	uint32_t base;
};

extern const char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(8)));
static trap_handler handlers[256];

void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint32_t stub = (uint32_t)(isr_stubs + v * STUB_SIZE);
		idt[v] = (struct idt_gate){ stub & 0xffff, GDT_CODE_SEL, 0, GATE_INT32, stub >> 16 };
	}
	idt_load();
}

void idt_load(void)
{
	static const struct idt_pointer p = { sizeof(idt) - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

void trap_set_handler(uint8_t vector, trap_handler h)
{
	handlers[vector] = h;
}

void trap_dispatch(struct trap_frame *f)
{
	/* An exception inside a probe is the probe's answer, whatever the vector. */
	if (f->vector < 32 && probe_catch(f))
		return;
	if (handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	guest_unexpected_trap(f);
}

const char *trap_name(uint32_t vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", NULL, "#TS", "#NP", "#SS", "#GP", "#PF", NULL,
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};
	if (vector >= 32)
		return "interrupt";
	return names[vector] ? names[vector] : "reserved exception";
}
