/* work.c — fill and stir a buffer; its CRC-32 is the run's checksum. */
#include "crc32.h"
#include "work.h"

#define WORK_WORDS 256

/* Page-aligned, and work.c links last: only the deep end of the stack
 * shares the page, so a debugger watching it sees work_round's writes. */
static uint32_t work_buffer[WORK_WORDS] __attribute__((aligned(4096)));
static uint32_t xorshift_state = 0x2545f491u;

/* Marsaglia's xorshift32: fixed seed, fixed sequence. */
static uint32_t xorshift32(void)
{
	uint32_t x = xorshift_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return xorshift_state = x;
}

__attribute__((noinline)) uint32_t work_step(uint32_t word, uint32_t round, uint32_t index)
{
	uint32_t mixed = word ^ xorshift32() ^ (round * 0x9e3779b9u);
	return (mixed << (index & 31)) | (mixed >> ((32 - (index & 31)) & 31));
}

void work_round(uint32_t round)
{
	for (uint32_t i = 0; i < WORK_WORDS; i++)
		work_buffer[i] = work_step(work_buffer[i], round, i);
	/* Carry each word into the next, so an early error spreads. */
	for (uint32_t i = 1; i < WORK_WORDS; i++)
		work_buffer[i] += work_buffer[i - 1];
}

uint32_t work_checksum(void)
{
	return crc32(work_buffer, sizeof(work_buffer));
}
