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

struct trace_rec;

enum exit_action {
	EXIT_RESUME,	/* back to the guest as it is */
	EXIT_ADVANCE,	/* skip the exiting instruction, then resume */
	EXIT_STOP,	/* the guest stops; the hypervisor stays */
};

/* Where a vCPU is in its life (issue 11).  The BSP's vCPU runs from the
 * start; an AP's waits in VMX root operation until the guest's BSP sends
 * it INIT and a start-up IPI (apic_icr.c), then enters the guest in real
 * mode at the SIPI vector's page (SDM Vol. 3A §9.4.4, book §3.10.1.7). */
enum vcpu_state {
	VCPU_ABSENT,		/* no processor behind this slot */
	VCPU_WAIT_SIPI,		/* INIT seen (or never started): waits for a SIPI */
	VCPU_RUNNING,		/* in the guest, or in root mode handling an exit */
};

struct vcpu {
	struct guest_gprs *gprs;	/* &regs */
	struct guest_gprs regs;		/* saved by every VM exit, loaded by every entry */

	unsigned index;			/* 0 = the BSP; gdb's thread index + 1 */
	uint32_t apic_id;		/* its processor's local APIC id */
	volatile enum vcpu_state state;

	uint64_t vmxon_phys;
	uint64_t vmcs_phys;
	bool launched;			/* VMLAUNCH done since the last VMCLEAR */
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
	bool step_mtf;		/* ... this step is by the monitor trap flag (mtf_probe.h) */
	uint64_t step_rip;	/* where the step started */

	/* Events waiting for the guest to be able to take them (inject.c). */
	int pending_irq;	/* vector, or -1 */
	bool pending_nmi;
	/* External interrupts acknowledged on exit but not yet injected (an
	 * IRR of our own, one bit a vector, delivered highest first:
	 * ext_interrupt.c), and the event-monitor controls it has
	 * (event_monitor.c: the generation it applied). */
	uint64_t held_irqs[4];
	bool irq_ack_next;	/* the pending interrupt exits again, acknowledged */
	bool irq_deferred;	/* external-interrupt exiting off until the window */
	unsigned events_gen;

	/* Multiprocessor (vcpu_kick.c, allstop.c, vcpu_ap.c). */
	volatile unsigned requests;	/* VCPU_REQ_* another processor asked for */
	volatile uint64_t kicks;	/* NMIs other processors sent it (vcpu_kick.c) */
	uint64_t nmi_exits;		/* NMI VM exits it took */
	uint64_t guest_nmis;		/* NMIs past the kicks: the guest's, handed back */
	volatile bool parked;		/* waits in root mode, VMCS cleared (all-stop) */
	volatile bool go;		/* the debugger's owner lets it run again */
	bool run_next;			/* the debugger gave it an action (target_resume) */
	struct vcpu *parked_by;		/* the owner whose stop took it out of the guest */
	volatile int sipi_vector;	/* a SIPI waiting to start it, or -1 */
	bool native_wait;		/* in the guest, in the wait-for-SIPI activity state */
	uint8_t fxsave[512] __attribute__((aligned(16)));	/* x87/SSE while parked */
	uint64_t cr2;			/* CR2 while parked */
	bool own_drs;			/* the debugger's DR0-DR3/DR7 are in force */
	uint64_t shadow_dr[4], shadow_dr7;	/* the guest's own, meanwhile */

	/* The exit trace (trace.h): the record this exit writes, the mask that
	 * wraps the ring, the ring. */
	struct trace_rec *trace_cur;
	uintptr_t trace_wrap;
	struct trace_rec *trace_ring;

	uint64_t exits;		/* all VM exits */
	uint64_t exit_counts[EXIT_REASON_LIMIT];
	bool stopped;		/* the guest cannot run on (vcpu_run.c) */
	bool entry_failed;	/* ...because VM entry failed: a fix may let it */
	char stop_reason[96];
};

/* Every vCPU, one per processor the hypervisor started, indexed like the
 * per-CPU blocks (vcpus[0] is the BSP's).  vcpu_count: how many exist. */
#define VCPU_MAX 64	/* PERCPU_MAX */
extern struct vcpu vcpus[VCPU_MAX];
extern unsigned vcpu_count;

/* The vCPU of the processor this runs on (root mode only). */
struct vcpu *this_vcpu(void);
/* The vCPU whose processor has this local APIC id, or NULL. */
struct vcpu *vcpu_by_apic_id(uint32_t apic_id);

/* The guest sent v an INIT or a start-up IPI (software path: apic_icr.c
 * decodes the guest's ICR writes).  INIT puts v back to wait-for-SIPI (a
 * running v leaves the guest first); a SIPI starts a waiting v in real mode
 * at CS:IP = vector<<8:0 and is ignored otherwise (SDM Vol. 3A §12.6.1,
 * §9.4.4). */
void vcpu_guest_init(struct vcpu *v);
void vcpu_guest_sipi(struct vcpu *v, uint8_t vector);

/* Register n (0-15) of the guest, RSP through the VMCS. */
uint64_t vcpu_gpr(struct vcpu *v, unsigned n);
void vcpu_set_gpr(struct vcpu *v, unsigned n, uint64_t value);

#endif
