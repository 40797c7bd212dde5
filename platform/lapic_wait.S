/* lapic_wait.S — waiting for an NMI in root mode without losing one.
 * cpu_wait_nmi_since(seen, &count): HLT unless the per-CPU NMI count moved
 * past `seen`.  An NMI between the compare and the HLT would be lost (the
 * HLT would sleep through it), so the NMI handler moves RIP to the return
 * when it interrupted anywhere in [cpu_wait_nmi_window, cpu_wait_nmi_hlt]
 * (cpu_wait_nmi_fixup in lapic.c).  Interrupts stay off: only NMIs wake it. */
	.text
	.globl cpu_wait_nmi_check, cpu_wait_nmi_window, cpu_wait_nmi_hlt, cpu_wait_nmi_done, cpu_unblock_nmi
/* %rdi: the count the caller saw; %rsi: the count's address. */
cpu_wait_nmi_check:
cpu_wait_nmi_window:
	cmpq (%rsi), %rdi
	jne cpu_wait_nmi_done
cpu_wait_nmi_hlt:
	hlt
cpu_wait_nmi_done:
	ret

/* IRET to the next instruction: unblocks NMIs (SDM Vol. 3A §6.7.1). */
cpu_unblock_nmi:
	movq %rsp, %rax
	pushq $0x10		/* SS: the GDT's data selector (gdt.h SEL_DATA) */
	pushq %rax
	pushfq
	pushq $0x08		/* CS: SEL_CODE64 */
	leaq 1f(%rip), %rax
	pushq %rax
	iretq
1:	ret

	.section .note.GNU-stack, "", @progbits
