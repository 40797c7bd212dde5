/* log.h — the levelled log. Every line goes to the console UART (when one
 * answered the probe) and to port 0xE9 (Bochs/QEMU debug console). */
#ifndef PLATFORM_LOG_H
#define PLATFORM_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

#include <stdbool.h>
#include <stddef.h>

extern enum log_level log_threshold;
extern bool log_to_e9;

/* Sinks receive whole lines ("\n"-terminated); a UART adds the "\r".
 * flush (may be NULL) waits until what was written has left the machine. */
void log_add_sink(void (*write)(void *ctx, const char *s, size_t n), void (*flush)(void *ctx), void *ctx);
/* Before powering off: the last line must not die in a FIFO. */
void log_flush(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Raw text, no prefix, no newline added; always printed. */
void log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* The log's lock, for whoever else writes the log's devices (the guest's
 * console bytes): returns whether it was taken (0 when this processor
 * already holds it); pass that to log_release. */
int log_hold(void);
/* Set once a second processor may log (hv_start, when APs have vCPUs). */
extern bool log_shared;
void log_release(int taken);

#endif
