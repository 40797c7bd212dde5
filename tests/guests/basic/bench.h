/* bench.h — timed loops of exiting instructions for `make bench`.
 *
 *   bench=cpuid:N          N x CPUID (leaf 0)
 *   bench=io:N[:PORT]      N x IN AL from PORT (default 0x80)
 *   bench=com1:N           a line of N characters to COM1, in pieces of 8
 *                          with a CPUID after each
 *
 * Each prints "GUEST BENCH cpuid n=N tsc=T" or "GUEST BENCH io n=N tsc=T
 * port=0xPP", T the TSC delta over the loop; com1 prints the line
 * ("GUEST BENCH com1-line: 0123...") and "GUEST BENCH com1 n=N tsc=T
 * line=L", T the TSC deltas across the N OUT instructions alone, L the
 * whole line's (waits for the transmitter and CPUIDs included).  Under Bochs with
 * `clock: sync=none` the TSC counts instructions, so T is exact. */
#ifndef BASIC_BENCH_H
#define BASIC_BENCH_H

/* Runs every bench= word in command-line order; a malformed one is a FAIL. */
void bench_run_all(void);

#endif
