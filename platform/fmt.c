/* fmt.c — a small printf engine: enough for logs, reports and the gdb stub. */
#include "fmt.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
	char *buf;
	size_t cap;
	size_t len;	/* characters the full output needs */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int count)
{
	while (count-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero, plus, space;
	int width;
	int prec;	/* -1: none */
	int size;	/* 0 int, 1 long, 2 long long, -1 short, -2 char */
};

static void emit_number(struct out *o, const struct spec *s, uint64_t v,
			bool negative, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (n == 0 && s->prec != 0)
		tmp[n++] = '0';

	char sign = negative ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
	int zeros = s->prec > n ? s->prec - n : 0;
	int body = n + zeros + (sign ? 1 : 0);
	int fill = s->width > body ? s->width - body : 0;

	if (!s->left && !(s->zero && s->prec < 0))
		pad(o, ' ', fill);
	if (sign)
		put(o, sign);
	if (!s->left && s->zero && s->prec < 0)
		pad(o, '0', fill);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (s->left)
		pad(o, ' ', fill);
}

static void emit_string(struct out *o, const struct spec *s, const char *str)
{
	int n = 0;

	if (!str)
		str = "(null)";
	while (str[n] && (s->prec < 0 || n < s->prec))
		n++;
	int fill = s->width > n ? s->width - n : 0;
	if (!s->left)
		pad(o, ' ', fill);
	for (int i = 0; i < n; i++)
		put(o, str[i]);
	if (s->left)
		pad(o, ' ', fill);
}

static const char *parse_spec(const char *f, struct spec *s, va_list *ap)
{
	*s = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-') s->left = true;
		else if (*f == '0') s->zero = true;
		else if (*f == '+') s->plus = true;
		else if (*f == ' ') s->space = true;
		else break;
	}
	if (*f == '*') {
		s->width = va_arg(*ap, int);
		if (s->width < 0) {
			s->left = true;
			s->width = -s->width;
		}
		f++;
	}
	while (*f >= '0' && *f <= '9')
		s->width = s->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		s->prec = 0;
		if (*f == '*') {
			s->prec = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			s->prec = s->prec * 10 + (*f++ - '0');
	}
	for (;; f++) {
		if (*f == 'h') s->size--;
		else if (*f == 'l') s->size++;
		else if (*f == 'z' || *f == 't' || *f == 'j') s->size = 2;
		else break;
	}
	return f;
}

static uint64_t take_unsigned(const struct spec *s, va_list *ap)
{
	if (s->size >= 2) return va_arg(*ap, unsigned long long);
	if (s->size == 1) return va_arg(*ap, unsigned long);
	unsigned v = va_arg(*ap, unsigned);
	if (s->size == -1) return (unsigned short)v;
	if (s->size <= -2) return (unsigned char)v;
	return v;
}

static int64_t take_signed(const struct spec *s, va_list *ap)
{
	if (s->size >= 2) return va_arg(*ap, long long);
	if (s->size == 1) return va_arg(*ap, long);
	int v = va_arg(*ap, int);
	if (s->size == -1) return (short)v;
	if (s->size <= -2) return (signed char)v;
	return v;
}

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap_in)
{
	struct out o = { .buf = buf, .cap = n };
	struct spec s;
	va_list ap;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &s, &ap);
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = take_signed(&s, &ap);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			emit_number(&o, &s, mag, v < 0, 10, false);
			break;
		}
		case 'u': emit_number(&o, &s, take_unsigned(&s, &ap), false, 10, false); break;
		case 'x': emit_number(&o, &s, take_unsigned(&s, &ap), false, 16, false); break;
		case 'X': emit_number(&o, &s, take_unsigned(&s, &ap), false, 16, true); break;
		case 'o': emit_number(&o, &s, take_unsigned(&s, &ap), false, 8, false); break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			emit_number(&o, &s, (uintptr_t)va_arg(ap, void *), false, 16, false);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			int fill = s.width > 1 ? s.width - 1 : 0;
			if (!s.left) pad(&o, ' ', fill);
			put(&o, c);
			if (s.left) pad(&o, ' ', fill);
			break;
		}
		case 's': emit_string(&o, &s, va_arg(ap, const char *)); break;
		case '%': put(&o, '%'); break;
		case '\0':
			f--;	/* a lone '%' at the end prints nothing */
			break;
		default:	/* unknown conversion: print it verbatim */
			put(&o, '%');
			put(&o, *f);
			break;
		}
	}
	va_end(ap);
	if (n)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return (int)o.len;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
