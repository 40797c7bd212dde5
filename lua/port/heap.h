/* heap.h — the Lua heap: a boundary-tag allocator with segregated free
 * lists over one region (carved from the page allocator in the image, from
 * malloc in the host tests).  The region's size is the cap: past it an
 * allocation returns NULL, Lua raises LUA_ERRMEM after a full collection,
 * and the state stays usable.  Pure C, no hardware. */
#ifndef LUA_PORT_HEAP_H
#define LUA_PORT_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_ALIGN 16
#define HEAP_BINS 64

struct heap_block;

struct heap {
	uint8_t *base;
	size_t size;
	size_t used;		/* bytes in allocated blocks, headers included */
	size_t peak;
	uint64_t binmap;	/* bit b: bins[b] is not empty */
	struct heap_block *bins[HEAP_BINS];
};

/* Takes [base, base+size); base 16-byte aligned.  false when too small. */
bool heap_init(struct heap *h, void *base, size_t size);
void *heap_alloc(struct heap *h, size_t n);
void heap_free(struct heap *h, void *p);
/* Like realloc; shrinking never fails (Lua relies on it). */
void *heap_realloc(struct heap *h, void *p, size_t n);
/* Bytes usable in the block p points to. */
size_t heap_usable(const void *p);
/* Walks every block and list: NULL when consistent, else what is wrong. */
const char *heap_check(const struct heap *h);

/* A lua_Alloc over ud = struct heap *. */
void *heap_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

#endif
