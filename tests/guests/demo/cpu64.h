/* cpu64.h — the 64-bit-only instructions the demo guest needs beside
 * common/x86.h's port, MSR, CPUID and STI/HLT wrappers (whose CR accessors
 * are 32-bit). */
#ifndef DEMO_CPU64_H
#define DEMO_CPU64_H

#include "x86.h"

static inline uint64_t read_cr2_64(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

#endif
