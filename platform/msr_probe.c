/* msr_probe.c — RDMSR that survives a #GP (see msr_probe.h). */
#include "msr_probe.h"

#define VEC_GP 13

extern const char msr_probe_insn[], msr_probe_resume[];
static volatile bool probing, faulted;

bool msr_probe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;
	probing = true;
	faulted = false;
	__asm__ volatile(".globl msr_probe_insn, msr_probe_resume\n"
			 "msr_probe_insn: rdmsr\n"
			 "msr_probe_resume:"
			 : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	probing = false;
	*value = ((uint64_t)hi << 32) | lo;
	return !faulted;
}

bool msr_probe_catch(struct trap_frame *f)
{
	if (!probing || f->vector != VEC_GP || f->rip != (uint64_t)(uintptr_t)msr_probe_insn)
		return false;
	faulted = true;
	f->rip = (uint64_t)(uintptr_t)msr_probe_resume;
	return true;
}
