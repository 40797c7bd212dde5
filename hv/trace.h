/* trace.h — the exit trace (issue 13): a ring of records per vCPU, written
 * by the exit path itself (exit_dispatch.c), read by the front ends while
 * the guest is stopped (monitor trace, hv.trace).
 *
 * The hot path pays ~15 instructions per exit (make bench): it writes the
 * fields it has in hand, lets two VMREADs store straight into the record,
 * keeps the resume TSC it already reads for the break-in deadline, and
 * wraps the ring with an AND, not a compare: each ring is aligned to twice
 * its size, so clearing the size bit of "one past the end" is the start.
 * Off costs nothing: vmexit.S then calls the exit path built without the
 * record (exit_dispatch.c). */
#ifndef HV_TRACE_H
#define HV_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

#define TRACE_RECORDS 4096	/* per vCPU: a power of two */

/* One exit, 32 bytes.  The exit path stores the whole 32-bit exit reason
 * over reason/verdict/reason_hi: bits 23:16 of a reason are reserved (SDM
 * Vol. 3C §25.9.1, zero), so the verdict reads 0 ("no hook") unless
 * run_hooked() writes one; reason_hi keeps bits 31:24 (bit 31: VM entry
 * failed). */
struct trace_rec {
	uint64_t tsc;		/* TSC at the exit; 0: never written */
	uint64_t rip;		/* GUEST_RIP at the exit */
	uint64_t qual;		/* EXIT_QUALIFICATION */
	uint32_t resume;	/* low 32 bits of the TSC when it resumed the guest */
	union {
		uint32_t reason_word;
		struct {
			uint16_t reason;	/* basic exit reason */
			uint8_t verdict;	/* 0 no hook; else enum hook_verdict + 1 */
			uint8_t reason_hi;
		};
	};
};
_Static_assert(sizeof(struct trace_rec) == 32, "the exit path indexes records by 32 bytes");

/* VMREAD straight into memory (a record field): no register round trip. */
static inline void trace_vmread_to(uint64_t *dst, uint32_t field)
{
	__asm__ volatile("vmread %1, %0" : "=m"(*dst) : "r"((uint64_t)field) : "cc");
}

/* The hot path, start (reason read, before the handler) and end (with the
 * TSC read for the break-in deadline). */
static inline void trace_exit_begin(struct vcpu *v, uint32_t reason, uint64_t tsc)
{
	struct trace_rec *t = v->trace_cur;
	t->tsc = tsc;
	t->reason_word = reason;
	trace_vmread_to(&t->rip, 0x681e);	/* GUEST_RIP */
	trace_vmread_to(&t->qual, 0x6400);	/* EXIT_QUALIFICATION */
}

static inline void trace_exit_end(struct vcpu *v, uint64_t tsc)
{
	struct trace_rec *t = v->trace_cur;
	t->resume = (uint32_t)tsc;
	v->trace_cur = (struct trace_rec *)((uintptr_t)(t + 1) & v->trace_wrap);
}

/* The vCPU's ring (a VMCS's companion: vmcs_alloc_vcpu calls it); without
 * memory the vCPU writes its records to a scratch one and says so. */
void trace_alloc(struct vcpu *v);
/* For an exit that never returns through the end of the path (a failed
 * entry retried with VMLAUNCH): closes its record. */
void trace_exit_close(struct vcpu *v);
/* The verdict of this exit's hooks, for its record (trace on). */
static inline void trace_note_verdict(struct vcpu *v, unsigned verdict)
{
	v->trace_cur->verdict = (uint8_t)(verdict + 1);
}

/* Control, for every vCPU: on/off (from the next exit on; the records
 * stay), and clear (the records go). */
void trace_enable(bool on);
bool trace_enabled(void);
void trace_clear(void);
unsigned trace_capacity(void);	/* records per vCPU */

/* A record as the front ends see it. */
struct trace_entry {
	uint64_t tsc, rip, qual;
	uint64_t ticks;		/* exit → resume; TRACE_TICKS_OPEN while the exit is not over */
	uint32_t reason;	/* the full 32-bit exit reason */
	unsigned vcpu;
	unsigned verdict;	/* 0 no hook, else enum hook_verdict + 1 */
};
#define TRACE_TICKS_OPEN UINT64_MAX

/* Records held: of vCPU `vcpu`, or of all when vcpu < 0. */
unsigned trace_count(int vcpu);
/* The newest n (at most trace_count) records of vCPU `vcpu`, or of all
 * vCPUs merged by TSC when vcpu < 0, oldest first, one call each; returns
 * how many were given.  Read while the guest is stopped (all-stop): a vCPU
 * running meanwhile may overwrite what is read. */
typedef void (*trace_fn)(void *ctx, const struct trace_entry *e);
unsigned trace_walk(int vcpu, unsigned n, trace_fn fn, void *ctx);

/* "CPUID" or "reason 77"; the verdict as a word ("-", "default", "skip",
 * "resume", "stop"); one record as a line of text (monitor trace). */
const char *trace_verdict_name(unsigned verdict);
int trace_format(char *buf, unsigned len, const struct trace_entry *e);
/* The same as a CSV row under the header "tsc,vcpu,reason,code,qual,rip,
 * ticks,hook" (ticks empty while open; code: the full 32-bit reason). */
int trace_format_csv(char *buf, unsigned len, const struct trace_entry *e);

#endif
