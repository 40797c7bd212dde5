/* cross_page.c — instructions that write across a page boundary, for a
 * debugger watching cross_page_area.straddler (16 bytes, 8 on each page):
 * a misaligned store (with interrupts disabled, then enabled), a string
 * move and a PUSHA frame each touch both pages in one instruction; a store
 * to one page follows each, and every
 * store changes the watched value, so a debugger that re-protected only one
 * of the two pages after the crossing instruction misses the next store.
 * One PASS line (the bytes as written) at the end; the checksum is not
 * touched. */
#include "cross_page.h"
#include "cmdline.h"
#include "report.h"

#define PAGE 4096

struct cross_page_area {
	uint8_t first[PAGE - 8];
	uint32_t straddler[4];	/* [PAGE - 8, PAGE + 8) */
	uint8_t rest[PAGE - 8];
} __attribute__((aligned(PAGE)));
struct cross_page_area cross_page_area;

static uint8_t *at(unsigned offset)
{
	return (uint8_t *)&cross_page_area + offset;
}

/* One MOV writing bytes PAGE-2 .. PAGE+1. */
static void store_across(uint32_t value)
{
	__asm__ volatile("movl %1, %0" : "=m"(*(uint32_t *)at(PAGE - 2)) : "r"(value));
}

static void store(unsigned offset, uint32_t value)
{
	__asm__ volatile("movl %1, %0" : "=m"(*(uint32_t *)at(offset)) : "r"(value));
}

/* REP MOVSB of 4 bytes to PAGE-2 .. PAGE+1. */
static void copy_across(uint32_t value)
{
	void *dst = at(PAGE - 2), *src = &value;
	uint32_t n = 4;
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* PUSHA with ESP at PAGE+16: its 32-byte frame is PAGE-16 .. PAGE+15.
 * Interrupts off meanwhile, so nothing else lands on this stack. */
static void push_frame_across(void)
{
	__asm__ volatile(
		"pushfl\n\t"
		"cli\n\t"
		"movl %%esp, %%eax\n\t"
		"movl %0, %%esp\n\t"
		"pushal\n\t"
		"popal\n\t"
		"movl %%eax, %%esp\n\t"
		"popfl"
		: : "r"(at(PAGE + 16)) : "eax", "memory");
}

void cross_page_run(void)
{
	if (!cmdline_has("cross-page"))
		return;
	store_across(0x11111111);
	store(PAGE - 8, 0x22222222);	/* first page only */
	copy_across(0x33333333);
	store(PAGE - 8, 0x44444444);
	push_frame_across();
	store(PAGE - 8, 0x55555555);
	store(PAGE + 4, 0x66666666);	/* second page only */
	/* Once more with interrupts enabled (the PIC masks every line by now):
	 * a debugger's step then holds them off for the instruction. */
	__asm__ volatile("sti; nop");
	store_across(0x77777777);
	__asm__ volatile("cli");
	store(PAGE - 8, 0x88888888);
	const uint32_t *s = cross_page_area.straddler;
	report_expect("cross-page", s[0] == 0x88888888 && s[3] == 0x66666666,
		      "straddler %08x %08x %08x %08x", s[0], s[1], s[2], s[3]);
}
