/* ept_dirty.h — dirty-page tracking (issue 13 item 4): which guest-physical
 * pages the guest wrote between `start` and now.
 *
 * With EPT accessed/dirty flags (EPTP bit 6, SDM Vol. 3C §29.3.5) the CPU
 * sets bit 9 of a leaf on the first write through it; with the
 * page-modification log (secondary control 17, SDM §29.3.6) it also
 * writes that guest-physical address into the vCPU's PML page, and exits
 * (reason 62, PML full) when the page's 512 slots are used.  Each vCPU
 * has its own PML page; all share the EPT.  Start clears every A/D flag
 * and splits the guest RAM's large pages (a dirty 2 MiB page would say
 * nothing of which 4 KiB were written; they stay split).  Without PML the
 * dirty flags are scanned at each list (degraded, said so); without A/D
 * flags tracking is refused: write protection is not implemented.
 *
 * Only the guest's own writes count: the hypervisor's (gdb's memory
 * writes, breakpoints) do not go through the EPT.  While tracking is on,
 * the CPU treats its accesses to the guest's paging structures as writes
 * (SDM §29.3.5): page-table pages show up as written, and a page-table
 * page an EPT watchpoint write-protects faults on each walk. */
#ifndef HV_EPT_DIRTY_H
#define HV_EPT_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

enum dirty_method { DIRTY_OFF, DIRTY_PML, DIRTY_SCAN };

/* Starts an interval (the written set empties).  scan: the degraded method
 * even where PML exists (for comparison).  msg gets a sentence: the
 * method, or why it is refused (-ENODEV: no A/D flags; -ENOMEM). */
int ept_dirty_start(bool scan, char *msg, size_t len);
/* Ends it: the written set stays for ept_dirty_list.  -ENOENT if not on. */
int ept_dirty_stop(void);
enum dirty_method ept_dirty_method(void);	/* now (DIRTY_OFF when stopped) */
const char *ept_dirty_method_name(enum dirty_method m);

/* The pages written in the interval (so far, or up to stop), lowest
 * first, one call each; returns how many, or -ENOENT if tracking never
 * started.  *outside: written pages above the guest's RAM (MMIO). */
typedef void (*dirty_page_fn)(void *ctx, uint64_t gpa);
long ept_dirty_list(dirty_page_fn fn, void *ctx, uint64_t *outside);

/* Brings v's VMCS (current on this processor) in line with the tracking
 * state: EPTP A/D bit, PML control, address and index.  Cheap when
 * nothing changed: a parked vCPU calls it as it leaves its park. */
void ept_dirty_sync(struct vcpu *v);
/* The same after the VMCS lost it (the write guard restored a stop's
 * controls): the log drained, everything written again. */
void ept_dirty_resync(struct vcpu *v);
/* Exit reason 62: the vCPU's PML page is read into the set and its index
 * set back to 511; the write that exited runs again (SDM §29.3.6). */
enum exit_action exit_pml_full(struct vcpu *v);

#endif
