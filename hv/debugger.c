/* debugger.c — the guest stops for the debugger and goes on again.
 *
 * Stopping is simple: the exit handler that noticed the event calls
 * debugger_stop(), which serves gdb over the debug UART until gdb resumes;
 * then the exit path returns to the guest.  Single-step uses the monitor
 * trap flag where the boot probe saw it exit (mtf_probe.h; book example
 * 4-2), else RFLAGS.TF with #DB intercepted (Bochs 2.7 advertises MTF on
 * some models but never exits: docs/platform-notes.md), TF hidden from the
 * guest.  Either way interrupts are held off for the stepped instruction
 * with the MOV-SS-blocking bit (SDM Vol. 3C §25.4.2, Table 25-3). */
#include "debugger.h"

#include "allstop.h"
#include "ept_views.h"
#include "entry_failure.h"
#include "ept_dirty.h"
#include "event_monitor.h"
#include "exits.h"
#include "frontend.h"
#include "hooks.h"
#include "mtf_probe.h"
#include "platform/errno.h"
#include "platform/cpu.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/power.h"
#include "platform/spinlock.h"
#include "vcpu_kick.h"
#include "vmcs_write_guard.h"
#include "vmx.h"

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define DBG_BS (1ull << 14)
#define OPCODE_PUSHF 0x9c
#define OPCODE_POPF 0x9d
#define OPCODE_IRET 0xcf

static const struct debugger_frontend *debugger;	/* NULL: no debugger */
/* The debugger's line and state: one processor at a time. */
static struct spinlock line_lock;
static bool wait_at_launch, poweroff_unattached, ever_attached;

void debugger_frontend_set(const struct debugger_frontend *fe)
{
	debugger = fe;
}

void debugger_init(bool wait, bool poweroff_when_unattached)
{
	wait_at_launch = wait && debugger;
	poweroff_unattached = poweroff_when_unattached;
}

bool debugger_attached(void)
{
	return ever_attached;
}

void debugger_before_launch(struct vcpu *v)
{
	if (!wait_at_launch)
		return;
	log_info("gdb: gdb-wait: the guest waits at its first instruction for gdb to attach");
	struct target_stop why = { .kind = STOP_ATTACH };
	debugger_stop(v, &why);
}

/* The run ends without the guest powering off: scripts' end-of-run hooks
 * still run when the machine is about to power off (panic=poweroff). */
static __attribute__((noreturn)) void stop_machine(struct vcpu *v, const char *how)
{
	if (stop_action == PANIC_POWEROFF)
		poweroff_hook_run(v, how);
	platform_stop();
}

/* gdb let a guest that cannot run go (detach, kill, or its line hung
 * up): nothing will ever run, so the machine stops as panic= says. */
static __attribute__((noreturn)) void let_dead_guest_go(struct vcpu *v, enum debug_outcome out)
{
	log_info("gdb: %s a guest that cannot run: %s", out == DEBUG_KILLED ? "kill of" : "detached from",
		 stop_action == PANIC_POWEROFF ? "powering off (panic=poweroff)" : "halting (panic=halt)");
	stop_machine(v, "the guest could not run on");
}

static void arm_single_step(struct vcpu *v);

static bool stale_stop(struct vcpu *v, const struct target_stop *why)
{
	/* A break-in is one: the stop that parked this vCPU served it (both
	 * vCPUs' polls may see the same bytes from gdb). */
	if (why->kind == STOP_INTERRUPT)
		return true;
	if (v->stepping && why->kind != STOP_STEP)
		return true;
	return why->kind == STOP_SW_BREAKPOINT && !debugger_is_our_breakpoint(vmread(GUEST_RIP));
}

void debugger_stop(struct vcpu *v, const struct target_stop *why)
{
	if (!debugger || (why->kind == STOP_GUEST_DEAD && !ever_attached && poweroff_unattached)) {
		if (why->kind == STOP_GUEST_DEAD)
			stop_machine(v, "the guest could not run on");
		return;	/* nobody to stop for: carry on */
	}
	if (!ever_attached) {
		ever_attached = true;
		for (unsigned i = 0; i < vcpu_count; i++)	/* polls as often as a session needs */
			vcpus[i].preemption_ticks = BREAKIN_POLL_TICKS;
	}
	/* Every other vCPU leaves the guest first.  One that another stop
	 * parked meanwhile may hold a stale stop: its breakpoint removed, or
	 * gdb gave it a step of its own: drop it, the guest runs on. */
	if (allstop_begin(v) && stale_stop(v, why)) {
		allstop_resume_those_parked_by(v);
		allstop_end(v);
		return;
	}
	target_vcpu_select(v);
	struct target_stop stop = *why;
	stop.vcpu = v->index;
	log_flush();	/* the log held for the guest's open line shows now */
	vmcs_guard_save();
	spin_lock(&line_lock);
	enum debug_outcome out = debugger->serve(v, &stop);
	/* Resuming only vCPUs that wait for their SIPI would leave nothing
	 * running and nobody to hear a Ctrl-C: stop again at once. */
	while (out == DEBUG_RESUMED && vcpu_count > 1 && !allstop_something_runs()) {
		log_info("gdb: only vCPUs waiting for their SIPI were resumed; nothing runs: stopped again");
		stop.kind = STOP_INTERRUPT;
		out = debugger->serve(v, &stop);
	}
	spin_unlock(&line_lock);
	vcpu_vmcs_use(v);	/* the stub may have left another vCPU's VMCS current */
	if (out != DEBUG_RESUMED && v->stopped)
		let_dead_guest_go(v, out);
	/* Undoing the stop's changes undoes the debugger's own too (a step's
	 * TF, the #BP/#DB intercepts of breakpoints set meanwhile): redo them. */
	if (vmcs_guard_before_entry(v)) {
		if (v->stepping)
			arm_single_step(v);
		event_monitor_sync(v, true);	/* the event hooks' controls; the exception bitmap */
		ept_dirty_resync(v);		/* PML, its address and the EPTP's A/D bit */
	}
	if (out == DEBUG_KILLED) {
		log_info("gdb: kill request: powering off");
		poweroff_hook_run(v, "gdb kill");
		power_off();
	}
	if (out == DEBUG_DETACHED)
		log_info("gdb: detached; the guest runs on");
	allstop_end(v);	/* the vCPUs gdb resumed run; v parks if it was not one */
}

void debugger_guest_exited(int code)
{
	if (debugger)
		debugger->exited(code);
}
/* TSC of the last poll that found the debug UART quiet: a byte seen later
 * arrived after it, so the difference bounds the break-in latency. */
static uint64_t uart_quiet_at;

uint32_t debugger_poll_period(void)
{
	/* A script hooking the timer's exit ("*" too) counts on its cadence:
	 * ept_write_watch.lua re-protects its page there. */
	if (ever_attached || exit_hooked(EXIT_REASON_PREEMPTION_TIMER))
		return BREAKIN_POLL_TICKS;
	return BREAKIN_POLL_TICKS * BREAKIN_POLL_UNATTACHED_FACTOR;
}

void debugger_poll(struct vcpu *v)
{
	uint64_t now = rdtsc();

	if (v->requests)
		vcpu_service(v);	/* another vCPU asked: all-stop, INIT */
	if (ept_views_sync(v))	/* another vCPU changed a view: this TLB follows, */
		debugger_update_exception_bitmap(v);	/* and a new hidden breakpoint's #BP exits */
	if (!debugger) {
		v->poll_deadline = UINT64_MAX;	/* nobody to poll for */
		return;
	}
	v->poll_deadline = now + debugger_poll_period();
	/* One processor at a time reads the line; the others skip this poll. */
	if (!spin_trylock(&line_lock))
		return;
	bool stop = debugger->poll(v);
	spin_unlock(&line_lock);
	if (!stop) {
		uart_quiet_at = now;
		return;
	}
	log_info("gdb: break-in seen at most %llu TSC ticks after it arrived",
		 (unsigned long long)(now - uart_quiet_at));
	struct target_stop why = { .kind = STOP_INTERRUPT };
	debugger_stop(v, &why);
	uart_quiet_at = rdtsc();
}

static uint8_t guest_byte(struct vcpu *v, uint64_t gva)
{
	uint8_t b = 0;
	target_read_virt(v, gva, &b, 1);
	return b;
}

/* Set RFLAGS.TF for one instruction, for the user's step or an EPT
 * watchpoint's re-arm, remembering what the guest had. */
static void arm_tf_step(struct vcpu *v)
{
	uint64_t rflags = vmread(GUEST_RFLAGS);
	if (!v->stepping && !v->rearm_step) {
		v->step_guest_tf = rflags & RFLAGS_TF;
		v->step_rip = vmread(GUEST_RIP);
	}
	vmwrite(GUEST_RFLAGS, rflags | RFLAGS_TF);
	if (vmread(GUEST_ACTIVITY_STATE))
		vmwrite(GUEST_ACTIVITY_STATE, 0);		/* a halted guest steps past HLT */
	/* Interrupts held off for the stepped instruction: MOV-SS blocking,
	 * which also holds a pending debug exception until the instruction is
	 * done (SDM Vol. 3C §27.7.3; STI blocking would not).  With TF=1 under
	 * either blocking, VM entry wants BS set in the pending debug
	 * exceptions (§27.3.1.5): that pending single-step trap is the step's
	 * #DB.  No blocking when an interrupt or NMI goes in at this entry:
	 * their injection wants none (§27.3.1.5). */
	uint32_t event = (uint32_t)vmread(VM_ENTRY_INTERRUPTION_INFO);
	unsigned type = (event >> 8) & 7;
	if ((event & (1u << 31)) && (type == 0 || type == 2))
		return;
	uint64_t intr = vmread(GUEST_INTERRUPTIBILITY_STATE);
	vmwrite(GUEST_INTERRUPTIBILITY_STATE, (intr & ~3ull) | 2);
	vmwrite(GUEST_PENDING_DEBUG_EXCEPTIONS, vmread(GUEST_PENDING_DEBUG_EXCEPTIONS) | DBG_BS);
}

/* MTF on or off, in the vcpu's copy of the controls too: the window
 * exits' updates start from that copy (inject_pending_events). */
static void set_mtf(struct vcpu *v, bool on)
{
	uint32_t live = (uint32_t)vmread(PRIMARY_VM_EXEC_CONTROL);
	uint32_t bit = VMX_PROC_MONITOR_TRAP_FLAG;

	v->proc_ctls = on ? v->proc_ctls | bit : v->proc_ctls & ~bit;
	vmwrite(PRIMARY_VM_EXEC_CONTROL, on ? live | bit : live & ~bit);
}

/* The monitor trap flag for one instruction: the exit (reason 37) comes
 * after it, or, when this entry delivers an event, before the handler's
 * first instruction (SDM Vol. 3C §26.7.2).  Nothing of the guest's RFLAGS
 * to hide.  Interrupts held off as above (MOV-SS blocking; no BS: TF is
 * the guest's own). */
static void arm_mtf_step(struct vcpu *v)
{
	if (!v->stepping && !v->rearm_step) {
		/* A re-arm step (TF) may join this step: finish_step then puts
		 * the guest's own TF back from here. */
		v->step_guest_tf = vmread(GUEST_RFLAGS) & RFLAGS_TF;
		v->step_rip = vmread(GUEST_RIP);
	}
	v->step_mtf = true;
	set_mtf(v, true);
	if (vmread(GUEST_ACTIVITY_STATE))
		vmwrite(GUEST_ACTIVITY_STATE, 0);
	uint32_t event = (uint32_t)vmread(VM_ENTRY_INTERRUPTION_INFO);
	unsigned type = (event >> 8) & 7;
	if ((event & (1u << 31)) && (type == 0 || type == 2))
		return;
	uint64_t intr = vmread(GUEST_INTERRUPTIBILITY_STATE);
	if (!(intr & 3) && !(vmread(GUEST_RFLAGS) & RFLAGS_TF))
		vmwrite(GUEST_INTERRUPTIBILITY_STATE, intr | 2);
}

/* The user's step: MTF where the boot probe saw it work, else TF. */
static void arm_single_step(struct vcpu *v)
{
	if (mtf_usable())
		arm_mtf_step(v);
	else
		arm_tf_step(v);
}

/* The page stays open for one instruction (TF), or, when the access was
 * an event delivery being re-injected, for that delivery: TF would end up
 * in the frame the delivery pushes and raise no trap of its own, so the
 * re-arm comes from a preemption timer of zero, which exits before the
 * first instruction after entry — after the injected event is delivered
 * (SDM Vol. 3C §26.7.4, §25.5.1). */
void debugger_arm_rearm_step(struct vcpu *v)
{
	if (vmread(VM_ENTRY_INTERRUPTION_INFO) & (1u << 31)) {
		v->rearm_by_timer = true;
		vmwrite(VMX_PREEMPTION_TIMER_VALUE, 0);
	} else if (!v->rearm_by_timer) {
		arm_tf_step(v);
	}
	v->rearm_step = true;
	debugger_update_exception_bitmap(v);
}

void debugger_rearm_after_delivery(struct vcpu *v)
{
	struct target_stop why = { .kind = STOP_WATCHPOINT };
	bool hit = ept_watch_rearm(v, &why);
	ept_views_rearm(v);
	v->rearm_by_timer = false;
	v->rearm_step = false;
	debugger_update_exception_bitmap(v);
	if (hit)
		debugger_stop(v, &why);
}

/* After a step: give the guest back its own TF, and take ours out of a
 * PUSHF's image on the stack. */
static void finish_step(struct vcpu *v)
{
	if (v->step_mtf) {
		v->step_mtf = false;
		set_mtf(v, false);
		if (!v->rearm_step) {
			v->stepping = false;
			debugger_update_exception_bitmap(v);
			return;
		}
	}
	uint8_t op = guest_byte(v, v->step_rip);
	uint64_t rflags = vmread(GUEST_RFLAGS);

	v->stepping = false;
	v->rearm_step = false;
	/* An emulated instruction ended the step: no trap may stay pending. */
	uint64_t pending = vmread(GUEST_PENDING_DEBUG_EXCEPTIONS);
	if (pending & DBG_BS)
		vmwrite(GUEST_PENDING_DEBUG_EXCEPTIONS, pending & ~DBG_BS);
	if (op == OPCODE_PUSHF && !v->step_guest_tf) {
		uint64_t rsp = vmread(GUEST_RSP), pushed = 0;
		unsigned width = (vmread(GUEST_CS_ACCESS_RIGHTS) & (1u << 13)) ? 8 : 4;
		if (!target_read_virt(v, rsp, &pushed, width)) {
			pushed &= ~RFLAGS_TF;
			target_write_virt(v, rsp, &pushed, width);
		}
	}
	if (op != OPCODE_POPF && op != OPCODE_IRET)
		rflags = (rflags & ~RFLAGS_TF) | (v->step_guest_tf ? RFLAGS_TF : 0);
	vmwrite(GUEST_RFLAGS, rflags);
	debugger_update_exception_bitmap(v);
}

/* One instruction has run under our TF: re-protect an EPT watch page,
 * then stop if the user stepped or the watch was hit. */
static void step_completed(struct vcpu *v, struct target_stop *why)
{
	bool user_step = v->stepping;
	bool rearm = v->rearm_step;
	bool watch_hit = rearm && ept_watch_rearm(v, why);
	if (rearm)
		ept_views_rearm(v);
	finish_step(v);
	if (watch_hit) {
		debugger_stop(v, why);
	} else if (user_step) {
		why->kind = STOP_STEP;
		debugger_stop(v, why);
	}
}

/* An instruction the hypervisor emulated (CPUID, an I/O exit...) raised no
 * #DB: a step over it ends here. */
void debugger_after_emulation(struct vcpu *v)
{
	if (!v->stepping && !v->rearm_step)
		return;
	struct target_stop why = { .kind = STOP_STEP };
	step_completed(v, &why);
}

/* A dead guest runs again only when its entry failed and the entry
 * checker passes the VMCS as the debugger left it (vcpu_run.c retries). */
static int revive(struct vcpu *v, enum target_resume_mode mode)
{
	if (!v->entry_failed || mode == RESUME_DETACH)
		return -EPERM;
	if (entry_failure_recheck(v))
		return -EAGAIN;
	log_info("gdb: the entry checker finds no broken rule: entering the guest again");
	v->stopped = v->entry_failed = false;
	return 0;
}

int target_resume(struct vcpu *v, enum target_resume_mode mode, int signal)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	int rc = v->stopped ? revive(v, mode) : 0;
	if (rc)
		return rc;
	v->run_next = true;	/* allstop_end releases it */
	if (mode == RESUME_DETACH)
		for (unsigned i = 0; i < vcpu_count; i++)
			vcpus[i].run_next = true;
	if (signal >= 0 && signal < 32 && signal != 2) {
		/* #DF, #TS, #NP, #SS, #GP, #PF, #AC push an error code (SDM Vol. 3A §7.15). */
		bool err = signal == 8 || (signal >= 10 && signal <= 14) || signal == 17;
		inject_exception(v, (unsigned)signal, err, 0);
	}
	if (mode == RESUME_STEP) {
		arm_single_step(v);
		v->stepping = true;
	}
	debugger_update_exception_bitmap(v);
	return 0;
}

bool debugger_on_breakpoint(struct vcpu *v)
{
	uint64_t rip = vmread(GUEST_RIP);
	if (!debugger_is_our_breakpoint(rip))
		return stealth_bp_script_hit(v, rip);
	struct target_stop why = { .kind = STOP_SW_BREAKPOINT, .addr = rip };
	debugger_stop(v, &why);
	return true;
}

/* The MTF exit of a step (only the debugger sets the control). */
enum exit_action debugger_on_mtf(struct vcpu *v)
{
	struct target_stop why = { .kind = STOP_STEP };
	if (v->step_mtf)
		step_completed(v, &why);
	else
		set_mtf(v, false);
	return EXIT_RESUME;
}

bool debugger_on_debug_exception(struct vcpu *v, uint64_t q)
{
	struct target_stop why = { .kind = STOP_STEP };
	bool step = (v->stepping || v->rearm_step) && (q & DBG_BS);
	bool hit = debugger_hw_hit(q & 0xf, &why);

	if (!step && !hit)
		return false;
	if (hit) {
		if (v->stepping || v->rearm_step)
			finish_step(v);
		/* An instruction breakpoint is a fault: resuming must not hit it
		 * again at once (RFLAGS.RF, SDM Vol. 3B §19.3.1.1). */
		if (why.kind == STOP_HW_BREAKPOINT)
			vmwrite(GUEST_RFLAGS, vmread(GUEST_RFLAGS) | (1ull << 16));
		debugger_stop(v, &why);
		return true;
	}
	step_completed(v, &why);
	return true;
}
