/* bench.h — timed loops of exiting instructions for `make bench`.
 *
 *   bench=cpuid:N          N x CPUID (leaf 0)
 *   bench=io:N[:PORT]      N x IN AL from PORT (default 0x80)
 *   bench=com1:N           a line of N characters to COM1, in pieces of 8
 *                          with a CPUID after each
 *   bench=store:N          N x MOV to bench_store_page[0] (no exit unless
 *                          a debugger watches that page)
 *   bench=ipi:N            N fixed IPIs to itself by APIC id, each taken
 *   bench=selfipi:N        the same by the "self" shorthand (bench_ipi.c)
 *   bench=levelipi:N       by APIC id, level-triggered
 *   bench=hit:N, read:N    the hidden-breakpoint loops (tools/bench_stealth.py)
 *
 * Each prints "GUEST BENCH cpuid n=N tsc=T" or "GUEST BENCH io n=N tsc=T
 * port=0xPP" ("store" likewise), T the TSC delta over the loop; com1 prints the line
 * ("GUEST BENCH com1-line: 0123...") and "GUEST BENCH com1 n=N tsc=T
 * line=L", T the TSC deltas across the N OUT instructions alone, L the
 * whole line's (waits for the transmitter and CPUIDs included).  Under Bochs with
 * `clock: sync=none` the TSC counts instructions, so T is exact. */
#ifndef BASIC_BENCH_H
#define BASIC_BENCH_H

#include <stdint.h>

/* Runs every bench= word in command-line order; a malformed one is a FAIL. */
void bench_run_all(void);
/* bench_ipi.c: N self-IPIs; icr_bits: 0 (by APIC id), the self shorthand
 * (1 << 18) or level-triggered (0xc000). */
void bench_ipi(const char *name, uint32_t n, uint32_t icr_bits);

#endif
