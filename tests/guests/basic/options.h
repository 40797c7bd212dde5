/* options.h — the basic guest's command-line options other than bench=
 * (bench.c reads its own).  See README.md for the list. */
#ifndef BASIC_OPTIONS_H
#define BASIC_OPTIONS_H

#include <stdbool.h>

/* expect-vmx=0|1: what CPUID.1:ECX.VMX and the VMX MSRs must show. */
enum vmx_expectation { VMX_JUST_REPORT, VMX_HIDDEN, VMX_VISIBLE };

/* Reports a FAIL line for each malformed option. */
void options_init(void);
enum vmx_expectation options_expect_vmx(void);
/* skip=a,b,c: the named checks are not run. */
bool options_skips(const char *check);

#endif
