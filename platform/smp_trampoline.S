/* smp_trampoline.S — where an AP starts after its start-up IPI: real mode
 * at vector:0000 (SDM Vol. 3A §9.4.4 "MP Initialization Example"), then
 * protected mode, then long mode on the BSP's page tables (long_mode.h, as
 * boot.S does), then smp.c's C entry on the stack the BSP gave it.  This is
 * a template: smp.c copies it to a page below 1 MiB and fills in the
 * parameter block at its end (struct smp_trampoline_params), adding the
 * page's address to the three fields that hold offsets. */

#include "platform/long_mode.h"

#define OFF(sym)	((sym) - smp_trampoline_start)

	.section .rodata
	.balign 16
	.globl smp_trampoline_start, smp_trampoline_params, smp_trampoline_end
	.code16
smp_trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	movb $1, OFF(tr_started)	/* the BSP's "started" stage */
	xor %ebx, %ebx
	mov %cs, %bx
	shl $4, %ebx			/* ebx: the page's linear address, kept to the end */
	lgdtl OFF(tr_gdt_desc)
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl *OFF(tr_far32)

	.code32
tr_pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	LONG_MODE_ON OFF(tr_cr3)(%ebx)
	ljmp *OFF(tr_far64)(%ebx)

	.code64
tr_lm64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov OFF(tr_stack)(%rbx), %rsp
	mov OFF(tr_cpu)(%rbx), %edi
	mov OFF(tr_entry)(%rbx), %rax
	xor %ebp, %ebp			/* ends the frame-pointer backtrace */
	call *%rax
1:	cli
	hlt
	jmp 1b

	/* The parameter block: packed, in struct smp_trampoline_params order. */
	.balign 8
smp_trampoline_params:
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tr_gdt_desc:
	.short 4 * 8 - 1
	.long OFF(tr_gdt)		/* + page */
tr_far32:
	.long OFF(tr_pm32)		/* + page */
	.short 0x08
tr_far64:
	.long OFF(tr_lm64)		/* + page */
	.short 0x18
tr_cr3:		.long 0
tr_stack:	.quad 0
tr_entry:	.quad 0
tr_cpu:		.long 0
tr_started:	.byte 0
smp_trampoline_end:

	.section .note.GNU-stack, "", @progbits
