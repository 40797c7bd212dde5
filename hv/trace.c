/* trace.c — the exit trace's rings: allocation, on/off, clear (trace.h).
 * The exit path writes them (exit_dispatch.c); trace_read.c reads them. */
#include "trace.h"

#include "exits.h"
#include "platform/cpu.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"

#define RING_BYTES (TRACE_RECORDS * sizeof(struct trace_rec))

/* Where a vCPU without a ring writes: one record, aligned to two, so the
 * ring arithmetic of trace_exit_end() turns round it.  Shared by such
 * vCPUs; never read. */
static struct trace_rec scratch[2] __attribute__((aligned(2 * sizeof(struct trace_rec))));

static bool trace_on = true;

void trace_alloc(struct vcpu *v)
{
	uint64_t pages = RING_BYTES / PAGE_SIZE;
	uint64_t ring = pmm_alloc_contig(&phys_pages, pages, 2 * RING_BYTES);

	if (!ring) {
		log_warn("trace: no memory for vCPU %u's exit trace; its exits go unrecorded", v->index);
		v->trace_ring = NULL;
		v->trace_cur = scratch;
		v->trace_wrap = ~(uintptr_t)sizeof(struct trace_rec);
		return;
	}
	v->trace_ring = v->trace_cur = memset((void *)(uintptr_t)ring, 0, RING_BYTES);
	v->trace_wrap = ~(uintptr_t)RING_BYTES;
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

/* Off: the exit path without the record runs (exit_dispatch.c); the
 * rings keep what they hold.  An exit under way finishes as it began. */
void trace_enable(bool on)
{
	trace_on = on;
	vmexit_trace_select(on);
}

/* Zeroed records read as never written; an exit open now ends in a
 * zeroed record too, which the reader skips. */
void trace_clear(void)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].trace_ring)
			memset(vcpus[i].trace_ring, 0, RING_BYTES);
}
