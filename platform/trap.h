/* trap.h — the IDT and what a fault in the hypervisor reports. */
#ifndef PLATFORM_TRAP_H
#define PLATFORM_TRAP_H

#include <stdint.h>

/* The stack isr.S builds: GPRs it pushed, then vector and error code,
 * then what the CPU pushed (SDM Vol. 3A §7.14.4, 64-bit mode: always SS:RSP). */
struct trap_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

void idt_init(void);
uint64_t idt_base(void);
void trap_dispatch(struct trap_frame *f);
/* Prints "backtrace:" and up to 16 frames, following saved RBPs while they
 * stay on a known stack. */
void print_backtrace(uint64_t rip, uint64_t rbp);

#endif
