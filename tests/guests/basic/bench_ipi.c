/* bench_ipi.c — bench=selfipi:N: N fixed interrupts the guest sends itself
 * through its local APIC (the "self" shorthand, SDM Vol. 3A §11.6.1), each
 * taken before the next is sent, its handler ending with an EOI.  A
 * script watching EXTERNAL_INTERRUPT adds the cost of a watched interrupt,
 * which `make bench` reads from the difference with an unwatched run. */
#include "bench.h"
#include "trap.h"
#include "x86.h"

#define XAPIC_BASE	0xfee00000u
#define XAPIC_EOI	0xb0
#define XAPIC_SVR	0xf0
#define XAPIC_ICR_LOW	0x300
#define SVR_ENABLE	(1u << 8)
#define SPURIOUS	0xff
#define ICR_SELF	(1u << 18)
#define BENCH_VECTOR	0x41

static volatile uint32_t *const apic = (volatile uint32_t *)XAPIC_BASE;
static volatile uint32_t taken;

static void self_ipi_handler(struct trap_frame *f)
{
	(void)f;
	taken++;
	apic[XAPIC_EOI / 4] = 0;
}

uint64_t bench_self_ipi(uint32_t n)
{
	uint32_t svr = apic[XAPIC_SVR / 4];
	trap_set_handler(BENCH_VECTOR, self_ipi_handler);
	apic[XAPIC_SVR / 4] = svr | SVR_ENABLE | SPURIOUS;
	taken = 0;
	uint64_t start = rdtsc();
	__asm__ volatile("sti" ::: "memory");
	for (uint32_t i = 0; i < n; i++) {
		apic[XAPIC_ICR_LOW / 4] = ICR_SELF | BENCH_VECTOR;
		while (taken == i)
			__asm__ volatile("pause");
	}
	__asm__ volatile("cli" ::: "memory");
	uint64_t tsc = rdtsc() - start;
	apic[XAPIC_SVR / 4] = svr;
	trap_set_handler(BENCH_VECTOR, 0);
	return tsc;
}
