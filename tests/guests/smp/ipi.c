/* ipi.c — count IPIs in IDT handlers that EOI; send them acknowledged. */
#include "ipi.h"
#include "lapic.h"
#include "smp.h"
#include "trap.h"

/* Each vector belongs to one CPU: taken on the other, it was misrouted. */
static void count_ipi(volatile uint32_t *count, uint32_t owner_apic_id)
{
	if (lapic_id() != owner_apic_id)
		smp.misrouted++;
	(*count)++;
	lapic_eoi();
}

static void to_ap(struct trap_frame *f)
{
	(void)f;
	count_ipi(&smp.ipis_to_ap, smp.ap_apic_id);
}

static void to_bsp(struct trap_frame *f)
{
	(void)f;
	count_ipi(&smp.ipis_to_bsp, smp.bsp_apic_id);
}

/* A spurious interrupt is not in service: no EOI (SDM Vol. 3A §11.9). */
static void spurious(struct trap_frame *f)
{
	(void)f;
	smp.spurious++;
}

void ipi_init(void)
{
	trap_set_handler(SMP_VECTOR_TO_AP, to_ap);
	trap_set_handler(SMP_VECTOR_TO_BSP, to_bsp);
	trap_set_handler(LAPIC_SPURIOUS_VECTOR, spurious);
}

uint32_t ipi_send_acked(uint32_t dest, uint8_t vector, volatile uint32_t *count,
			bool (*wait)(volatile uint32_t *v, uint32_t want))
{
	uint32_t base = *count;
	for (uint32_t i = 1; i <= SMP_IPIS; i++) {
		lapic_send(dest, ICR_FIXED | vector);
		if (!wait(count, base + i))
			return i - 1;
	}
	return SMP_IPIS;
}
