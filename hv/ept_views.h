/* ept_views.h — guest pages with two views (issue 13): an execute view, a
 * shadow copy of the page with int3 bytes patched in, mapped execute-only,
 * and a data view, the guest's own page, mapped readable (and writable once
 * written) but not executable.  A fetch in the data view or a read or write
 * in the execute view is an EPT violation that swaps the view (SDM Vol. 3C
 * §29.3.3.2; execute-only needs IA32_VMX_EPT_VPID_CAP bit 0).  So the guest
 * executes the int3s and reads its original bytes: hidden breakpoints.
 *
 * An instruction that both runs from the page and reads or writes it (the
 * same RIP faults for data, then for fetch) runs once with the original
 * page mapped RWX under the debugger's single-step re-arm (TF + #DB, like
 * ept_watch.c).  A hidden breakpoint's hit that should run on (a script's)
 * takes the same step.  Writes in the data view mark the page dirty: the
 * shadow is copied again, int3s re-patched, when the execute view returns.
 *
 * Processors: the EPT is the machine's, INVEPT is local.  Each change bumps
 * a generation; the vCPU that made it flushes at once, every other one at
 * its next break-in poll (ept_views_sync, at most BREAKIN_POLL_TICKS of its
 * guest time).  A stale view meanwhile is still safe: any access it forbids
 * exits, finds the EPT already as wanted, and flushes (ept_views_on_violation);
 * a joined page's shadow is reused only once every running vCPU flushed.
 * Limits: while one vCPU steps a page in the RWX view, another running that
 * page executes original bytes (misses a breakpoint there); a write on one
 * vCPU reaches the execute view of another at its next view change. */
#ifndef HV_EPT_VIEWS_H
#define HV_EPT_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

#define EPT_VIEW_PAGES 64u	/* split pages at once */
#define EPT_VIEW_INT3S 32u	/* int3 bytes per page */

/* Adds an int3 at guest-physical gpa to its page's execute view, splitting
 * the page on first use (idempotent).  -EPERM: the hypervisor's region;
 * -EFAULT: not guest RAM (MMIO, a hole); -ENODEV: no execute-only EPT;
 * -EBUSY: the page has other EPT rights (a watch, the xAPIC page, a
 * script's ept.protect); -ENOSPC: a limit above; -ENOMEM.  Each refusal
 * logs a line naming its cause. */
int ept_views_add_int3(struct vcpu *v, uint64_t gpa);
/* Takes it out; the page's last one joins the views again. -ENOENT if none. */
int ept_views_remove_int3(struct vcpu *v, uint64_t gpa);
/* Some page of [gpa, gpa+len) has two views (its rights are not for others to set). */
bool ept_views_owns(uint64_t gpa, uint64_t len);

/* An EPT violation at the guest's rip: true when it was a view page's, served. */
bool ept_views_on_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification, uint64_t rip);
/* The instruction at RIP (on gpa's page) runs once on the original bytes:
 * RWX view and the re-arm step.  false if gpa's page has no views. */
bool ept_views_step_original(struct vcpu *v, uint64_t gpa);
/* After the re-arm step: pages in the RWX view go back to execute. */
void ept_views_rearm(struct vcpu *v);
/* The debugger wrote [gpa, gpa+len): shadows follow. */
void ept_views_wrote(uint64_t gpa, uint64_t len);
/* INVEPT on v when views changed since v last flushed (break-in poll);
 * true then (the caller also refreshes v's #BP intercept). */
bool ept_views_sync(struct vcpu *v);

/* Single-context INVEPT of v's EPTP (ept_views_hw.c: the one VMX
 * instruction of the views; the host tests count calls instead). */
void ept_views_invept(struct vcpu *v);

struct ept_views_stats {
	unsigned pages, int3s;
	uint64_t to_exec, to_data, steps, copies, stale;
};
void ept_views_stats(struct ept_views_stats *out);

#endif
