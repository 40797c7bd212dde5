/* debugger.h — stopping the guest for a debugger and letting it go again:
 * breakpoints, single-step, watchpoints, break-in.  The mechanics live here;
 * the protocol lives in the debugger front end (gdbstub/), which hv/ calls
 * through the callbacks it registered (frontend.h). */
#ifndef HV_DEBUGGER_H
#define HV_DEBUGGER_H

#include <stdbool.h>

#include "target.h"
#include "vcpu.h"

/* After debugger_frontend_set (none registered: no debugger).  wait: stop
 * before the guest's first instruction until gdb attaches (gdb-wait). */
void debugger_init(bool wait, bool poweroff_when_unattached);
/* Before the first VM entry: honours gdb-wait. */
void debugger_before_launch(struct vcpu *v);
/* The guest stops here until the debugger resumes it.  Returns normally
 * when it should run on (the VMCS says how). */
void debugger_stop(struct vcpu *v, const struct target_stop *why);
/* The guest powered the machine off (code: its exit value, 0 for a plain
 * power-off): a gdb waiting for it hears that it exited. */
void debugger_guest_exited(int code);
/* Break-in: a byte from gdb stops the guest.  Called on the
 * preemption-timer exit (every BREAKIN_POLL_TICKS of guest time) and on
 * any exit past v->poll_deadline (machine time: a guest that exits all
 * the time hardly runs, so its timer hardly counts); sets the next
 * deadline, BREAKIN_POLL_TICKS of TSC ahead.  Either way a byte waits at
 * most about that long. */
#define BREAKIN_POLL_TICKS 500000u
/* Until a debugger first stops the guest nobody waits on a break-in but
 * the first connection's: poll this many times less often (a Linux boot
 * without gdb: ~2,600 fewer exits), unless a script hooks the timer's
 * exit.  The period a vCPU starts with, and re-reads at each timer exit. */
#define BREAKIN_POLL_UNATTACHED_FACTOR 4u
uint32_t debugger_poll_period(void);
void debugger_poll(struct vcpu *v);
bool debugger_attached(void);

/* Exception exits the debugger may own: true when it consumed the event. */
bool debugger_on_breakpoint(struct vcpu *v);
bool debugger_on_debug_exception(struct vcpu *v, uint64_t qualification);
/* The monitor trap flag's exit (37): a step by MTF is over. */
enum exit_action debugger_on_mtf(struct vcpu *v);
/* MOV to/from DR while the debugger owns the debug registers. */
enum exit_action debugger_on_dr_access(struct vcpu *v);

/* Software breakpoints are invisible to readers: patch their original
 * bytes back into a buffer read from guest-physical [gpa, gpa+len), and
 * keep them in place when the guest-physical range is written. */
void debugger_hide_breakpoints(uint64_t gpa, uint8_t *buf, size_t len);
void debugger_write_through_breakpoints(uint64_t gpa, const uint8_t *buf, size_t len);

/* After the hypervisor emulated an instruction while stepping: the step
 * is over (no #DB comes for it). */
void debugger_after_emulation(struct vcpu *v);

/* EPT watchpoints (ept_watch.c): what DR0-DR3 cannot express (a length
 * other than 1, 2, 4, 8, misaligned, a fifth and further) protects the
 * watched pages instead; an access exits, the pages it touches open for one
 * single-stepped instruction, then close again (the "re-arm").  Limits: a
 * watch covers at most EPT_WATCH_MAX_LEN bytes (-E2BIG); all watches
 * together at most EPT_WATCH_PIECES pieces, one per page a watch touches
 * (-ENOSPC); one instruction may open EPT_WATCH_OPEN_MAX watched pages. */
#define EPT_WATCH_MAX_LEN 65536u	/* gdb's own default max-value-size */
#define EPT_WATCH_PIECES 4096u
#define EPT_WATCH_OPEN_MAX 16u
int ept_watch_insert(struct vcpu *v, enum target_bp_type type, uint64_t gva, uint64_t len);
int ept_watch_remove(struct vcpu *v, enum target_bp_type type, uint64_t gva, uint64_t len);
void ept_watch_clear_all(struct vcpu *v);
/* On an EPT violation: true when it is a watched page (the re-arm step is armed). */
bool ept_watch_on_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification);
/* After the re-arm step: closes every page it opened; true (and *why
 * filled) when an access hit a watched range. */
bool ept_watch_rearm(struct vcpu *v, struct target_stop *why);
void debugger_arm_rearm_step(struct vcpu *v);
/* On the preemption-timer exit that follows a re-injected event's delivery. */
void debugger_rearm_after_delivery(struct vcpu *v);

/* Software breakpoints (sw_breakpoints.c), for breakpoints.c: at most
 * SW_BREAKPOINTS_MAX (-ENOSPC past it, with a log line). */
#define SW_BREAKPOINTS_MAX 4096u
int sw_bp_insert(struct vcpu *v, uint64_t gva);
int sw_bp_remove(uint64_t gva);
void sw_bp_clear_all(void);
unsigned sw_bp_count(void);

/* Hidden breakpoints (stealth_bp.c): int3 in a split page's execute view
 * (ept_views.h), the debugger's (Z0 in bp-mode stealth) and scripts'.
 * At most STEALTH_BP_MAX (-ENOSPC past it, with a log line). */
#define STEALTH_BP_MAX 256u
int stealth_bp_insert(struct vcpu *v, uint64_t gva);
int stealth_bp_remove(struct vcpu *v, uint64_t gva);
void stealth_bp_clear_debuggers(struct vcpu *v);
unsigned stealth_bp_count(void);
bool stealth_bp_is_debuggers(uint64_t gva);
/* A #BP at rip that is a script's hidden breakpoint: its callbacks run,
 * then the instruction once on its original bytes; false if none is there. */
bool stealth_bp_script_hit(struct vcpu *v, uint64_t rip);

/* Between debugger.c and breakpoints.c. */
void debugger_update_exception_bitmap(struct vcpu *v);
bool debugger_is_our_breakpoint(uint64_t gva);
bool debugger_hw_hit(uint64_t dbg_bits, struct target_stop *stop);

#endif
