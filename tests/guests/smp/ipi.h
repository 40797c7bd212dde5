/* ipi.h — fixed-vector IPIs between the two CPUs, each one acknowledged
 * by the receiver's handler before the next is sent. */
#ifndef SMP_IPI_H
#define SMP_IPI_H

#include <stdbool.h>
#include <stdint.h>

/* Handlers for SMP_VECTOR_TO_AP, SMP_VECTOR_TO_BSP and the spurious vector
 * in the IDT both CPUs share. */
void ipi_init(void);
/* Sends SMP_IPIS IPIs of vector to dest, one at a time: after each, wait
 * until *count (the receiver's handler's) has gone up by one.  Two IPIs
 * of one vector pending together are one IRR bit (SDM Vol. 3A §11.8.4),
 * so without the handshake the count would depend on timing.  Returns how
 * many were acknowledged (SMP_IPIS, or where it gave up). */
uint32_t ipi_send_acked(uint32_t dest, uint8_t vector, volatile uint32_t *count,
			bool (*wait)(volatile uint32_t *v, uint32_t want));

#endif
