/* tasks.S — what must be assembly: the #GP task pops its error code before
 * anything else touches its stack, and the fault whose resumption point the
 * #GP task sets. */
#define SEL_TSS_MAIN 0x18
#define TASKS_BAD_SEL 0x7f8
#define TSS_EIP 0x20

	.text
/* Entered through the #GP task gate with the error code on its stack
 * (SDM Vol. 3A §6.12.2); it makes the faulting task resume past the fault,
 * then IRETs (NT is set: back to the task in its back link). */
	.globl task_d_entry
task_d_entry:
	popl %eax
	movl %eax, d_error
	incl d_runs
	movl $gp_resume, tss_main + TSS_EIP
	iret
	jmp task_d_entry

/* A selector past the GDT's limit: #GP(selector) on the load. */
	.globl gp_fault_and_resume
gp_fault_and_resume:
	pushl %eax
	movw $TASKS_BAD_SEL, %ax
	movw %ax, %fs
gp_resume:
	popl %eax
	ret

/* A JMP to a TSS descriptor with P clear: #NP(selector) in this task, the
 * switch not begun; the #NP handler resumes at absent_resume. */
	.globl jmp_to_absent_tss, absent_resume
jmp_to_absent_tss:
	ljmp $0x40, $0
absent_resume:
	ret

	.section .note.GNU-stack,"",@progbits
