/* log.c — levelled log lines fanned out to the registered sinks (the
 * console UART) and to port 0xE9, which Bochs and QEMU's debugcon print. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>

#include "cpu.h"
#include "fmt.h"
#include "kstring.h"
#include "percpu.h"

enum log_level log_threshold = LOG_INFO;
bool log_to_e9 = true;

#define MAX_SINKS 2
static struct {
	void (*write)(void *ctx, const char *s, size_t n);
	void (*flush)(void *ctx);
	void *ctx;
} sinks[MAX_SINKS];

void log_add_sink(void (*write)(void *ctx, const char *s, size_t n), void (*flush)(void *ctx), void *ctx)
{
	for (int i = 0; i < MAX_SINKS; i++) {
		if (!sinks[i].write) {
			sinks[i].write = write;
			sinks[i].flush = flush;
			sinks[i].ctx = ctx;
			return;
		}
	}
}

void log_flush(void)
{
	for (int i = 0; i < MAX_SINKS; i++)
		if (sinks[i].flush)
			sinks[i].flush(sinks[i].ctx);
}

/* Processors log whole lines, one at a time.  The holder's index lets a
 * processor that faults while logging report anyway instead of waiting
 * for itself. */
static volatile int log_holder = -1;
bool log_shared;

int log_hold(void)
{
	if (!log_shared)
		return 0;	/* one processor: nothing to take (the console byte's cost) */
	int me = (int)this_cpu()->cpu_index, expected = -1;
	if (__atomic_load_n(&log_holder, __ATOMIC_RELAXED) == me)
		return 0;	/* re-entered (a fault while logging) */
	while (!__atomic_compare_exchange_n(&log_holder, &expected, me, false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		expected = -1;
		pause();
	}
	return 1;
}

void log_release(int taken)
{
	if (taken)
		__atomic_store_n(&log_holder, -1, __ATOMIC_RELEASE);
}

static void emit_locked(const char *s, size_t n)
{
	if (log_to_e9)
		for (size_t i = 0; i < n; i++)
			outb(0xe9, (uint8_t)s[i]);
	for (int i = 0; i < MAX_SINKS; i++)
		if (sinks[i].write)
			sinks[i].write(sinks[i].ctx, s, n);
}

static void emit(const char *s, size_t n)
{
	int taken = log_hold();
	emit_locked(s, n);
	log_release(taken);
}

static const char level_tag[] = "EWID";

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > log_threshold)
		return;
	line[0] = '[';
	line[1] = level_tag[level];
	line[2] = ']';
	line[3] = ' ';
	va_start(ap, fmt);
	int n = kvsnprintf(line + 4, sizeof(line) - 5, fmt, ap);
	va_end(ap);
	size_t len = 4 + ((size_t)n < sizeof(line) - 5 ? (size_t)n : sizeof(line) - 6);
	line[len++] = '\n';
	emit(line, len);
}

void log_raw(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
