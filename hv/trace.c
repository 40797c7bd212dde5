/* trace.c — the exit trace's rings: allocation, on/off, clear (trace.h).
 * The exit path writes them (exit_dispatch.c); trace_read.c reads them. */
#include "trace.h"

#include "platform/cpu.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"

#define RING_BYTES (TRACE_RECORDS * sizeof(struct trace_rec))

/* Where an untraced exit writes: one record, aligned to two, so the ring
 * arithmetic of trace_exit_end() turns round it.  Shared by every vCPU;
 * never read. */
static struct trace_rec scratch[2] __attribute__((aligned(2 * sizeof(struct trace_rec))));
#define SCRATCH_WRAP (~(uintptr_t)sizeof(struct trace_rec))

static bool trace_on = true;

static void point_at_scratch(struct vcpu *v)
{
	v->trace_cur = scratch;
	v->trace_wrap = SCRATCH_WRAP;
}

void trace_alloc(struct vcpu *v)
{
	uint64_t pages = RING_BYTES / PAGE_SIZE;
	uint64_t ring = pmm_alloc_contig(&phys_pages, pages, 2 * RING_BYTES);

	point_at_scratch(v);
	v->trace_ring = v->trace_pos = NULL;
	if (!ring) {
		log_warn("trace: no memory for vCPU %u's exit trace; its exits go unrecorded", v->index);
		return;
	}
	v->trace_ring = v->trace_pos = memset((void *)(uintptr_t)ring, 0, RING_BYTES);
	if (trace_on) {
		v->trace_cur = v->trace_ring;
		v->trace_wrap = ~(uintptr_t)RING_BYTES;
	}
}

void trace_exit_close(struct vcpu *v)
{
	trace_exit_end(v, rdtsc());
}

bool trace_enabled(void)
{
	return trace_on;
}

unsigned trace_capacity(void)
{
	return TRACE_RECORDS;
}

/* Off: the ring keeps its place (trace_pos) and an exit open on it right
 * now (the debugger's stop) is dropped, since its end will not reach it. */
void trace_enable(bool on)
{
	if (on == trace_on)
		return;
	trace_on = on;
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = &vcpus[i];
		if (!v->trace_ring)
			continue;
		if (on) {
			v->trace_cur = v->trace_pos;
			v->trace_wrap = ~(uintptr_t)RING_BYTES;
		} else {
			v->trace_pos = v->trace_cur;
			memset(v->trace_pos, 0, sizeof(*v->trace_pos));
			point_at_scratch(v);
		}
	}
}

/* Zeroed records read as never written; an exit open now ends in a
 * zeroed record too, which the reader skips. */
void trace_clear(void)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].trace_ring)
			memset(vcpus[i].trace_ring, 0, RING_BYTES);
}
