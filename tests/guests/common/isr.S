/* isr.S — one 16-byte stub per vector (trap.c computes their addresses), all funnelling into trap_dispatch.
 * The CPU pushes an error code only for #DF, #TS, #NP, #SS, #GP, #PF, #AC,
 * #CP, #VC, #SX (SDM Vol. 3A §7.13 "Error Code"); the others get a 0 so the
 * frame has one shape. */

#define STUB_SIZE 16

	.macro stub vec
	.balign STUB_SIZE
0:
	.if !((\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30))
	pushl $0
	.endif
	pushl $\vec
	jmp trap_common
	.org 0b + STUB_SIZE	/* fails to assemble if a stub outgrew its slot */
	.endm

	.text
	.code32
	.balign STUB_SIZE
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	stub vec
	.set vec, vec + 1
	.endr

trap_common:
	pushal
	cld			/* the C ABI wants DF clear */
	pushl %esp
	call trap_dispatch
	addl $4, %esp
	popal
	addl $8, %esp		/* vector and error code */
	iret

	.section .note.GNU-stack, "", @progbits
