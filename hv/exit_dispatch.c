/* exit_dispatch.c — the VM-exit path: count, look up the handler by basic
 * exit reason, act on its verdict.  This is the hot path: a table lookup and
 * a few VMREADs; nothing here polls a device or formats a string unless the
 * exit is unusual. */
#include <stdarg.h>

#include "debugger.h"
#include "exits.h"
#include "ext_interrupt.h"
#include "hooks.h"
#include "platform/cpu.h"
#include "platform/fmt.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "entry_failure.h"
#include "ept_dirty.h"
#include "trace.h"
#include "vcpu_run.h"
#include "vmx.h"

#define RFLAGS_TF (1ull << 8)

static enum exit_action exit_unhandled(struct vcpu *v);

/* Every reason has an entry, so the hot path calls without a NULL test:
 * the range first, then the handled reasons over it (hence the pragma). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const exit_handler handlers[EXIT_REASON_LIMIT] = {
	[0 ... EXIT_REASON_LIMIT - 1] = exit_unhandled,
	[EXIT_REASON_EXCEPTION_NMI] = exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = exit_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
	[EXIT_REASON_INIT] = exit_init_sipi,
	[EXIT_REASON_SIPI] = exit_init_sipi,
	[EXIT_REASON_INTERRUPT_WINDOW] = exit_interrupt_window,
	[EXIT_REASON_NMI_WINDOW] = exit_nmi_window,
	[EXIT_REASON_TASK_SWITCH] = exit_task_switch,
	[EXIT_REASON_CPUID] = exit_cpuid,
	[EXIT_REASON_HLT] = exit_hlt,
	[EXIT_REASON_INVD] = exit_invd,
	[EXIT_REASON_VMCALL] = exit_vmx_instruction,
	[EXIT_REASON_VMCLEAR] = exit_vmx_instruction,
	[EXIT_REASON_VMLAUNCH] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRLD] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRST] = exit_vmx_instruction,
	[EXIT_REASON_VMREAD] = exit_vmx_instruction,
	[EXIT_REASON_VMRESUME] = exit_vmx_instruction,
	[EXIT_REASON_VMWRITE] = exit_vmx_instruction,
	[EXIT_REASON_VMXOFF] = exit_vmx_instruction,
	[EXIT_REASON_VMXON] = exit_vmx_instruction,
	[EXIT_REASON_INVEPT] = exit_vmx_instruction,
	[EXIT_REASON_INVVPID] = exit_vmx_instruction,
	[EXIT_REASON_VMFUNC] = exit_vmx_instruction,
	[EXIT_REASON_CR_ACCESS] = exit_cr_access,
	[EXIT_REASON_DR_ACCESS] = debugger_on_dr_access,
	[EXIT_REASON_MONITOR_TRAP_FLAG] = debugger_on_mtf,
	[EXIT_REASON_IO_INSTRUCTION] = exit_io,
	[EXIT_REASON_MSR_READ] = exit_msr_read,
	[EXIT_REASON_MSR_WRITE] = exit_msr_write,
	[EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = exit_ept_misconfig,
	[EXIT_REASON_PREEMPTION_TIMER] = exit_preemption_timer,
	[EXIT_REASON_WBINVD] = exit_wbinvd,
	[EXIT_REASON_XSETBV] = exit_xsetbv,
	[EXIT_REASON_PML_FULL] = exit_pml_full,
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = exit_tpr_below_threshold,
	[EXIT_REASON_APIC_ACCESS] = exit_apic_access,
	[EXIT_REASON_VIRTUALIZED_EOI] = exit_virtualized_eoi,
	[EXIT_REASON_APIC_WRITE] = exit_apic_write,
};
#pragma GCC diagnostic pop

uint64_t vcpu_gpr(struct vcpu *v, unsigned n)
{
	return n == 4 ? vmread(GUEST_RSP) : ((uint64_t *)v->gprs)[n & 15];
}

void vcpu_set_gpr(struct vcpu *v, unsigned n, uint64_t value)
{
	if (n == 4)
		vmwrite(GUEST_RSP, value);
	else
		((uint64_t *)v->gprs)[n & 15] = value;
}

enum exit_action exit_stop(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(v->stop_reason, sizeof(v->stop_reason), fmt, ap);
	va_end(ap);
	return EXIT_STOP;
}

static enum exit_action exit_unhandled(struct vcpu *v)
{
	unsigned basic = (unsigned)vmread(VM_EXIT_REASON) & 0xffff;
	const char *name = exit_reason_name(basic);
	log_error("exit: no handler for exit reason %u (%s: %s)", basic, name ? name : "unassigned",
		  name ? exit_reason_description(basic) : "not in the SDM's table");
	log_error("exit: qualification 0x%llx, RIP 0x%llx, instruction length %llu, info 0x%llx",
		  (unsigned long long)vmread(EXIT_QUALIFICATION), (unsigned long long)vmread(GUEST_RIP),
		  (unsigned long long)vmread(VM_EXIT_INSTRUCTION_LENGTH),
		  (unsigned long long)vmread(VM_EXIT_INSTRUCTION_INFO));
	return exit_stop(v, "unhandled exit reason %u (%s)", basic, name ? name : "unassigned");
}

/* "exits: 124 in all, CPUID 12, IO_INSTRUCTION 3, ..." — what the guest
 * did; with several vCPUs one line each ("exits: vCPU 1: ...") and the sum. */
static void exit_counts_line(const char *who, uint64_t exits, const uint64_t *counts)
{
	char line[256];
	int n = ksnprintf(line, sizeof(line), "exits: %s%llu in all", who, (unsigned long long)exits);
	for (unsigned r = 0; r < EXIT_REASON_LIMIT && n < (int)sizeof(line); r++)
		if (counts[r])
			n += ksnprintf(line + n, sizeof(line) - n, ", %s %llu", exit_reason_name(r),
				       (unsigned long long)counts[r]);
	log_info("%s", line);
}

void exit_counts_log(const struct vcpu *v)
{
	if (vcpu_count < 2) {
		exit_counts_line("", v->exits, v->exit_counts);
		return;
	}
	uint64_t total[EXIT_REASON_LIMIT];
	uint64_t all = 0;
	char who[24];
	memset(total, 0, sizeof(total));
	for (unsigned i = 0; i < vcpu_count; i++) {
		const struct vcpu *u = &vcpus[i];
		if (u->state == VCPU_ABSENT)
			continue;
		ksnprintf(who, sizeof(who), "vCPU %u: ", i);
		exit_counts_line(who, u->exits, u->exit_counts);
		all += u->exits;
		for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++)
			total[r] += u->exit_counts[r];
	}
	exit_counts_line("all vCPUs: ", all, total);
}

/* What the hypervisor does for an exit whatever a hook decided: the
 * preemption timer's re-arm, UART poll and console tick (else the guest
 * runs on with no timer and gdb is locked out); an event whose delivery an
 * EPT violation interrupted (SDM Vol. 3C §28.2.4); the debugger's own #BP,
 * single step and EPT watch re-arm; a store to the guest's xAPIC page.
 * True when the exit was the debugger's and is done with. */
static bool hooked_exit_bookkeeping(struct vcpu *v, unsigned basic)
{
	switch (basic) {
	case EXIT_REASON_PREEMPTION_TIMER:
		exit_preemption_timer(v);
		return false;
	case EXIT_REASON_PML_FULL:
		exit_pml_full(v);	/* else the log stays full and the exit recurs */
		return false;
	case EXIT_REASON_EXCEPTION_NMI:
		return exception_is_debuggers(v, (uint32_t)vmread(VM_EXIT_INTERRUPTION_INFO));
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		/* Acknowledged on exit: the guest gets it whatever the hook says
		 * (pass-through: injected; apic=virtual: posted and EOI'd). */
	case EXIT_REASON_APIC_WRITE:
	case EXIT_REASON_VIRTUALIZED_EOI:
		/* Trap-like (SDM Vol. 3C §30.4.3.3, §30.1.4): the guest's write is
		 * done; unforwarded, an IPI or a level-triggered EOI would be lost. */
		handlers[basic](v);
		return false;
	case EXIT_REASON_APIC_ACCESS:
		/* Fault-like: the load is emulated whatever the hook says (resumed
		 * unemulated it would exit again forever). */
		if (exit_apic_access(v) == EXIT_STOP) {
			vcpu_guest_stopped(v);
			return true;
		}
		return false;
	case EXIT_REASON_EPT_VIOLATION: {
		uint64_t gpa = vmread(GUEST_PHYSICAL_ADDRESS), q = vmread(EXIT_QUALIFICATION);
		enum exit_action action;
		/* A store to the xAPIC page is emulated whatever the hook says
		 * (resumed unemulated it would exit again forever); a hook's
		 * "stop" then stops after it. */
		if (apic_page_write(v, gpa, q, &action)) {
			if (action == EXIT_STOP)
				vcpu_guest_stopped(v);
			return action == EXIT_STOP;
		}
		return ept_violation_bookkeeping(v, gpa, q);
	}
	default:
		return false;
	}
}

/* A reason with scripted hooks: their verdict decides (never "skip" on an
 * exit no instruction caused: lua/ refuses it, hv/hooks.h
 * exit_hook_may_skip) after the bookkeeping, or our handler runs.  Out of
 * line, so the hot path keeps no stack frame for it. */
static __attribute__((noinline)) enum exit_action run_hooked(struct vcpu *v, unsigned basic)
{
	/* An external interrupt is shown once, acknowledged (ext_interrupt.c). */
	if (basic == EXIT_REASON_EXTERNAL_INTERRUPT && !ext_interrupt_acknowledged())
		return handlers[basic](v);
	enum hook_verdict verdict = exit_hooks_run(v, basic, v->stop_reason, sizeof(v->stop_reason));

	if (trace_enabled())
		trace_note_verdict(v, verdict);

	if (verdict == HOOK_DEFAULT)
		return handlers[basic](v);
	if (hooked_exit_bookkeeping(v, basic) || verdict == HOOK_RESUME)
		return EXIT_RESUME;
	if (verdict == HOOK_SKIP)
		return EXIT_ADVANCE;
	exit_hook_stop(v);
	return EXIT_RESUME;
}

void exit_hook_stop(struct vcpu *v)
{
	struct target_stop why = { .kind = STOP_HOOK };
	ksnprintf(why.reason, sizeof(why.reason), "%s", v->stop_reason);
	debugger_stop(v, &why);
}

/* Out of line, and finding its vCPU itself, which it returns: the common
 * exit has no blocking to end, and a v live across this call would sit in
 * a callee-saved register on the hot path (3 instructions more per CPUID
 * exit). */
static __attribute__((noinline)) struct vcpu *end_blocking(uint64_t intr)
{
	struct vcpu *v = this_vcpu();

	vmwrite_hot(GUEST_INTERRUPTIBILITY_STATE, intr & ~3ull);
	/* An MTF step (which holds MOV-SS blocking) over an instruction the
	 * hypervisor completed: no MTF exit comes for it. */
	if (v->step_mtf)
		debugger_after_emulation(v);
	return v;
}

static inline void advance_rip_by(struct vcpu *v, uint64_t len)
{
	vmwrite_hot(GUEST_RIP, vmread(GUEST_RIP) + len);
	/* Skipping an instruction ends STI/MOV-SS blocking (SDM Vol. 3C §27.3.3 / Table 25-3). */
	uint64_t intr = vmread(GUEST_INTERRUPTIBILITY_STATE);
	if (intr & 3)
		v = end_blocking(intr);
	/* The completed instruction's single-step trap: the debugger's step
	 * (which always runs with TF set) ends here, or the guest's own TF
	 * owes it a #DB. */
	if (vmread(GUEST_RFLAGS) & RFLAGS_TF) {
		if (v->stepping)
			debugger_after_emulation(v);
		else
			guest_single_step_trap(v);
	}
}

static void advance_rip(struct vcpu *v)
{
	advance_rip_by(v, vmread(VM_EXIT_INSTRUCTION_LENGTH));
}

void vcpu_advance_rip(struct vcpu *v, unsigned len)
{
	advance_rip_by(v, len);
}

/* An exit reason with bits 16-31 set: a failed VM entry (bit 31, SDM Vol.
 * 3C §27.7, book ch. 4) or a reason past the table. */
static __attribute__((noinline)) enum exit_action run_unusual(struct vcpu *v, uint32_t reason)
{
	unsigned basic = reason & 0xffff;

	if (basic < EXIT_REASON_LIMIT)
		v->exit_counts[basic]++;
	if (reason & (1u << 31)) {
		entry_failure_report(v, reason);
		exit_stop(v, "VM entry failed with exit reason %u (%s)", basic, exit_reason_name(basic));
		v->entry_failed = true;
		vcpu_guest_stopped(v);
		if (trace_enabled())
			trace_exit_close(v);
		vcpu_run(v);	/* fixed: VMLAUNCH or VMRESUME again */
	}
	if (basic >= EXIT_REASON_LIMIT)
		return exit_unhandled(v);
	return exit_hooked(basic) ? run_hooked(v, basic) : handlers[basic](v);
}

/* The vCPU after the handler, read again from the exit stack at each use
 * rather than kept in a callee-saved register across the calls (4
 * instructions fewer per exit: make bench's CPUID round trip).  vmexit.S calls us with RSP at
 * HOST_RSP, whose first quadword is the vCPU (SLOT_VCPU); above our frame
 * pointer sit the saved RBP and the return address, so it is at RBP+16. */
#define EXITING_VCPU() (*(struct vcpu *const *)((char *)__builtin_frame_address(0) + 16))

/* The hot path: a reason in the table with no scripted hook goes straight
 * to its handler (a bit test when there are none); the rest out of line.
 * Built twice, with the exit trace's record (trace.h) and without: the
 * trace switches by which of the two vmexit.S calls, so off costs nothing
 * and on no branch. */
static inline __attribute__((always_inline)) void dispatch(struct vcpu *v, bool traced)
{
	uint32_t reason = (uint32_t)vmread(VM_EXIT_REASON);
	enum exit_action action;

	if (traced)
		trace_exit_begin(v, reason, rdtsc());
	v->exits++;
	if (reason >= EXIT_REASON_LIMIT) {
		action = run_unusual(v, reason);
	} else {
		v->exit_counts[reason]++;
		action = exit_hooked(reason) ? run_hooked(v, reason) : handlers[reason](v);
	}
	if (action == EXIT_ADVANCE) {
		advance_rip(EXITING_VCPU());
	} else if (action == EXIT_STOP) {
		vcpu_guest_stopped(EXITING_VCPU());
	}
	/* Break-in bounded in machine time: one RDTSC and a compare.  Here,
	 * with the exit handled, the guest stands between two instructions.
	 * The same TSC closes the exit's trace record. */
	uint64_t now = rdtsc();
	struct vcpu *x = EXITING_VCPU();
	if (traced)
		trace_exit_end(x, now);
	if (now >= x->poll_deadline)
		debugger_poll(x);
}

void vmexit_dispatch(struct vcpu *v)
{
	dispatch(v, true);
}

void vmexit_dispatch_untraced(struct vcpu *v)
{
	dispatch(v, false);
}

void (*vmexit_dispatch_fn)(struct vcpu *v) = vmexit_dispatch;

void vmexit_trace_select(bool on)
{
	__atomic_store_n(&vmexit_dispatch_fn, on ? vmexit_dispatch : vmexit_dispatch_untraced, __ATOMIC_RELEASE);
}
