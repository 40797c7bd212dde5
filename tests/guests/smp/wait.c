/* wait.c — polling with a limit, in PIT time (BSP) or in polls (AP). */
#include "pic_pit.h"
#include "smp.h"
#include "wait.h"

/* Polls of a few instructions each: ~0.5 s of Bochs time at 50 M
 * instructions a second, far beyond any IPI's round trip. */
#define AP_POLL_LIMIT	5000000u
#define PIT_MAX_US	50000u		/* 50 ms: under the channel's 16-bit count */

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

void wait_us(uint32_t us)
{
	while (us) {
		uint32_t chunk = us < PIT_MAX_US ? us : PIT_MAX_US;
		pit_oneshot_start((uint16_t)(chunk * PIT_TICKS_PER_MS / 1000 + 1));
		while (!pit_oneshot_done())
			cpu_relax();
		us -= chunk;
	}
}

/* One 1 ms slice: true as soon as *v >= want. */
static bool slice_until(volatile uint32_t *v, uint32_t want)
{
	pit_oneshot_start(PIT_TICKS_PER_MS);
	while (!pit_oneshot_done()) {
		if (*v >= want)
			return true;
		cpu_relax();
	}
	return *v >= want;
}

bool wait_count_ms(volatile uint32_t *v, uint32_t want, uint32_t ms)
{
	for (uint32_t slice = 0; slice < ms; slice++)
		if (slice_until(v, want))
			return true;
	return false;
}

bool wait_while_progress(volatile uint32_t *done, uint32_t (*progress)(void), uint32_t stall_ms)
{
	uint32_t last = progress();
	for (uint32_t still = 0; still < stall_ms;) {
		bsp_only_function();
		if (slice_until(done, 1))
			return true;
		uint32_t now = progress();
		still = now == last ? still + 1 : 0;
		last = now;
	}
	return false;
}

bool ap_wait_count(volatile uint32_t *v, uint32_t want)
{
	for (uint32_t i = 0; i < AP_POLL_LIMIT; i++) {
		if (*v >= want)
			return true;
		smp.ap_polls++;
		cpu_relax();
	}
	return *v >= want;
}
