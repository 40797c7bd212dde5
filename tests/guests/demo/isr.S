/* isr.S — 64-bit interrupt stubs for vectors 0-47 (exceptions and the two
 * PICs' IRQs), each 16 bytes (idt.c computes their addresses), all calling
 * demo_trap with the frame.  The CPU pushes an error code for #DF, #TS,
 * #NP, #SS, #GP, #PF, #AC, #CP (SDM Vol. 3A §7.13); the others get a 0. */

#define STUB_SIZE 16

	.macro stub vec
	.balign STUB_SIZE
0:
	.if !((\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21))
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
	.org 0b + STUB_SIZE	/* fails to assemble if a stub outgrew its slot */
	.endm

	.text
	.code64
	.balign STUB_SIZE
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 48
	stub vec
	.set vec, vec + 1
	.endr

/* Saves the caller-saved registers (demo_trap saves the others itself)
 * and calls demo_trap with the frame.  Nine pushes after the CPU's five
 * and the stub's two keep RSP 16-byte aligned at the call (the CPU aligns
 * RSP before pushing, SDM Vol. 3A §7.14.2).  The CFI describes the
 * interrupted code's RIP and RSP in the CPU's frame, so gdb's backtrace
 * from a handler reaches the code the interrupt stopped. */
	.macro save reg
	pushq %\reg
	.cfi_adjust_cfa_offset 8
	.endm
	.macro restore reg
	popq %\reg
	.cfi_adjust_cfa_offset -8
	.endm

	.cfi_sections .debug_frame
trap_common:
	.cfi_startproc simple
	.cfi_signal_frame
	.cfi_def_cfa rsp, 56		/* vector, error code, RIP, CS, RFLAGS, RSP, SS */
	.cfi_offset rip, -40
	.cfi_offset rsp, -16
	save rax
	save rcx
	save rdx
	save rsi
	save rdi
	save r8
	save r9
	save r10
	save r11
	cld
	movq %rsp, %rdi
	call demo_trap
	restore r11
	restore r10
	restore r9
	restore r8
	restore rdi
	restore rsi
	restore rdx
	restore rcx
	restore rax
	addq $16, %rsp		/* vector and error code */
	.cfi_adjust_cfa_offset -16
	iretq
	.cfi_endproc

	.section .note.GNU-stack, "", @progbits
