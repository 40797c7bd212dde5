/* vmexit.S — the doors between root and non-root operation.
 *
 * The guest's GPRs live in one place, a struct guest_gprs in its vcpu
 * (hv/vcpu.h), indexed by register number: every VM exit stores them there
 * and every VM entry loads them from there.  Nothing of the guest stays on
 * the exit stack, so a VM entry that fails (VMfailValid, SDM Vol. 3C §31.3)
 * loses nothing: the registers are still in the vcpu for gdb to read and
 * for the next attempt.  Each processor has its own exit stack, and the two
 * quadwords at its HOST_RSP say whose it is: [HOST_RSP] the struct vcpu,
 * [HOST_RSP+8] its GPR block (vcpu_exit_stack_init() writes them), so the
 * exit path finds its vCPU with one load and no lookup.
 *
 * vmx_launch(gprs), vmx_resume(gprs): load the GPRs from *gprs and
 * VMLAUNCH/VMRESUME.  Return only when the instruction fails, with 1 for
 * VMfailInvalid (CF) or 2 for VMfailValid (ZF), callee-saved registers
 * restored.
 *
 * vmexit_entry: HOST_RIP.  The CPU arrives here on every VM exit with RSP =
 * HOST_RSP (the top of the exit stack, 16-byte aligned) and the guest's
 * GPRs still live (SDM Vol. 3C §28.5: only the host-state area is loaded).
 * They go to the vCPU's GPR block, vmexit_dispatch(vcpu) runs (or its
 * twin without the exit trace, vmexit_dispatch_fn says which), and VMRESUME
 * goes back; if it fails, vmresume_failed(status, vcpu) takes over. */

#define SLOT_VCPU 0
#define SLOT_GPRS 8

	.text

/* Loads every GPR from *%rax; %rax last. */
.macro load_gprs
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
.endm

/* After a failed VMLAUNCH/VMRESUME: %eax = 1 (CF) or 2 (ZF). */
.macro fail_status
	setc %al
	setz %dl
	movzbl %al, %eax
	movzbl %dl, %edx
	addl %edx, %edx
	orl %edx, %eax
.endm

/* The callee-saved registers (SysV ABI), around an entry. */
.macro push_callee_saved
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro pop_callee_saved
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
.endm

.macro vm_enter insn
	push_callee_saved
	movq %rdi, %rax
	load_gprs
	\insn
	fail_status
	pop_callee_saved
	ret
.endm

	.globl vmx_launch
vmx_launch:
	vm_enter vmlaunch

	.globl vmx_resume
vmx_resume:
	vm_enter vmresume

	.globl vmexit_entry
vmexit_entry:
	pushq %rax
	movq 8+SLOT_GPRS(%rsp), %rax
	movq %rcx, 8*1(%rax)
	movq %rdx, 8*2(%rax)
	movq %rbx, 8*3(%rax)
	movq %rbp, 8*5(%rax)
	movq %rsi, 8*6(%rax)
	movq %rdi, 8*7(%rax)
	movq %r8, 8*8(%rax)
	movq %r9, 8*9(%rax)
	movq %r10, 8*10(%rax)
	movq %r11, 8*11(%rax)
	movq %r12, 8*12(%rax)
	movq %r13, 8*13(%rax)
	movq %r14, 8*14(%rax)
	movq %r15, 8*15(%rax)
	popq 8*0(%rax)		/* the guest's RAX; RSP back at HOST_RSP, aligned */
	xorl %ebp, %ebp		/* the backtrace stops here */
	movq SLOT_VCPU(%rsp), %rdi
	call *vmexit_dispatch_fn	/* traced or not: hv/trace.h */
	movq SLOT_GPRS(%rsp), %rax
	load_gprs
	vmresume
	/* VMRESUME failed: the GPRs are intact in the vcpu; report with the
	 * status.  Never returns (a retry enters the guest afresh). */
	fail_status
	movl %eax, %edi
	movq SLOT_VCPU(%rsp), %rsi
	call vmresume_failed
	ud2

/* vmx_probe_launch(): one VMLAUNCH whose VM exit comes back here rather
 * than to vmexit_entry (the MTF probe, mtf_probe.c): HOST_RSP and HOST_RIP
 * (encodings 0x6c14, 0x6c16, SDM Vol. 3D Appendix B.4.4) point at this
 * frame and at 1f.  The guest runs only `jmp $`, so the GPRs it gets are
 * ours and come back unchanged.  Returns 0 after the exit, else 1 (CF) or
 * 2 (ZF); the caller restores HOST_RSP/HOST_RIP.  RFLAGS is restored
 * here: an exit clears it (SDM Vol. 3C §28.5.3). */
	.globl vmx_probe_launch
vmx_probe_launch:
	pushfq
	push_callee_saved
	movl $0x6c14, %edx
	vmwrite %rsp, %rdx
	leaq 1f(%rip), %rax
	movl $0x6c16, %edx
	vmwrite %rax, %rdx
	vmlaunch
	fail_status
	jmp 2f
1:	xorl %eax, %eax
2:	pop_callee_saved
	popfq
	ret

	.section .note.GNU-stack, "", @progbits
