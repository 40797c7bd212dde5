/* print.c — a minimal printf over uart_putc. */
#include <stdbool.h>
#include <stdint.h>

#include "print.h"
#include "uart.h"

/* 64-bit by 10 without libgcc's __udivdi3: shift-and-subtract long division. */
static uint32_t divmod10(uint64_t *n)
{
	uint64_t q = 0;
	uint32_t r = 0;
	for (int bit = 63; bit >= 0; bit--) {
		r = (r << 1) | (uint32_t)((*n >> bit) & 1);
		if (r >= 10) {
			r -= 10;
			q |= 1ull << bit;
		}
	}
	*n = q;
	return r;
}

static void put_number(uint64_t n, unsigned base, int width, char pad)
{
	char digits[24];
	int len = 0;
	do {
		uint32_t d;
		if (base == 16) {
			d = (uint32_t)n & 0xf;
			n >>= 4;
		} else {
			d = divmod10(&n);
		}
		digits[len++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
	} while (n);
	for (int i = len; i < width; i++)
		uart_putc(pad);
	while (len)
		uart_putc(digits[--len]);
}

void kvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		char pad = ' ';
		int width = 0, precision = -1;
		bool wide = false;
		if (*++fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (fmt[0] == '.' && fmt[1] == '*') {
			precision = va_arg(ap, int);
			fmt += 2;
		}
		if (fmt[0] == 'l' && fmt[1] == 'l') {
			wide = true;
			fmt += 2;
		}
		switch (*fmt) {
		case 's':
			for (const char *s = va_arg(ap, const char *); *s && precision != 0; s++, precision--)
				uart_putc(*s);
			break;
		case 'c':
			uart_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			int v = va_arg(ap, int);
			if (v < 0)
				uart_putc('-');
			put_number(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
		case 'x':
			put_number(wide ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t),
				   *fmt == 'x' ? 16 : 10, width, pad);
			break;
		case '%':
			uart_putc('%');
			break;
		default:	/* unknown conversion: show it rather than guess */
			uart_putc('%');
			uart_putc(*fmt);
			if (!*fmt)
				return;
		}
	}
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
