/* boot.S — from GRUB's multiboot2 hand-off (32-bit protected mode, paging
 * off) to 64-bit long mode with the first 4 GiB identity-mapped by 2 MiB
 * pages, then kmain(magic, info).  SDM Vol. 3A §10.8.5 "Initializing IA-32e
 * Mode" gives the order: PAE, CR3, EFER.LME, CR0.PG. */

#define MB2_MAGIC	0xe85250d6
#define MB2_ARCH_I386	0
#define MB2_BOOT_MAGIC	0x36d76289

#include "platform/long_mode.h"

#define PTE_P		(1 << 0)
#define PTE_W		(1 << 1)
#define PTE_PS		(1 << 7)

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* end tag */
	.short 0
	.short 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	/* First thing: the TSC, so the boot can report its own cost. */
	mov %eax, %esi
	rdtsc
	mov %eax, boot_tsc
	mov %edx, boot_tsc + 4
	mov %esi, boot_magic
	mov %ebx, boot_info

	mov $boot_stack_top, %esp

	/* Long mode present?  CPUID.80000001H:EDX.LM[bit 29]. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx
	jz no_long_mode

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	mov $boot_pdpt, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pml4

	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pdpt(, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jne 1b

	xor %ecx, %ecx		/* entry index over the 2048 PD entries */
2:	mov %ecx, %eax
	shl $21, %eax		/* low 32 bits of the 2 MiB frame */
	or $(PTE_P | PTE_W | PTE_PS), %eax
	mov %ecx, %edx
	shr $11, %edx		/* high bits: frame >> 32 */
	mov %eax, boot_pd(, %ecx, 8)
	mov %edx, boot_pd + 4(, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	LONG_MODE_ON $boot_pml4

	lgdt boot_gdt_desc
	ljmp $0x08, $long_mode_entry

no_long_mode:
	mov $no_lm_msg, %esi
3:	lodsb
	test %al, %al
	jz 4f
	outb %al, $0xe9
	mov %al, %ah
	mov $0x3f8, %dx
	outb %al, %dx
	jmp 3b
4:	hlt
	jmp 4b

	.code64
long_mode_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	xor %ebp, %ebp		/* ends the frame-pointer backtrace */
	mov boot_magic, %edi
	mov boot_info, %esi
	call kmain
5:	cli
	hlt
	jmp 5b

	.section .rodata
no_lm_msg:
	.asciz "vmxdbg: this CPU has no long mode (CPUID.80000001H:EDX.LM=0)\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_desc:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.data
	.globl boot_tsc, boot_magic, boot_info
	.balign 8
boot_tsc:	.quad 0
boot_magic:	.long 0
boot_info:	.long 0

	.bss
	.balign 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096
	.balign 16
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip 64 * 1024
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
