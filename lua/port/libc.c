/* libc.c — strong definitions that keep musl's syscall-using members out
 * of the image (docs/platform-notes.md lists them).  Lua's file functions (only
 * luaL_loadfilex, never called: loadfile and dofile are gone) fail; the
 * rest is the little the hypervisor can honestly offer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap.h"
#include "platform/power.h"

extern struct heap lhv_heap;

FILE *const stdin = NULL;

FILE *fopen(const char *restrict path, const char *restrict mode)
{
	(void)path;
	(void)mode;
	errno = ENOENT;
	return NULL;
}

FILE *freopen(const char *restrict path, const char *restrict mode, FILE *restrict f)
{
	(void)f;
	return fopen(path, mode);
}

int fclose(FILE *f) { (void)f; return EOF; }
#undef getc
int getc(FILE *f) { (void)f; return EOF; }
int ferror(FILE *f) { (void)f; return 1; }
int feof(FILE *f) { (void)f; return 1; }

size_t fread(void *restrict buf, size_t size, size_t n, FILE *restrict f)
{
	(void)buf;
	(void)size;
	(void)n;
	(void)f;
	return 0;
}

/* musl's stdio locks (futex-based): one CPU, interrupts off, nothing to lock. */
int __lockfile(FILE *f);
void __unlockfile(FILE *f);
int __lockfile(FILE *f) { (void)f; return 0; }
void __unlockfile(FILE *f) { (void)f; }

char *strerror(int e)
{
	return e == ENOENT ? "no files in the hypervisor" : "error";
}

/* The "C" locale collates bytewise. */
int strcoll(const char *a, const char *b)
{
	return strcmp(a, b);
}

/* Seeds only (math.randomseed without arguments): the TSC will do. */
time_t time(time_t *t)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	time_t now = (time_t)((uint64_t)hi << 32 | lo);
	if (t)
		*t = now;
	return now;
}

/* Lua passes its own allocator to lua_newstate; these only satisfy
 * lauxlib's reference to them (luaL_newstate is never called). */
void *realloc(void *p, size_t n)
{
	return heap_realloc(&lhv_heap, p, n);
}

void free(void *p)
{
	heap_free(&lhv_heap, p);
}

_Noreturn void abort(void)
{
	panic("lua: abort() (an unprotected Lua error: a bug in lua/)");
}

_Noreturn void __stack_chk_fail(void);
_Noreturn void __stack_chk_fail(void)
{
	panic("lua: stack protector tripped in musl code");
}
