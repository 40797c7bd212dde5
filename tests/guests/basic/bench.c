/* bench.c — the loops are asm so the instruction count is the same from
 * build to build: per iteration CPUID is mov+cpuid+dec+jnz, IN is
 * in+dec+jnz. */
#include "bench.h"
#include "cmdline.h"
#include "print.h"
#include "report.h"
#include "selfsum.h"
#include "uart.h"
#include "x86.h"

#define DEFAULT_PORT	0x80	/* POST diagnostic port: reads are harmless */

static uint64_t loop_cpuid(uint32_t n)
{
	uint64_t start = rdtsc();
	__asm__ volatile(
		"1:\tmovl $0, %%eax\n\t"
		"cpuid\n\t"
		"decl %%esi\n\t"
		"jnz 1b"
		: "+S"(n) : : "eax", "ebx", "ecx", "edx", "memory");
	return rdtsc() - start;
}

static uint64_t loop_in(uint32_t n, uint16_t port)
{
	uint64_t start = rdtsc();
	__asm__ volatile(
		"1:\tinb %%dx, %%al\n\t"
		"decl %%ecx\n\t"
		"jnz 1b"
		: "+c"(n) : "d"(port) : "eax", "memory");
	return rdtsc() - start;
}

/* A page of its own: a debugger may watch one word of it and time what
 * stores to another cost. */
uint32_t bench_store_page[1024] __attribute__((aligned(4096)));

static uint64_t loop_store(uint32_t n)
{
	uint64_t start = rdtsc();
	__asm__ volatile(
		"1:\tmovl %%ecx, %0\n\t"
		"decl %%ecx\n\t"
		"jnz 1b"
		: "=m"(bench_store_page[0]), "+c"(n) : : "memory");
	return rdtsc() - start;
}

/* N calls of selfsum_target, where a hidden breakpoint may sit: call,
 * its four instructions, dec, jnz. */
static uint64_t loop_hit(uint32_t n)
{
	uint64_t start = rdtsc();
	__asm__ volatile(
		"1:\tcall selfsum_target\n\t"
		"decl %%esi\n\t"
		"jnz 1b"
		: "+S"(n) : : "eax", "memory");
	return rdtsc() - start;
}

/* N reads of the selfsum page, each followed by a call to code on it:
 * with hidden breakpoints on the page, each read and each call after it
 * changes its view. */
static uint64_t loop_read(uint32_t n)
{
	uint64_t start = rdtsc();
	__asm__ volatile(
		"1:\tmovl selfsum_page+0x800, %%eax\n\t"
		"call selfsum_other\n\t"
		"decl %%esi\n\t"
		"jnz 1b"
		: "+S"(n) : : "eax", "memory");
	return rdtsc() - start;
}

/* One byte to COM1's data register once the transmitter has room; the TSC
 * delta across the OUT alone (under vmxdbg: the exit, if the port traps). */
static uint32_t timed_com1_byte(char c)
{
	uint32_t before, after;
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THR_EMPTY))
		;
	__asm__ volatile(
		"rdtsc\n\t"
		"movl %%eax, %0\n\t"
		"movb %2, %%al\n\t"
		"movw %3, %%dx\n\t"
		"outb %%al, %%dx\n\t"
		"rdtsc"
		: "=&r"(before), "=&a"(after) : "q"(c), "i"(COM1_BASE + UART_DATA) : "edx", "memory");
	return after - before;
}

/* A line of N characters written in pieces of 8 with a CPUID (an exit that
 * a hook may log on) after each: the console must keep it whole. */
static void bench_com1(uint32_t n)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint64_t out_tsc = 0, start = rdtsc();

	kprintf("GUEST BENCH com1-line: ");
	for (uint32_t i = 0; i < n; i++) {
		out_tsc += timed_com1_byte(digits[i % (sizeof(digits) - 1)]);
		if (i % 8 == 7)
			cpuid(0, 0);
	}
	kprintf("\n");
	kprintf("GUEST BENCH com1 n=%u tsc=%llu line=%llu\n", n, out_tsc, rdtsc() - start);
}

/* "cpuid:N", "io:N[:PORT]", "com1:N", "store:N", "hit:N", "read:N", "ipi:N", "selfipi:N" or
 * "levelipi:N"; false if malformed. */
static bool run_one(struct cmdline_value spec)
{
	struct cmdline_value kind, rest, count, port_text;
	uint32_t n, port = DEFAULT_PORT;
	split_at(spec, ':', &kind, &rest);
	split_at(rest, ':', &count, &port_text);
	if (!parse_u32(count.text, count.len, &n) || n == 0)
		return false;
	if (value_is(kind, "cpuid") && port_text.len == 0) {
		kprintf("GUEST BENCH cpuid n=%u tsc=%llu\n", n, loop_cpuid(n));
		return true;
	}
	if (value_is(kind, "store") && port_text.len == 0) {
		kprintf("GUEST BENCH store n=%u tsc=%llu\n", n, loop_store(n));
		return true;
	}
	if (value_is(kind, "hit") && port_text.len == 0) {
		kprintf("GUEST BENCH hit n=%u tsc=%llu\n", n, loop_hit(n));
		return true;
	}
	if (value_is(kind, "read") && port_text.len == 0) {
		kprintf("GUEST BENCH read n=%u tsc=%llu\n", n, loop_read(n));
		return true;
	}
	if (value_is(kind, "ipi") && port_text.len == 0) {
		bench_ipi("ipi", n, 0);
		return true;
	}
	if (value_is(kind, "selfipi") && port_text.len == 0) {
		bench_ipi("selfipi", n, 1u << 18);
		return true;
	}
	if (value_is(kind, "levelipi") && port_text.len == 0) {
		bench_ipi("levelipi", n, 0xc000u);
		return true;
	}
	if (value_is(kind, "com1") && port_text.len == 0) {
		bench_com1(n);
		return true;
	}
	if (value_is(kind, "io")) {
		if (port_text.len && (!parse_u32(port_text.text, port_text.len, &port) || port > 0xffff))
			return false;
		kprintf("GUEST BENCH io n=%u tsc=%llu port=0x%x\n", n, loop_in(n, (uint16_t)port), port);
		return true;
	}
	return false;
}

void bench_run_all(void)
{
	const char *cursor = NULL;
	struct cmdline_value spec;
	while (cmdline_next("bench", &cursor, &spec))
		if (!run_one(spec))
			report_fail("bench", "bad option \"bench=%.*s\", want bench=cpuid:N, bench=io:N[:PORT], "
				    "bench=com1:N, bench=store:N, bench=hit:N, bench=read:N, bench=ipi:N, bench=selfipi:N "
				    "or bench=levelipi:N", (int)spec.len, spec.text);
}
