/* report.h — the basic guest's output lines on COM1:
 *   GUEST PASS <name>
 *   GUEST FAIL <name>: <detail>
 *   GUEST SKIP <name>
 *   GUEST INFO <name>: <text>      (facts, never counted)
 * and the tallies behind the final "GUEST DONE" line. */
#ifndef BASIC_REPORT_H
#define BASIC_REPORT_H

#include <stdbool.h>
#include <stdint.h>

void report_pass(const char *name);
void report_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_skip(const char *name);
void report_info(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PASS if ok, else FAIL with the detail (formatted only then). */
void report_expect(const char *name, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

uint32_t report_passed(void);
uint32_t report_failed(void);

#endif
