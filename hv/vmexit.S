/* vmexit.S — the two doors between root and non-root operation.
 *
 * vmx_launch(gprs): load the guest's GPRs and VMLAUNCH.  Returns only when
 * the launch fails (VMfailInvalid/VMfailValid in the flags, SDM Vol. 3C
 * §31.3 "VMLAUNCH/VMRESUME"), with callee-saved registers restored.
 *
 * vmexit_entry: HOST_RIP.  The CPU arrives here on every VM exit with RSP =
 * HOST_RSP (the top of the exit stack) and the guest's GPRs still live
 * (SDM Vol. 3C §28.5: only the host-state area is loaded).  The GPRs are
 * pushed so that they form a struct guest_gprs (hv/vcpu.h), indexed by
 * register number, and vmexit_dispatch() gets a pointer to it. */

	.text
	.globl vmx_launch
vmx_launch:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rdi, %rax
	movq 8*1(%rax), %rcx
	movq 8*2(%rax), %rdx
	movq 8*3(%rax), %rbx
	movq 8*5(%rax), %rbp
	movq 8*6(%rax), %rsi
	movq 8*7(%rax), %rdi
	movq 8*8(%rax), %r8
	movq 8*9(%rax), %r9
	movq 8*10(%rax), %r10
	movq 8*11(%rax), %r11
	movq 8*12(%rax), %r12
	movq 8*13(%rax), %r13
	movq 8*14(%rax), %r14
	movq 8*15(%rax), %r15
	movq 8*0(%rax), %rax
	vmlaunch
	/* Only reached on failure: 1 = VMfailInvalid (CF), 2 = VMfailValid (ZF). */
	setc %al
	setz %dl
	movzbl %al, %eax
	movzbl %dl, %edx
	addl %edx, %edx
	orl %edx, %eax
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.globl vmexit_entry
vmexit_entry:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rdi
	pushq %rsi
	pushq %rbp
	pushq $0		/* RSP slot: the guest's RSP is GUEST_RSP */
	pushq %rbx
	pushq %rdx
	pushq %rcx
	pushq %rax
	movq %rsp, %rdi
	xorl %ebp, %ebp		/* the backtrace stops here */
	call vmexit_dispatch
	popq %rax
	popq %rcx
	popq %rdx
	popq %rbx
	addq $8, %rsp
	popq %rbp
	popq %rsi
	popq %rdi
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	vmresume
	/* VMRESUME failed: report with the flags, never returns. */
	setc %dil
	setz %sil
	movzbl %dil, %edi
	movzbl %sil, %esi
	call vmresume_failed
	ud2

	.section .note.GNU-stack, "", @progbits
