/* vcpu.h — one virtual CPU: its VMCS, its saved registers, its counters. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "ept.h"
#include "vmcs_table.h"

/* General-purpose registers by their number in exit qualifications and
 * instruction information (SDM Vol. 3C Table 28-3: 0 RAX, 1 RCX, 2 RDX, 3 RBX,
 * 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15).  vmexit.S stores and loads
 * exactly this in the vcpu; the RSP slot is unused: the guest's RSP lives in
 * the VMCS (GUEST_RSP). */
struct guest_gprs {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

enum exit_action {
	EXIT_RESUME,	/* back to the guest as it is */
	EXIT_ADVANCE,	/* skip the exiting instruction, then resume */
	EXIT_STOP,	/* the guest stops; the hypervisor stays */
};

struct vcpu {
	struct guest_gprs *gprs;	/* &regs */
	struct guest_gprs regs;		/* saved by every VM exit, loaded by every entry */

	uint64_t vmxon_phys;
	uint64_t vmcs_phys;
	uint16_t vpid;
	struct ept ept;
	uint64_t eptp;
	uint8_t *io_bitmap_a, *io_bitmap_b, *msr_bitmap;
	uint64_t exit_stack_top;

	/* The controls as programmed, after the capability adjust. */
	uint32_t pin_ctls, proc_ctls, proc2_ctls, exit_ctls, entry_ctls;
	uint64_t cr0_mask, cr4_mask;
	uint32_t user_exceptions;	/* exception-bitmap bits a user set (vmcs_write_guard.c) */
	uint32_t preemption_ticks;	/* guest instructions between break-in polls */
	uint64_t poll_deadline;		/* TSC: the first exit past it polls the debug UART */

	/* Debugger state (debugger.c). */
	bool stepping;		/* the next instruction ends in a STOP_STEP */
	bool rearm_step;	/* one instruction runs with an EPT watch page open */
	bool rearm_by_timer;	/* ... or one event delivery: re-armed at a zero preemption timer */
	bool step_guest_tf;	/* the guest's own RFLAGS.TF while we step */
	uint64_t step_rip;	/* where the step started */

	/* Events waiting for the guest to be able to take them (inject.c). */
	int pending_irq;	/* vector, or -1 */
	bool pending_nmi;

	uint64_t exits;		/* all VM exits */
	uint64_t exit_counts[EXIT_REASON_LIMIT];
	bool stopped;		/* the guest cannot run on (vcpu_run.c) */
	bool entry_failed;	/* ...because VM entry failed: a fix may let it */
	char stop_reason[96];
};

extern struct vcpu vcpu0;

/* Register n (0-15) of the guest, RSP through the VMCS. */
uint64_t vcpu_gpr(struct vcpu *v, unsigned n);
void vcpu_set_gpr(struct vcpu *v, unsigned n, uint64_t value);

#endif
