/* heap.c — boundary tags (each block knows its size and its predecessor's),
 * so a free merges with both neighbours at once; free blocks sit in 64
 * size-segregated lists: exact 16-byte classes below 512 bytes, one list
 * per power of two above.  A bitmap finds the first non-empty list. */
#include "heap.h"

#include <string.h>

#define USED 1u
#define PREV_USED 2u
#define FLAGS 15u
#define HDR 16u		/* prev_size + head */
#define MIN_BLOCK 32u	/* a free block holds its two list links */
#define SMALL_LIMIT 512u

struct heap_block {
	size_t prev_size;	/* valid when the previous block is free */
	size_t head;		/* size (multiple of 16, header included) | flags */
	struct heap_block *next, *prev;	/* free blocks only */
};

static size_t bsize(const struct heap_block *b) { return b->head & ~(size_t)FLAGS; }
static struct heap_block *next_block(const struct heap_block *b) { return (struct heap_block *)((uint8_t *)b + bsize(b)); }
static struct heap_block *prev_block(const struct heap_block *b) { return (struct heap_block *)((uint8_t *)b - b->prev_size); }
static struct heap_block *header(const void *p) { return (struct heap_block *)((uint8_t *)p - HDR); }

static unsigned bin_of(size_t size)
{
	if (size < SMALL_LIMIT)
		return (unsigned)(size / HEAP_ALIGN);
	unsigned b = 32 + (63 - (unsigned)__builtin_clzll(size)) - 9;
	return b < HEAP_BINS ? b : HEAP_BINS - 1;
}

static void bin_add(struct heap *h, struct heap_block *b)
{
	unsigned i = bin_of(bsize(b));
	b->prev = NULL;
	b->next = h->bins[i];
	if (b->next)
		b->next->prev = b;
	h->bins[i] = b;
	h->binmap |= 1ull << i;
}

static void bin_remove(struct heap *h, struct heap_block *b)
{
	unsigned i = bin_of(bsize(b));
	if (b->prev)
		b->prev->next = b->next;
	else
		h->bins[i] = b->next;
	if (b->next)
		b->next->prev = b->prev;
	if (!h->bins[i])
		h->binmap &= ~(1ull << i);
}

/* Sets b's size and state and tells its successor. */
static void set_block(struct heap_block *b, size_t size, unsigned used)
{
	b->head = size | used | (b->head & PREV_USED);
	struct heap_block *n = next_block(b);
	n->prev_size = size;
	n->head = used ? n->head | PREV_USED : n->head & ~(size_t)PREV_USED;
}

/* b (in no list, its head holding its size) becomes free, merged with free neighbours. */
static void release(struct heap *h, struct heap_block *b)
{
	size_t size = bsize(b);
	struct heap_block *n = next_block(b);
	if (!(n->head & USED)) {
		bin_remove(h, n);
		size += bsize(n);
	}
	if (!(b->head & PREV_USED)) {
		b = prev_block(b);
		bin_remove(h, b);
		size += bsize(b);
	}
	set_block(b, size, 0);
	bin_add(h, b);
}

/* Keeps `size` bytes of the used block b; the rest, if big enough, is freed. */
static void trim(struct heap *h, struct heap_block *b, size_t size)
{
	size_t rest = bsize(b) - size;
	if (rest < MIN_BLOCK)
		return;
	set_block(b, size, USED);
	struct heap_block *r = next_block(b);
	r->head = rest | PREV_USED;
	h->used -= rest;
	release(h, r);
}

static size_t block_size_for(size_t n)
{
	if (n > SIZE_MAX / 4)
		return 0;
	size_t s = (n + HDR + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
	return s < MIN_BLOCK ? MIN_BLOCK : s;
}

bool heap_init(struct heap *h, void *base, size_t size)
{
	memset(h, 0, sizeof(*h));
	size &= ~(size_t)(HEAP_ALIGN - 1);
	if (((uintptr_t)base & (HEAP_ALIGN - 1)) || size < MIN_BLOCK + HDR)
		return false;
	h->base = base;
	h->size = size;
	struct heap_block *b = base;
	struct heap_block *end = (struct heap_block *)((uint8_t *)base + size - HDR);
	b->prev_size = 0;
	b->head = (size - HDR) | PREV_USED;
	end->prev_size = size - HDR;
	end->head = 0 | USED;	/* the sentinel: never merged, never handed out */
	bin_add(h, b);
	return true;
}

static struct heap_block *find_free(struct heap *h, size_t size)
{
	unsigned i = bin_of(size);
	for (struct heap_block *b = h->bins[i]; b; b = b->next)
		if (bsize(b) >= size)
			return b;
	uint64_t above = i + 1 < HEAP_BINS ? h->binmap & (~0ull << (i + 1)) : 0;
	return above ? h->bins[__builtin_ctzll(above)] : NULL;	/* anything there fits */
}

void *heap_alloc(struct heap *h, size_t n)
{
	size_t size = block_size_for(n);
	struct heap_block *b = size ? find_free(h, size) : NULL;
	if (!b)
		return NULL;
	bin_remove(h, b);
	set_block(b, bsize(b), USED);
	h->used += bsize(b);
	trim(h, b, size);
	if (h->used > h->peak)
		h->peak = h->used;
	return (uint8_t *)b + HDR;
}

void heap_free(struct heap *h, void *p)
{
	if (!p)
		return;
	struct heap_block *b = header(p);
	h->used -= bsize(b);
	b->head &= ~(size_t)USED;
	release(h, b);
}

void *heap_realloc(struct heap *h, void *p, size_t n)
{
	if (!p)
		return heap_alloc(h, n);
	struct heap_block *b = header(p);
	size_t size = block_size_for(n), cur = bsize(b);
	if (!size)
		return NULL;
	if (size <= cur) {
		trim(h, b, size);
		return p;
	}
	struct heap_block *nb = next_block(b);
	if (!(nb->head & USED) && cur + bsize(nb) >= size) {
		bin_remove(h, nb);
		h->used += bsize(nb);
		set_block(b, cur + bsize(nb), USED);
		trim(h, b, size);
		if (h->used > h->peak)
			h->peak = h->used;
		return p;
	}
	void *q = heap_alloc(h, n);
	if (q) {
		memcpy(q, p, cur - HDR);
		heap_free(h, p);
	}
	return q;
}

size_t heap_usable(const void *p)
{
	return bsize(header(p)) - HDR;
}

void *heap_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)osize;
	if (nsize == 0) {
		heap_free(ud, ptr);
		return NULL;
	}
	return heap_realloc(ud, ptr, nsize);
}

static bool in_bin(const struct heap *h, const struct heap_block *b)
{
	for (const struct heap_block *x = h->bins[bin_of(bsize(b))]; x; x = x->next)
		if (x == b)
			return true;
	return false;
}

const char *heap_check(const struct heap *h)
{
	const uint8_t *end = h->base + h->size - HDR;
	const struct heap_block *b = (const void *)h->base;
	size_t used = 0, nfree = 0, prev = 0;
	unsigned prev_used = 1;

	while ((const uint8_t *)b < end) {
		size_t s = bsize(b);
		if (s < MIN_BLOCK || (const uint8_t *)b + s > end)
			return "block size out of range";
		if (!!(b->head & PREV_USED) != prev_used)
			return "PREV_USED disagrees with the previous block";
		if (!prev_used && b->prev_size != prev)
			return "prev_size disagrees with the previous block";
		if (b->head & USED) {
			used += s;
		} else {
			if (!prev_used)
				return "two free blocks side by side";
			if (!in_bin(h, b))
				return "free block missing from its list";
			nfree++;
		}
		prev_used = b->head & USED;
		prev = s;
		b = next_block(b);
	}
	if ((const uint8_t *)b != end || !(b->head & USED) || !!(b->head & PREV_USED) != prev_used)
		return "blocks do not end at the sentinel";
	if (used != h->used)
		return "used byte count is off";
	for (unsigned i = 0; i < HEAP_BINS; i++) {
		if (!!h->bins[i] != !!(h->binmap & (1ull << i)))
			return "bin bitmap disagrees with the lists";
		for (const struct heap_block *x = h->bins[i]; x; x = x->next, nfree--)
			if ((x->head & USED) || bin_of(bsize(x)) != i || nfree == 0)
				return "list holds a used, misfiled or unknown block";
	}
	return nfree ? "free block in no list" : NULL;
}
