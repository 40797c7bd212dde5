/* gdt.c — flat 64-bit segments and a TSS whose IST gives NMI, #DF, #MC and
 * #PF their own stacks: they must work even when the current stack is bad
 * (a #PF on a guard page could not push its frame on the stack it hit). */
#include "gdt.h"

#include "kstring.h"

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) descriptor_ptr {
	uint16_t limit;
	uint64_t base;
};

#define IST_STACK_SIZE (16 * 1024)

/* One per CPU: the boot CPU's here, each AP's in pages smp.c allocates. */
struct cpu_tables {
	uint64_t gdt[5];
	struct tss64 tss;
};
_Static_assert(sizeof(struct cpu_tables) <= GDT_TABLES_BYTES, "GDT_TABLES_BYTES too small");
_Static_assert(IST_PF * IST_STACK_SIZE == GDT_IST_BYTES, "GDT_IST_BYTES mismatch");

static struct cpu_tables boot_tables __attribute__((aligned(16)));
static uint8_t ist_stacks[IST_PF][IST_STACK_SIZE] __attribute__((aligned(4096)));

extern uint8_t boot_stack_bottom[], boot_stack_top[];

static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
	/* 16-byte system descriptor, type 9 (available 64-bit TSS), present. */
	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		  ((uint64_t)(limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	slot[1] = base >> 32;
}

static void tables_load(struct cpu_tables *t, uint8_t *ist)
{
	uint64_t *gdt = t->gdt;
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull;	/* code: L=1, P, DPL 0, execute/read */
	gdt[2] = 0x00cf92000000ffffull;	/* data: P, DPL 0, read/write */
	memset(&t->tss, 0, sizeof(t->tss));
	for (int i = 0; i < IST_PF; i++)
		t->tss.ist[i] = (uint64_t)(uintptr_t)(ist + (i + 1) * IST_STACK_SIZE);
	t->tss.iomap_base = sizeof(t->tss);	/* no I/O permission bitmap */
	set_tss_descriptor(&gdt[3], (uint64_t)(uintptr_t)&t->tss, sizeof(t->tss) - 1);

	struct descriptor_ptr p = { sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"mov %2, %%ds\n\t"
		"mov %2, %%es\n\t"
		"mov %2, %%ss\n\t"
		"ltr %w3"
		: : "m"(p), "i"(SEL_CODE64), "r"(SEL_DATA), "r"(SEL_TSS) : "rax", "memory");
}

void gdt_init(void)
{
	tables_load(&boot_tables, ist_stacks[0]);
}

void gdt_init_ap(void *tables, uint8_t *ist)
{
	tables_load(tables, ist);
}

/* This processor's tables (each AP has its own: gdt_init_ap), as the VMCS's
 * host-state area wants them (SDM Vol. 3C §28.5.2). */
uint64_t gdt_base(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	return gdtr.base;
}

/* The TSS descriptor's base, scattered over 16 bytes (SDM Vol. 3A §8.2.3). */
uint64_t tss_base(void)
{
	const uint8_t *d = (const uint8_t *)(uintptr_t)(gdt_base() + SEL_TSS);
	return (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 | (uint64_t)d[7] << 24 |
	       (uint64_t)(d[8] | d[9] << 8 | d[10] << 16 | (uint32_t)d[11] << 24) << 32;
}

bool on_known_stack(uint64_t addr)
{
	uint64_t lo = (uint64_t)(uintptr_t)boot_stack_bottom, hi = (uint64_t)(uintptr_t)boot_stack_top;
	if (addr >= lo && addr + 8 <= hi)
		return true;
	lo = (uint64_t)(uintptr_t)ist_stacks;
	return addr >= lo && addr + 8 <= lo + sizeof(ist_stacks);
}
