/* work.c — something to step through: each round stirs demo_state.work
 * with xorshift64 (Marsaglia), one work_step per word, and folds the words
 * into demo_state.checksum. */
#include "demo.h"

static uint64_t xorshift64(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* noinline: a breakpoint site that stays a function at any -O. */
__attribute__((noinline)) uint64_t work_step(uint64_t word, uint64_t round, uint32_t index)
{
	uint64_t mixed = xorshift64(word + round * 0x9e3779b97f4a7c15ull + index + 1);
	return (mixed << (index & 63)) | (mixed >> ((64 - (index & 63)) & 63));
}

__attribute__((noinline)) void work_round(struct demo_state *s)
{
	uint64_t sum = s->checksum;
	for (uint32_t i = 0; i < DEMO_WORDS; i++) {
		s->work[i] = work_step(s->work[i], s->round, i);
		sum = xorshift64(sum ^ s->work[i]);
	}
	s->checksum = sum;
}
