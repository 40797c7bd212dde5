/* trampoline.S — where the AP starts after its start-up IPI: real mode at
 * vector:0000 (SDM Vol. 3A §9.4.4.1, Table 9-1), then protected mode
 * (§10.9.1) with flat segments, then C (ap_entry) on the AP's own stack.
 * main.c copies smp_trampoline..smp_trampoline_end to SMP_TRAMPOLINE_BASE
 * (below 1 MiB, page-aligned: the SIPI vector is its page number), so every
 * address the copy uses inside itself is computed for that place: AT(sym).
 * Addresses outside it (ap_stack_top, ap_entry) are the image's own. */

#include "trampoline.h"

#define AT(sym)		((sym) - smp_trampoline + SMP_TRAMPOLINE_BASE)
#define CR0_PE		1

	.section .text.trampoline, "ax"
	.globl smp_trampoline, smp_trampoline_end
	.code16
smp_trampoline:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds			/* DS base 0: AT() addresses are below 64 KiB */
	lgdtl AT(tramp_gdt_desc)	/* 32-bit operand: the base's top byte too */
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $0x08, $AT(tramp_pm32)	/* loads CS from the new GDT */

	.code32
tramp_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $ap_stack_top, %esp
	xorl %ebp, %ebp			/* ends gdb's backtrace here */
	movl $ap_entry, %eax		/* absolute: a relative call would miss from the copy */
	call *%eax
1:	cli
	hlt
	jmp 1b

	/* The same selectors as common/gdt.c, which ap_entry loads next. */
	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: base 0, limit 4 GiB, 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: base 0, limit 4 GiB, data */
tramp_gdt_desc:
	.short 3 * 8 - 1
	.long AT(tramp_gdt)
smp_trampoline_end:

	/* The AP's stack: .bss, zeroed by the BSP long before the AP starts. */
	.bss
	.balign 16
	.globl ap_stack_top
	.skip SMP_AP_STACK_SIZE
ap_stack_top:

	.section .note.GNU-stack, "", @progbits
