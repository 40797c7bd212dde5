/* report.c — one line per result, and the counts. */
#include <stdarg.h>

#include "print.h"
#include "report.h"

static uint32_t passed, failed;

void report_pass(const char *name)
{
	passed++;
	kprintf("GUEST PASS %s\n", name);
}

static void fail_v(const char *name, const char *fmt, va_list ap)
{
	failed++;
	kprintf("GUEST FAIL %s: ", name);
	kvprintf(fmt, ap);
	kprintf("\n");
}

void report_fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(name, fmt, ap);
	va_end(ap);
}

void report_skip(const char *name)
{
	kprintf("GUEST SKIP %s\n", name);
}

void report_info(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kprintf("GUEST INFO %s: ", name);
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}

void report_expect(const char *name, bool ok, const char *fmt, ...)
{
	if (ok) {
		report_pass(name);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	fail_v(name, fmt, ap);
	va_end(ap);
}

uint32_t report_passed(void)
{
	return passed;
}

uint32_t report_failed(void)
{
	return failed;
}
