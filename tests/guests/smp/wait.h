/* wait.h — bounded waits: nothing in this guest waits forever.  The BSP
 * times its waits with the PIT (in 1 ms one-shots, so a debugger holding
 * the machine costs one slice, not the whole timeout); the AP, which must
 * not share the PIT, counts its polls. */
#ifndef SMP_WAIT_H
#define SMP_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* BSP only. */
void wait_us(uint32_t us);
/* Until *v >= want, at most ms milliseconds. */
bool wait_count_ms(volatile uint32_t *v, uint32_t want, uint32_t ms);
/* Until *done, as long as progress() keeps changing: false once it stood
 * still for stall_ms milliseconds.  Calls bsp_only_function each slice. */
bool wait_while_progress(volatile uint32_t *done, uint32_t (*progress)(void), uint32_t stall_ms);

/* AP only: until *v >= want, at most AP_POLL_LIMIT polls (smp.ap_polls counts them). */
bool ap_wait_count(volatile uint32_t *v, uint32_t want);

#endif
