/* probe.h — run one instruction that may fault, and learn what it raised.
 *
 * PROBE_ASM(insn) records the instruction's address and the address just
 * past it before running it.  If it raises an exception, trap_dispatch
 * hands the frame to probe_catch, which records vector, error code, saved
 * EIP (and CR2 for #PF) and resumes after the instruction, whatever its
 * length.  Faults save the EIP of the instruction itself, traps (#BP, INT n)
 * the EIP of the next one (SDM Vol. 3A §7.5 "Exception Classifications"):
 * the recorded EIP tells which kind the CPU delivered. */
#ifndef GUEST_PROBE_H
#define GUEST_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

#define PROBE_NONE	(-1)

struct probe_result {
	int vector;		/* PROBE_NONE if the instruction completed */
	uint32_t error;		/* error code, 0 for vectors without one */
	uint32_t eip;		/* EIP the CPU saved */
	uint32_t cr2;		/* for #PF only */
	uint32_t eflags;	/* the EFLAGS image the CPU saved */
	uint32_t insn;		/* address of the probed instruction */
	uint32_t next;		/* address just past it */
};

/* Written by PROBE_ASM; probe_resume != 0 means a probe is running. */
extern volatile uint32_t probe_insn, probe_resume;
extern struct probe_result probe_result;

/* Numeric labels: 2 = the instruction, 1 = just past it.  Use inside
 * __asm__ volatile with a "memory" clobber, after probe_begin(). */
#define PROBE_ASM(insn)					\
	"movl $2f, probe_insn\n\t"			\
	"movl $1f, probe_resume\n"			\
	"2:\t" insn "\n"				\
	"1:\n\t"					\
	"movl $0, probe_resume\n\t"

void probe_begin(void);
/* The vector raised by the last probe, or PROBE_NONE. */
int probe_end(void);
bool probe_catch(struct trap_frame *f);

/* Ready-made probes.  Each returns the vector raised or PROBE_NONE. */
int probe_rdmsr(uint32_t msr, uint64_t *value);
int probe_wrmsr(uint32_t msr, uint64_t value);
int probe_read32(uint32_t addr, uint32_t *value);
int probe_write32(uint32_t addr, uint32_t value);
int probe_write_cr4(uint32_t value);

#endif
