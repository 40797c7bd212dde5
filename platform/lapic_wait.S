/* lapic_wait.S — waiting for an NMI in root mode without losing one.
 * A processor checks its condition, then halts; an NMI that arrives between
 * the check and the HLT would be lost, so the NMI handler moves RIP past
 * the HLT when it interrupted exactly there (cpu_wait_nmi_fixup): the HLT
 * then never sleeps.  Interrupts stay off (IF=0): only NMIs wake it. */
	.text
	.globl cpu_wait_nmi, cpu_wait_nmi_hlt, cpu_unblock_nmi
cpu_wait_nmi:
cpu_wait_nmi_hlt:
	hlt
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
