/* percpu.c — one block per CPU, indexed by the order smp.c starts them in. */
#include "percpu.h"

#include <stddef.h>

#include "cpu.h"
#include "kstring.h"

_Static_assert(offsetof(struct percpu, canary) == 0x28, "musl canary offset");
_Static_assert(offsetof(struct percpu, errno_value) == 0x34, "musl errno offset");
_Static_assert(offsetof(struct percpu, locale) == 0xa8, "musl locale offset");

static struct percpu cpus[PERCPU_MAX] __attribute__((aligned(64)));
static const void *const c_locale[6];

void percpu_init(uint32_t cpu_index)
{
	uint32_t a, b, c, d;
	struct percpu *p = &cpus[cpu_index];

	memset(p, 0, sizeof(*p));
	p->self = p;
	p->canary = rdtsc() * 0x9e3779b97f4a7c15ull;
	p->locale = c_locale;
	p->cpu_index = cpu_index;
	cpuid(1, 0, &a, &b, &c, &d);
	p->apic_id = b >> 24;
	wrmsr(MSR_IA32_FS_BASE, (uint64_t)(uintptr_t)p);
}

struct percpu *this_cpu(void)
{
	/* FS base is 0 until percpu_init: that is the BSP, early in boot. */
	struct percpu *p = (struct percpu *)(uintptr_t)rdmsr(MSR_IA32_FS_BASE);
	return p ? p : &cpus[0];
}
