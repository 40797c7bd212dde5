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

/* A JMP to a TSS whose limit is below 0x67: #TS(selector).  The CPU checks
 * presence and type before a TASK_SWITCH exit, the limit after it (Bochs'
 * task switch, as the SDM's §8.3 step 4 order has it): under vmxdbg this
 * #TS is the hypervisor's to raise. */
	.globl jmp_to_short_tss, short_resume
jmp_to_short_tss:
	ljmp $0x50, $0
short_resume:
	ret

/* The #TS task: task X faulted loading its LDT after the switch committed
 * (SDM Vol. 3A §8.3 step 12), so #TS comes in X's context, through this
 * task gate.  E clears X's LDT selector and points X at task_x_recover,
 * then IRETs back to X (its back link), which reloads X from its TSS. */
	.globl task_e_entry, task_x_recover
task_e_entry:
	popl %eax
	movl %eax, e_error
	incl e_runs
	movl $0, tss_x + 0x60
	movl $task_x_recover, tss_x + TSS_EIP
	iret
	jmp task_e_entry

task_x_recover:
	incl x_recovered
	ljmp $SEL_TSS_MAIN, $0
	jmp task_x_recover

	.section .note.GNU-stack,"",@progbits
