/* gdt.c — flat 4 GiB code and data segments (SDM Vol. 3A §3.4.5 "Segment Descriptors"). */
#include <stdint.h>

#include "gdt.h"

static const uint64_t gdt[] __attribute__((aligned(8))) = {
	0,
	0x00cf9a000000ffffull,	/* 0x08: base 0, limit 4 GiB, 32-bit, execute/read, DPL 0 */
	0x00cf92000000ffffull,	/* 0x10: base 0, limit 4 GiB, read/write, DPL 0 */
};

struct __attribute__((packed)) gdt_pointer {
	uint16_t limit;
	uint32_t base;
};

void gdt_init(void)
{
	static const struct gdt_pointer p = { sizeof(gdt) - 1, (uint32_t)gdt };

	/* A far jump reloads CS; the data selectors need explicit moves. */
	__asm__ volatile(
		"lgdt %0\n\t"
		"ljmp %1, $1f\n"
		"1:\tmovw %w2, %%ds\n\t"
		"movw %w2, %%es\n\t"
		"movw %w2, %%fs\n\t"
		"movw %w2, %%gs\n\t"
		"movw %w2, %%ss"
		: : "m"(p), "i"(GDT_CODE_SEL), "r"(GDT_DATA_SEL) : "memory");
}
