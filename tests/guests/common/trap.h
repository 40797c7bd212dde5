/* trap.h — the IDT, the stack frame every vector sees, and per-vector handlers. */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include <stdint.h>

/* What isr.S pushed (PUSHAD order reversed, then vector and error code),
 * then what the CPU pushed for a same-privilege interrupt: EIP, CS, EFLAGS
 * (SDM Vol. 3A §7.12.1 "Exception- or Interrupt-Handler Procedures"). */
struct trap_frame {
	uint32_t edi, esi, ebp, esp_at_pushad, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

typedef void (*trap_handler)(struct trap_frame *f);

void idt_init(void);
/* Load the IDT idt_init built: what another processor does to share it. */
void idt_load(void);
/* A handler may edit the frame: EIP to resume elsewhere, EAX to return a value. */
void trap_set_handler(uint8_t vector, trap_handler h);
void trap_dispatch(struct trap_frame *f);
const char *trap_name(uint32_t vector);

#endif
