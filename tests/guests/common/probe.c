/* probe.c — catch the exception of one probed instruction (see probe.h). */
#include "probe.h"
#include "x86.h"

volatile uint32_t probe_insn, probe_resume;
struct probe_result probe_result;

void probe_begin(void)
{
	probe_result = (struct probe_result){ .vector = PROBE_NONE };
}

int probe_end(void)
{
	probe_result.insn = probe_insn;
	return probe_result.vector;
}

bool probe_catch(struct trap_frame *f)
{
	if (!probe_resume)
		return false;
	probe_result.vector = (int)f->vector;
	probe_result.error = f->error;
	probe_result.eip = f->eip;
	probe_result.cr2 = f->vector == VEC_PF ? read_cr2() : 0;
	probe_result.eflags = f->eflags;
	probe_result.next = probe_resume;
	f->eip = probe_resume;
	/* Disarmed until the next probe: a second fault is a real one. */
	probe_resume = 0;
	return true;
}

int probe_rdmsr(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;
	probe_begin();
	__asm__ volatile(PROBE_ASM("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*value = ((uint64_t)hi << 32) | lo;
	return probe_end();
}

int probe_wrmsr(uint32_t msr, uint64_t value)
{
	probe_begin();
	__asm__ volatile(PROBE_ASM("wrmsr")
		: : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
	return probe_end();
}

int probe_read32(uint32_t addr, uint32_t *value)
{
	uint32_t v = 0;
	probe_begin();
	__asm__ volatile(PROBE_ASM("movl (%1), %0") : "+r"(v) : "r"(addr) : "memory");
	*value = v;
	return probe_end();
}

int probe_write32(uint32_t addr, uint32_t value)
{
	probe_begin();
	__asm__ volatile(PROBE_ASM("movl %1, (%0)") : : "r"(addr), "r"(value) : "memory");
	return probe_end();
}

int probe_write_cr4(uint32_t value)
{
	probe_begin();
	__asm__ volatile(PROBE_ASM("movl %0, %%cr4") : : "r"(value) : "memory");
	return probe_end();
}
