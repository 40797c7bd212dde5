/* dirty.c — the page writes of dirty.h, in one asm block so that nothing
 * but them (no call, no push) happens between the two labels. */
#include "dirty.h"
#include "cmdline.h"
#include "print.h"
#include "report.h"

/* Outside the image (2.5 MiB would not fit the 4 MiB the basic-big variant
 * may take): usable RAM in every memory map the tests give, never loaded
 * over.  A pointer, so that a debugger reads its value by name. */
uint8_t *const dirty_area = (uint8_t *)DIRTY_AREA_ADDR;

static void write_pages(uint8_t *first, uint32_t count, uint32_t stride)
{
	__asm__ volatile(
		"pushfl\n\t"
		"cli\n\t"
		".globl dirty_mark_start\n"
		"dirty_mark_start:\n\t"
		"nop\n"
		"1:\tmovb $0x5a, 0x123(%0)\n\t"
		"addl %2, %0\n\t"
		"decl %1\n\t"
		"jnz 1b\n\t"
		".globl dirty_mark_end\n"
		"dirty_mark_end:\n\t"
		"nop\n\t"
		"popfl"
		: "+r"(first), "+r"(count) : "r"(stride) : "memory", "cc");
}

static bool run_one(struct cmdline_value spec)
{
	struct cmdline_value a, rest, b, c;
	uint32_t first, count, step;
	split_at(spec, ':', &a, &rest);
	split_at(rest, ':', &b, &c);
	if (!parse_u32(a.text, a.len, &first) || !parse_u32(b.text, b.len, &count) ||
	    !parse_u32(c.text, c.len, &step) || !count || !step ||
	    first + (uint64_t)(count - 1) * step >= DIRTY_AREA_PAGES)
		return false;
	kprintf("GUEST DIRTY first=%u count=%u step=%u area=0x%x\n", first, count, step, (unsigned)(uintptr_t)dirty_area);
	write_pages(dirty_area + first * 4096, count, step * 4096);
	return true;
}

void dirty_run_all(void)
{
	const char *cursor = NULL;
	struct cmdline_value spec;
	while (cmdline_next("dirty", &cursor, &spec))
		if (!run_one(spec))
			report_fail("dirty", "bad option \"dirty=%.*s\", want dirty=FIRST:COUNT:STEP within %u pages",
				    (int)spec.len, spec.text, DIRTY_AREA_PAGES);
}
