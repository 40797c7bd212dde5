/* trap.h — the IDT and what a fault in the hypervisor reports. */
#ifndef PLATFORM_TRAP_H
#define PLATFORM_TRAP_H

#include <stdbool.h>
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
/* A page-fault handler of a layer above: returns true when it has rewritten
 * f so that the interrupted code goes on somewhere safe (a guard page was
 * hit on a stack it owns), false to report the fault as the bug it is. */
typedef bool (*trap_pf_fixup)(struct trap_frame *f, uint64_t cr2);
void trap_set_pf_fixup(trap_pf_fixup fn);
uint64_t idt_base(void);
void trap_dispatch(struct trap_frame *f);
/* Prints "backtrace:" and up to 16 frames, following saved RBPs while they
 * stay on a known stack. */
void print_backtrace(uint64_t rip, uint64_t rbp);

#endif
