/* work.c — each CPU stirs its own memory with xorshift32 and takes its
 * CRC-32; both bump one counter with LOCK-prefixed adds (SDM Vol. 3A
 * §9.1.2.2: the lock makes the read-modify-write atomic across CPUs). */
#include "crc32.h"
#include "smp.h"
#include "work.h"

#define WORK_WORDS	1024
#define WORK_ROUNDS	4

static uint32_t work_area[2][WORK_WORDS] __attribute__((aligned(4096)));
static const uint32_t work_seed[2] = { 0x13579bdfu, 0x2468ace1u };

uint32_t work_area_run(unsigned cpu)
{
	uint32_t *w = work_area[cpu], x = work_seed[cpu];
	for (uint32_t round = 0; round < WORK_ROUNDS; round++) {
		for (uint32_t i = 0; i < WORK_WORDS; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			w[i] = ((w[i] << 7) | (w[i] >> 25)) ^ x ^ round;
		}
	}
	return crc32(w, sizeof(work_area[cpu]));
}

void work_locked_adds(void)
{
	for (uint32_t i = 0; i < SMP_LOCKED_ADDS; i++)
		__asm__ volatile("lock incl %0" : "+m"(smp.locked_counter));
}

uint32_t work_checksum(void)
{
	const uint32_t summary[] = { smp.crc[SMP_CPU_BSP], smp.crc[SMP_CPU_AP], smp.locked_counter,
				     smp.ipis_to_ap, smp.ipis_to_bsp, ap_counter };
	return crc32(summary, sizeof(summary));
}
