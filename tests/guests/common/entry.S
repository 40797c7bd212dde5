/* entry.S — the first instructions (the multiboot header is header.S's).
 * The loader (GRUB, QEMU -kernel, or vmxdbg) leaves us in 32-bit protected
 * mode with paging off, EAX = the boot magic (0x2BADB002 for v1,
 * 0x36D76289 for multiboot2), EBX = the information structure, and no
 * stack (Multiboot 0.6.96 §3.2, Multiboot2 §3.3 "I386 machine state"):
 * record that state before touching anything, then give C a stack. */

	.text
	.code32
	.globl _start
_start:
	movl %eax, boot_state + 0	/* boot_state.eax */
	movl %ebx, boot_state + 4	/* boot_state.ebx */
	movl %cr0, %eax
	movl %eax, boot_state + 8	/* boot_state.cr0 */
	movl $stack_top, %esp
	pushfl
	popl boot_state + 12		/* boot_state.eflags: before we change it */
	cld

	/* ELF says memory past a segment's file size reads as zero and the
	 * loader is to make it so.  Note whether it did, then make sure. */
	xorl %edx, %edx
	movl $_bss_start, %edi
1:	cmpl $_bss_end, %edi
	jae 2f
	orl (%edi), %edx
	addl $4, %edi
	jmp 1b
2:	movl %edx, boot_state + 16	/* boot_state.bss_or: 0 if the loader zeroed .bss */
	movl $_bss_start, %edi
	movl $_bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	call guest_start
3:	cli
	hlt
	jmp 3b

	/* Outside .bss so that the scan above does not see our own pushes. */
	.section .stack, "aw", @nobits
	.balign 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
