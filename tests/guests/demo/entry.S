/* entry.S — from the multiboot entry state (32-bit protected mode, paging
 * off; Multiboot 0.6.96 §3.2) to 64-bit mode, then demo_main().
 *
 * Page tables, built here in .bss: PML4[0] -> PDPT; PDPT[0] -> a directory
 * identity-mapping 0..1 GiB with 2 MiB pages; PDPT[1] -> demand_pd, whose
 * first entry points at demand_pt, empty: the 2 MiB at DEMAND_BASE (1 GiB)
 * are where the guest takes page faults and maps pages itself (paging.c). */

#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_PS		0x080	/* a 2 MiB page in a directory entry */
#define CR0_PE		0x00000001
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100
#define SEL_CODE64	0x08
#define SEL_DATA	0x10

	.text
	.code32
	.globl _start
_start:
	movl $stack_top, %esp
	cld
	movl $_bss_start, %edi		/* the loader zeroes .bss; make sure */
	movl $_bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	movl $(pdpt + PTE_P + PTE_W), pml4
	movl $(low_pd + PTE_P + PTE_W), pdpt
	movl $(demand_pd + PTE_P + PTE_W), pdpt + 8
	movl $(demand_pt + PTE_P + PTE_W), demand_pd
	movl $low_pd, %edi
	movl $(PTE_P + PTE_W + PTE_PS), %eax
	movl $512, %ecx
1:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

	/* IA-32e mode: PAE, CR3, EFER.LME, then paging (SDM Vol. 3A §10.8.5). */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG + CR0_PE), %eax
	movl %eax, %cr0
	lgdt gdt_descriptor
	ljmp $SEL_CODE64, $long_mode

	.code64
	/* The call frame information goes to .debug_frame with the C code's
	 * (the linker script drops .eh_frame). */
	.cfi_sections .debug_frame
long_mode:
	.cfi_startproc
	.cfi_undefined rip		/* the outermost frame: gdb's backtrace ends here */
	movl $SEL_DATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	xorl %ebp, %ebp			/* the end of every backtrace */
	call demo_main
2:	hlt
	jmp 2b
	.cfi_endproc

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL 0 (L=1, D=0) */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat */
gdt_end:
gdt_descriptor:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
low_pd:	.skip 4096
demand_pd:	.skip 4096
	.globl demand_pt
demand_pt:	.skip 4096

	.section .stack, "aw", @nobits
	.balign 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
