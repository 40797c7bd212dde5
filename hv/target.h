/* target.h — the debug target API: the one door through which the gdb
 * stub and the Lua bindings see and change the guest (docs/design.md).  Neither
 * front end executes a VMX instruction itself.  Valid while the guest is
 * stopped in root mode (on a VM exit); every call returns 0 or a negative
 * errno-style code and never faults the hypervisor. */
#ifndef HV_TARGET_H
#define HV_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apic_view.h"
#include "ept.h"
#include "vcpu.h"

enum target_reg {
	/* 0-15: the GPRs by number (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15). */
	TREG_RIP = 16, TREG_RFLAGS,
	TREG_CS, TREG_SS, TREG_DS, TREG_ES, TREG_FS, TREG_GS,
	TREG_FS_BASE, TREG_GS_BASE,
	TREG_CR0, TREG_CR2, TREG_CR3, TREG_CR4, TREG_CR8, TREG_EFER,
	TREG_COUNT
};

const char *target_reg_name(enum target_reg r);
int target_reg_by_name(const char *name);	/* case-insensitive; -ENOENT */
int target_reg_read(struct vcpu *v, enum target_reg r, uint64_t *value);
int target_reg_write(struct vcpu *v, enum target_reg r, uint64_t value);

/* Guest-physical memory: guest RAM (and firmware tables for reads) only;
 * -EFAULT outside it, -EPERM for the hypervisor's region. */
int target_read_phys(uint64_t gpa, void *buf, size_t len);
int target_write_phys(uint64_t gpa, const void *buf, size_t len);
/* Guest-virtual memory through the guest's own paging (real, 32-bit, PAE,
 * 4- and 5-level), page by page. */
int target_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa);
int target_read_virt(struct vcpu *v, uint64_t gva, void *buf, size_t len);
int target_write_virt(struct vcpu *v, uint64_t gva, const void *buf, size_t len);

/* VMCS fields by name ("GUEST_RIP", any case) or number ("0x681e", "26654";
 * an odd number such as 0x2011 is the high 32 bits of a 64-bit field, SDM
 * Vol. 3C §25.11.2).  Writes go through the write policy
 * (vmcs_write_policy.h): err gets a sentence for the user on failure
 * (unknown name with close matches, a field or bit vmxdbg keeps, the
 * VM-entry rule the value would break, unsupported on this CPU). */
int target_vmcs_read(const char *field, uint64_t *value, char *err, size_t errlen);
int target_vmcs_write(const char *field, uint64_t value, char *err, size_t errlen);
/* The same on vCPU v's VMCS: v is this processor's vCPU, or any while the
 * guest is stopped for the debugger (all-stop).  -EBUSY, with a sentence,
 * for a VMCS current on another processor that this one cannot reach. */
int target_vcpu_vmcs_read(struct vcpu *v, const char *field, uint64_t *value, char *err, size_t errlen);
int target_vcpu_vmcs_write(struct vcpu *v, const char *field, uint64_t value, char *err, size_t errlen);
/* By encoding, for callers that resolved the name once (an exit hook's
 * event fields): -ENODEV when the CPU's VMCS lacks the field. */
int target_vmcs_read_encoding(uint32_t encoding, uint64_t *value);

/* EPT: query a guest-physical address; change the rights of a range (never
 * over the hypervisor's region: -EPERM); TLBs are flushed (INVEPT). */
int target_ept_query(struct vcpu *v, uint64_t gpa, struct ept_mapping *out);
int target_ept_protect(struct vcpu *v, uint64_t gpa, uint64_t len, unsigned perms);

/* 0 when this CPU can produce exits of the reason; -ENODEV, with a
 * sentence in why, when the control they need is not available (a hook on
 * MONITOR_TRAP_FLAG where the CPU has no MTF would never run). */
int target_exit_reason_possible(unsigned reason, char *why, size_t len);

/* How the debugger single-steps: true for the monitor trap flag (the boot
 * probe saw its exit), false for RFLAGS.TF with #DB intercepted; why gets
 * the probe's verdict in a sentence (book example 4-2, hv/mtf_probe.h). */
bool target_steps_with_mtf(char *why, size_t len);
/* Event monitoring (issue 12 item 3, event_monitor.c): what the script
 * engine's hooks watch.  ext_interrupts turns external-interrupt exiting
 * on (a hook on EXTERNAL_INTERRUPT: every interrupt then exits, once more
 * acknowledged when the guest can take it, and is injected after the
 * hooks: ext_interrupt.c);
 * exceptions (bit n: vector n, 0-31) adds the vectors to the exception
 * bitmap, the debugger's bits kept (bit 2: the guest's NMIs, which exit
 * anyway).  Every vCPU gets the change: this one now, the others at their
 * next exit or entry.  Cleared bits switch the controls off again. */
void target_event_watch_set(bool ext_interrupts, uint32_t exceptions);
/* 0 when a hook on exception vector 0-31 can see events; -ENODEV (or
 * -EINVAL for a vector that is no exception), with a sentence, when not:
 * reserved vectors, #MC, NMIs without NMI exiting. */
int target_exception_hook_possible(unsigned vector, char *why, size_t len);

/* CPUID as the guest sees it under vmxdbg: the real CPU, VMX hidden. */
int target_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* Events for the next VM entry (SDM Vol. 3C §27.6).  An exception goes
 * in at the next entry if the write policy accepts it (err says why not); an external interrupt or NMI the guest cannot take
 * yet (RFLAGS.IF=0, STI/MOV-SS shadow, NMI blocking) is held and delivered
 * from the interrupt-window / NMI-window exit (SDM §25.6.2).  -EBUSY when an
 * event of the same kind is already pending, -EINVAL for a bad vector. */
int target_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error, char *err,
			    size_t errlen);
int target_inject_interrupt(struct vcpu *v, unsigned vector);
int target_inject_nmi(struct vcpu *v);

/* The guest's x87/SSE state in FXSAVE layout (SDM Vol. 1 §10.5.1, 512
 * bytes): live in the CPU while the guest is stopped in root mode. */
struct target_fxsave {
	uint16_t fcw, fsw;
	uint8_t ftw, reserved1;
	uint16_t fop;
	uint32_t fip;
	uint16_t fcs, reserved2;
	uint32_t fdp;
	uint16_t fds, reserved3;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];	/* 80-bit registers, 6 bytes padding each */
	uint8_t xmm[16][16];
	uint8_t reserved4[96];
} __attribute__((aligned(16)));
int target_fpu_read(struct vcpu *v, struct target_fxsave *out);
int target_fpu_write(struct vcpu *v, const struct target_fxsave *in);

/* Breakpoints and watchpoints, by gdb's Z types: 0 software (int3 written
 * through guest-physical memory, the original byte shown to every reader),
 * 1 hardware execution, 2 write, 3 read, 4 access watchpoints.  addr is a
 * guest-virtual address; len, for watchpoints, any length (DR0-DR3 take
 * what they can express, EPT page protection the rest: hv/breakpoints.c).
 * -ENOSPC past a limit, -E2BIG for a watch longer than one may be,
 * -EFAULT when addr is not mapped, -EINVAL for a bad type or length,
 * -ENOENT when removing an unknown one. */
enum target_bp_type { BP_SOFTWARE, BP_HARDWARE, BP_WRITE, BP_READ, BP_ACCESS };
int target_bp_insert(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len);
int target_bp_remove(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len);
/* Removes every breakpoint and watchpoint: on detach, and when a new
 * debugger connects (it knows nothing of the old one's). */
void target_bp_clear_all(struct vcpu *v);

/* How Z0 (software) breakpoints are made (issue 13): BP_MODE_INT3 writes
 * int3 into guest memory (the guest reading its code sees it);
 * BP_MODE_STEALTH hides it in the execute view of a split page
 * (hv/ept_views.h): the guest reads its original bytes.  Removing finds a
 * breakpoint in either, whatever the mode now. */
enum target_bp_mode { BP_MODE_INT3, BP_MODE_STEALTH };
void target_bp_set_mode(enum target_bp_mode mode);
enum target_bp_mode target_bp_get_mode(void);
/* A script's hidden breakpoint (id > 0, its handle): a hit calls the
 * script front end's breakpoint callback, then the instruction runs on
 * its original bytes and the guest goes on.  Errors as ept_views_add_int3,
 * and -EFAULT for an unmapped gva, -ENOSPC past STEALTH_BP_MAX. */
int target_script_bp_add(struct vcpu *v, uint64_t gva, unsigned id);
int target_script_bp_remove(struct vcpu *v, unsigned id);
/* The guest's value of an MSR that VM entry and exit do not switch and
 * the hypervisor never writes (STAR, LSTAR, CSTAR, FMASK, KERNEL_GS_BASE):
 * the processor holds it, so v must be this processor's vCPU (-EBUSY);
 * another MSR: -EINVAL.  err says why. */
int target_guest_msr(struct vcpu *v, uint32_t msr, uint64_t *value, char *err, size_t errlen);

/* Why the guest is stopped, for the stop reply. */
enum target_stop_kind {
	STOP_ATTACH,		/* stopped for the debugger (gdb-wait, first attach) */
	STOP_SW_BREAKPOINT,	/* our int3; RIP points at it */
	STOP_HW_BREAKPOINT,
	STOP_WATCHPOINT,	/* addr and watch_type say which */
	STOP_STEP,		/* a single step finished */
	STOP_INTERRUPT,		/* break-in (0x03 from gdb) */
	STOP_GUEST_DEAD,	/* the guest cannot continue (triple fault, ...): reason says why */
	STOP_HOOK,		/* a Lua hook asked for it: reason says why */
};
struct target_stop {
	enum target_stop_kind kind;
	unsigned vcpu;			/* the vCPU that stopped (its index) */
	uint64_t addr;			/* watchpoint: the data address */
	enum target_bp_type watch_type;
	char reason[96];
};

/* vCPUs (issue 11): index 0 is the BSP's; gdb shows vCPU n as thread n+1.
 * While the guest is stopped every vCPU is stopped (all-stop), and every
 * call above works on any of them (its own VMCS, CR3, FPU state). */
unsigned target_vcpu_count(void);
struct vcpu *target_vcpu(unsigned index);	/* NULL past the count */
unsigned target_vcpu_index(const struct vcpu *v);
uint32_t target_vcpu_apic_id(const struct vcpu *v);
/* The vCPU the calls without a vCPU argument (target_vmcs_*, the VMCS
 * report) mean while the guest is stopped: the debugger selects one (gdb's
 * Hg); otherwise, and by default, the vCPU whose exit is being handled.
 * -EBUSY when v is running (not stopped with the others). */
int target_vcpu_select(struct vcpu *v);
struct vcpu *target_selected_vcpu(void);
/* False while the guest has not started it yet (an AP waiting for its
 * SIPI: its registers are the reset state it will start from). */
bool target_vcpu_started(const struct vcpu *v);

/* How the guest goes on when the debugger lets it: DETACH continues a
 * live guest, never a dead one.  Per vCPU: the vCPUs given an action run
 * when the debugger lets the guest go, the others stay stopped (a step
 * moves only the stepped vCPU unless every vCPU is resumed); DETACH lets
 * every vCPU go. */
enum target_resume_mode { RESUME_CONTINUE, RESUME_STEP, RESUME_DETACH };
/* Arranges the next VM entry: continue, or execute one instruction and stop
 * again (MTF where it works, else RFLAGS.TF with #DB intercepted and TF
 * hidden from the guest).  signal: an exception vector to deliver first, or
 * -1 for none.  A dead guest: -EPERM when it cannot run (triple fault...);
 * after a failed VM entry the entry checker runs on the VMCS as it is now:
 * -EAGAIN while it finds broken rules (target_report_dead lists them),
 * else the entry is tried again. */
int target_resume(struct vcpu *v, enum target_resume_mode mode, int signal);

/* Why a dead guest cannot run, one line per emit call: the reason, then
 * for a failed VM entry the processor's verdict and the entry checker's
 * findings, rule by rule.  Nothing for a guest that can run. */
typedef void (*target_emit_fn)(void *ctx, const char *line);
/* The mode, the hidden breakpoints and their pages' view changes, in lines. */
void target_report_bp_mode(target_emit_fn out, void *ctx);
void target_report_dead(struct vcpu *v, target_emit_fn emit, void *ctx);

/* What the guest was loaded from, which says what register view its
 * symbol file needs, whatever mode the CPU is in now: a 64-bit ELF (even
 * one entered in 32-bit mode) and Linux want amd64, a 32-bit ELF and the
 * a.out kludge i386. */
enum target_image { TARGET_IMAGE_UNKNOWN, TARGET_IMAGE_ELF32, TARGET_IMAGE_ELF64, TARGET_IMAGE_AOUT,
		    TARGET_IMAGE_LINUX };
enum target_image target_guest_image(void);

/* Read-only reports for `monitor`, one line per emit call. */
void target_report_vmcs(target_emit_fn emit, void *ctx);		/* decoded dump */
void target_report_caps(target_emit_fn emit, void *ctx);		/* book example 2-1 */
void target_report_exits(struct vcpu *v, target_emit_fn emit, void *ctx);	/* counts by reason */
void target_report_exits_total(target_emit_fn emit, void *ctx);	/* one line: all vCPUs' sum */
void target_report_info(struct vcpu *v, target_emit_fn emit, void *ctx);	/* memory, paging mode, stepping method */
/* The EPT walk for gpa: PML4E, PDPTE, PDE, PTE with each entry's address,
 * value and bits; a sentence for an address beyond the EPT or in the
 * hypervisor's region. */
void target_report_ept(struct vcpu *v, uint64_t gpa, target_emit_fn emit, void *ctx);
/* v's last VM exit decoded: reason, qualification in words, exit
 * interruption and IDT-vectoring information, instruction length and
 * information. */
void target_report_exit(struct vcpu *v, target_emit_fn emit, void *ctx);
/* The entry checker's verdict on v's VMCS: a dead guest's reason and
 * findings (target_report_dead), then, after a failed entry, the checker
 * run now (a fix since counts); for a live guest the checker run now. */
void target_report_why(struct vcpu *v, target_emit_fn emit, void *ctx);

/* The local APIC (target_apic.c; issue 12 item 2): the virtual-APIC page
 * with RVI/SVI under apic=virtual, else this processor's physical APIC.
 * 0, or -EBUSY (v runs), -ENODATA (pass-through, v is another processor's),
 * -ENODEV (the APIC is disabled). */
int target_apic_view(struct vcpu *v, struct apic_view *out);
void target_report_apic(struct vcpu *v, target_emit_fn emit, void *ctx);	/* in words */

#endif
