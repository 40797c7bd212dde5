/* pic_pit.h — the legacy 8259A pair and the 8254 timer, just enough for
 * a periodic IRQ 0 to wake HLT, and for delays timed by channel 2. */
#ifndef GUEST_PIC_PIT_H
#define GUEST_PIC_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIC_VECTOR_BASE	0x20	/* IRQ n -> vector 0x20 + n, clear of the exceptions */

/* Reprogram both PICs to PIC_VECTOR_BASE with every line masked. */
void pic_init(void);
void pic_unmask_only(uint8_t irq);
void pic_mask_all(void);
void pic_eoi(uint8_t irq);
/* Channel 0 as a rate generator at about hz interrupts a second. */
void pit_start(uint32_t hz);

#define PIT_TICKS_PER_MS	1193	/* of PIT_HZ, 1193182 */
/* Channel 2 counting down once from ticks (1-65535), polled, no interrupt:
 * the way firmware and kernels time short delays. */
void pit_oneshot_start(uint16_t ticks);
bool pit_oneshot_done(void);

#endif
