/* exits.h — VM-exit handlers (book ch. 5; SDM Vol. 3C ch. 28 "VM Exits"
 * and ch. 27 "VMX Non-Root Operation" for what causes each).  A handler
 * looks at the exit information fields and returns what to do next. */
#ifndef HV_EXITS_H
#define HV_EXITS_H

#include "vcpu.h"

typedef enum exit_action (*exit_handler)(struct vcpu *v);

/* One per exit family; exit_dispatch.c maps reasons to them. */
enum exit_action exit_cpuid(struct vcpu *v);
enum exit_action exit_msr_read(struct vcpu *v);
enum exit_action exit_msr_write(struct vcpu *v);
enum exit_action exit_io(struct vcpu *v);
enum exit_action exit_cr_access(struct vcpu *v);
enum exit_action exit_xsetbv(struct vcpu *v);
enum exit_action exit_invd(struct vcpu *v);
enum exit_action exit_wbinvd(struct vcpu *v);
enum exit_action exit_vmx_instruction(struct vcpu *v);
enum exit_action exit_hlt(struct vcpu *v);
enum exit_action exit_exception_nmi(struct vcpu *v);
enum exit_action exit_external_interrupt(struct vcpu *v);
enum exit_action exit_preemption_timer(struct vcpu *v);
enum exit_action exit_triple_fault(struct vcpu *v);
enum exit_action exit_ept_violation(struct vcpu *v);
enum exit_action exit_ept_misconfig(struct vcpu *v);
enum exit_action exit_init_sipi(struct vcpu *v);
enum exit_action exit_interrupt_window(struct vcpu *v);
enum exit_action exit_nmi_window(struct vcpu *v);
enum exit_action exit_task_switch(struct vcpu *v);
/* apic=virtual (apic_virtual.c). */
enum exit_action exit_apic_access(struct vcpu *v);
enum exit_action exit_apic_write(struct vcpu *v);
enum exit_action exit_virtualized_eoi(struct vcpu *v);
enum exit_action exit_tpr_below_threshold(struct vcpu *v);

/* Guarded by the MSR bitmap besides the VMX MSRs: virtualized in exit_msr.c. */
#define MSR_IA32_BIOS_SIGN_ID 0x8b
#define MSR_IA32_MISC_ENABLE 0x1a0

/* vmexit.S's C entry: the exit of the vCPU whose exit stack this is,
 * recorded in the exit trace or not (hv/trace.h): vmexit.S calls
 * through vmexit_dispatch_fn, which vmexit_trace_select() sets. */
void vmexit_dispatch(struct vcpu *v);
void vmexit_dispatch_untraced(struct vcpu *v);
extern void (*vmexit_dispatch_fn)(struct vcpu *v);
void vmexit_trace_select(bool on);

/* Steps over an instruction the hypervisor emulated, len bytes (from a
 * decoder where the exit has no instruction length, e.g. EPT violations):
 * ends STI/MOV-SS blocking and owes the guest's or debugger's TF trap, as
 * EXIT_ADVANCE does. */
void vcpu_advance_rip(struct vcpu *v, unsigned len);

/* One log line with the exit counts by reason. */
void exit_counts_log(const struct vcpu *v);

/* A script hook said "stop" (reason in v->stop_reason): the debugger stops here. */
void exit_hook_stop(struct vcpu *v);

/* Stops the guest with a reason (printf-style), for handlers. */
enum exit_action exit_stop(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Event injection at the next VM entry (SDM Vol. 3C §27.6; book ch. 6). */
void inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error);
/* RFLAGS.IF = 1 and no STI/MOV-SS blocking: an interrupt can go in at the next entry. */
bool guest_can_take_interrupt(void);
/* Delivers held interrupts/NMIs when the guest can take them, else arms
 * the window exits. */
void inject_pending_events(struct vcpu *v);
/* After an instruction exit that advances RIP: the guest's own TF trap
 * becomes a pending debug exception; true when one is pending. */
bool guest_single_step_trap(struct vcpu *v);
/* On an exit that can interrupt event delivery: the event goes back into
 * the VM-entry fields; true when there was one. */
bool inject_vectoring_event(struct vcpu *v);
/* The hypervisor's own part of an exit, which runs whatever a hook says:
 * true when the event was the debugger's (exit_misc.c, exit_ept.c). */
bool exception_is_debuggers(struct vcpu *v, uint32_t info);
bool ept_violation_bookkeeping(struct vcpu *v, uint64_t gpa, uint64_t qualification);
/* A store to the guest's write-protected xAPIC page (the software INIT/SIPI
 * path): emulated, *action saying what next; false for any other violation. */
bool apic_page_write(struct vcpu *v, uint64_t gpa, uint64_t qualification, enum exit_action *action);
static inline void inject_ud(struct vcpu *v) { inject_exception(v, 6, false, 0); }
static inline void inject_gp(struct vcpu *v) { inject_exception(v, 13, true, 0); }

#endif
