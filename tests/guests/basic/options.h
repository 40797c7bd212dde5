/* options.h — the basic guest's command-line options other than bench=
 * (bench.c reads its own).  See README.md for the list. */
#ifndef BASIC_OPTIONS_H
#define BASIC_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

/* expect-vmx=0|1: what CPUID.1:ECX.VMX and the VMX MSRs must show. */
enum vmx_expectation { VMX_JUST_REPORT, VMX_HIDDEN, VMX_VISIBLE };

/* Reports a FAIL line for each malformed option. */
void options_init(void);
enum vmx_expectation options_expect_vmx(void);
/* skip=a,b,c: the named checks are not run. */
bool options_skips(const char *check);
/* hv-reserved=ADDR: a physical address the memory map must show reserved
 * (the hypervisor's own); false if not given. */
bool options_hv_reserved(uint32_t *addr);
/* expect-modules=N: how many modules the loader must hand over; false if
 * not given. */
bool options_expect_modules(uint32_t *n);

#endif
