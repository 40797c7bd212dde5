/* fmt.h — freestanding formatted output (printf subset), shared by the
 * hypervisor and the host unit tests.
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ',
 * field width and precision (also '*'), length modifiers hh h l ll z t j.
 * No floating point: the hypervisor proper is built -mgeneral-regs-only. */
#ifndef PLATFORM_FMT_H
#define PLATFORM_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Like vsnprintf: writes at most n-1 characters and a NUL (when n > 0),
 * returns the length the full output would have had. */
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
