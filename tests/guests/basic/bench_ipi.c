/* bench_ipi.c — bench=ipi:N and bench=selfipi:N: N fixed IPIs this CPU
 * sends itself through its xAPIC, each taken (an IDT handler that counts
 * and EOIs) before the next is sent.  ipi names the destination by APIC id
 * (an exit under apic=virtual: the ICR write is forwarded to the hardware,
 * whose interrupt exits and is posted); selfipi uses the "self" shorthand
 * (virtualized under apic=virtual: no exit at all; SDM Vol. 3C §30.5);
 * levelipi by APIC id, level-triggered (ICR bits 15 and 14: the receiving
 * APIC sets its TMR bit and the EOI must reach it, SDM Vol. 3A §12.8.4 —
 * under apic=virtual an EOI-induced exit).
 * Prints "GUEST BENCH ipi n=N tsc=T taken=K". */
#include "bench.h"
#include "print.h"
#include "trap.h"
#include "x86.h"

#define APIC_REG(off) (*(volatile uint32_t *)(0xfee00000u + (off)))
#define APIC_ID 0x20
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define SVR_ENABLE 0x100u
#define ICR_FIXED 0x4000u
#define ICR_SELF (1u << 18)
#define ICR_LEVEL_ASSERT 0xc000u	/* trigger mode level, level assert */
#define BENCH_VECTOR 0xe0
#define SPIN_LIMIT 1000000

static volatile uint32_t taken;

static void on_ipi(struct trap_frame *f)
{
	(void)f;
	taken++;
	APIC_REG(APIC_EOI) = 0;
}

void bench_ipi(const char *name, uint32_t n, uint32_t icr_bits)
{
	uint32_t id = APIC_REG(APIC_ID) >> 24;
	uint8_t mask1 = inb(0x21), mask2 = inb(0xa1);

	trap_set_handler(BENCH_VECTOR, on_ipi);
	APIC_REG(APIC_SVR) |= SVR_ENABLE;
	outb(0x21, 0xff);	/* only the IPIs: the 8259 stays quiet meanwhile */
	outb(0xa1, 0xff);
	taken = 0;
	__asm__ volatile("sti");
	uint64_t start = rdtsc();
	for (uint32_t i = 1; i <= n; i++) {
		APIC_REG(APIC_ICR_HIGH) = id << 24;
		APIC_REG(APIC_ICR_LOW) = icr_bits | ICR_FIXED | BENCH_VECTOR;
		for (uint32_t spin = 0; taken != i && spin < SPIN_LIMIT; spin++)
			__asm__ volatile("pause");
	}
	uint64_t tsc = rdtsc() - start;
	__asm__ volatile("cli");
	outb(0x21, mask1);
	outb(0xa1, mask2);
	kprintf("GUEST BENCH %s n=%u tsc=%llu taken=%u\n", name, n, tsc, taken);
}
