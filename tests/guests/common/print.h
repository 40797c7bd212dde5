/* print.h — formatted output to COM1. */
#ifndef GUEST_PRINT_H
#define GUEST_PRINT_H

#include <stdarg.h>

/* Conversions: %s %c %d %u %x with optional '0' flag and width, %.*s
 * for a counted string, and %llu %llx for 64-bit values.  Enough for
 * report lines, no more. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

#endif
