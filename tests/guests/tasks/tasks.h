/* tasks.h — the task-switch guest's shared state (SDM Vol. 3A ch. 8). */
#ifndef TASKS_H
#define TASKS_H

#include <stdint.h>

/* The 32-bit TSS (SDM Vol. 3A §8.2.1 Figure 8-2). */
struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3;
	uint32_t eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
} __attribute__((packed));

/* GDT selectors: the flat pair of common/gdt.c, then one TSS per task. */
#define SEL_TSS_MAIN 0x18
#define SEL_TSS_CALL 0x20	/* task A: CALLed, returns with IRET */
#define SEL_TSS_JMP 0x28	/* task B: JMPed to, JMPs back */
#define SEL_TSS_INT 0x30	/* task C: INT 0x40 through a task gate */
#define SEL_TSS_GP 0x38		/* task D: #GP through a task gate, error code pushed */
#define SEL_TSS_ABSENT 0x40	/* a TSS descriptor with P clear: #NP */
#define SEL_TSS16 0x48		/* a 16-bit TSS: not emulated, the guest stops */
#define SEL_TSS_SHORT 0x50	/* limit below 0x67: #TS, raised after the exit */
#define SEL_TSS_X 0x58		/* its LDT selector names a data segment: #TS after the commit */
#define SEL_TSS_TS 0x60		/* task E: #TS through a task gate */
#define TASKS_INT_VECTOR 0x40
#define TASKS_BAD_SEL 0x7f8	/* past the GDT's limit: #GP(0x7f8) */

extern struct tss32 tss_main, tss_x;
extern volatile uint32_t a_runs, a_value, a_link, a_nt, b_runs, c_runs, c_link, d_runs, d_error;

void task_a(void);
void task_b(void);
void task_c(void);
void task_d_entry(void);	/* tasks.S: pops the error code */
void gp_fault_and_resume(void);	/* tasks.S: faults, resumes at its label */
void jmp_to_absent_tss(void);	/* tasks.S: JMP to SEL_TSS_ABSENT */
extern char absent_resume[];	/* where a #NP handler resumes it */
void jmp_to_short_tss(void);	/* tasks.S: JMP to SEL_TSS_SHORT */
extern char short_resume[];
void task_e_entry(void);	/* tasks.S: the #TS task */
void task_x_recover(void);	/* tasks.S: where task E sends task X */
extern volatile uint32_t e_runs, e_error, x_recovered;

#endif
