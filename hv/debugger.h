/* debugger.h — stopping the guest for a debugger and letting it go again:
 * breakpoints, single-step, watchpoints, break-in.  The mechanics live here;
 * the protocol lives in gdbstub/. */
#ifndef HV_DEBUGGER_H
#define HV_DEBUGGER_H

#include <stdbool.h>

#include "target.h"
#include "vcpu.h"

struct uart;

/* Wires the debug UART (NULL: no debugger); wait: stop before the guest's
 * first instruction until gdb attaches (gdb-wait). */
void debugger_init(struct vcpu *v, struct uart *u, bool wait, bool poweroff_when_unattached);
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
void debugger_poll(struct vcpu *v);
bool debugger_attached(void);

/* Exception exits the debugger may own: true when it consumed the event. */
bool debugger_on_breakpoint(struct vcpu *v);
bool debugger_on_debug_exception(struct vcpu *v, uint64_t qualification);
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

/* EPT watchpoints (ept_watch.c): past the four debug registers, a watched
 * page loses its write (or read) right; an access exits, the page opens for
 * one single-stepped instruction, then closes again (the "re-arm"). */
int ept_watch_insert(struct vcpu *v, enum target_bp_type type, uint64_t gva, unsigned len);
int ept_watch_remove(struct vcpu *v, enum target_bp_type type, uint64_t gva, unsigned len);
void ept_watch_clear_all(struct vcpu *v);
/* On an EPT violation: true when it is a watched page (the re-arm step is armed). */
bool ept_watch_on_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification);
/* After the re-arm step: closes the page; true (and *why filled) when the
 * access hit a watched range. */
bool ept_watch_rearm(struct vcpu *v, struct target_stop *why);
void debugger_arm_rearm_step(struct vcpu *v);
/* On the preemption-timer exit that follows a re-injected event's delivery. */
void debugger_rearm_after_delivery(struct vcpu *v);

/* Between debugger.c and breakpoints.c. */
void debugger_update_exception_bitmap(struct vcpu *v);
bool debugger_is_our_breakpoint(uint64_t gva);
bool debugger_hw_hit(uint64_t dbg_bits, struct target_stop *stop);

#endif
