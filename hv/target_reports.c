/* target_reports.c — the debug target API's read-only reports (for
 * `monitor`), the guest's FPU state, and interrupt/NMI injection. */
#include "target.h"

#include "allstop.h"

#include "entry_failure.h"
#include "exits.h"
#include "ext_interrupt.h"
#include "guest.h"
#include "guest_mode.h"
#include "mtf_probe.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"
#include "vmcs_dump.h"
#include "vmx.h"
#include "vmx_caps.h"
#include "vmx_msr.h"

extern struct vmx_caps_raw vmx_caps;

void target_report_vmcs(target_emit_fn emit, void *ctx)
{
	target_selected_vcpu();
	vmcs_dump(&vmx_caps, emit, ctx);
}

void target_report_caps(target_emit_fn emit, void *ctx)
{
	vmx_caps_report(&vmx_caps, emit, ctx);
}

void target_report_exits(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	if (vcpu_vmcs_use(v))
		return;
	char line[96];
	ksnprintf(line, sizeof(line), "%llu VM exits", (unsigned long long)v->exits);
	emit(ctx, line);
	for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++) {
		if (!v->exit_counts[r])
			continue;
		ksnprintf(line, sizeof(line), "  %3u %-24s %llu", r, exit_reason_name(r),
			  (unsigned long long)v->exit_counts[r]);
		emit(ctx, line);
	}
}

void target_report_exits_total(target_emit_fn emit, void *ctx)
{
	char line[96];
	uint64_t total = 0;
	for (unsigned i = 0; i < target_vcpu_count(); i++)
		total += target_vcpu(i)->exits;
	ksnprintf(line, sizeof(line), "all %u vCPU%s: %llu VM exits", target_vcpu_count(),
		  target_vcpu_count() == 1 ? "" : "s", (unsigned long long)total);
	emit(ctx, line);
}

void target_report_info(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	if (vcpu_vmcs_use(v))
		return;
	char line[256];
	struct guest_paging p;
	target_reg_read(v, TREG_CR0, &p.cr0);
	target_reg_read(v, TREG_CR4, &p.cr4);
	p.cr3 = vmread(GUEST_CR3);
	p.efer = vmread(GUEST_IA32_EFER);

	char mode[64];
	guest_mode_describe(&p, (uint32_t)vmread(GUEST_CS_ACCESS_RIGHTS), vmread(GUEST_RFLAGS), mode, sizeof(mode));
	ksnprintf(line, sizeof(line), "vcpu %u: %s, RIP 0x%llx, %s", v->index,
		  v->stopped ? "dead" : v->state == VCPU_WAIT_SIPI ? "waiting for its SIPI" : "stopped",
		  (unsigned long long)vmread(GUEST_RIP), mode);
	emit(ctx, line);
	ksnprintf(line, sizeof(line), "hypervisor region 0x%llx-0x%llx (absent from the guest's EPT)",
		  (unsigned long long)guest_mem.hv_start, (unsigned long long)guest_mem.hv_end - 1);
	emit(ctx, line);
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		const struct mem_region *r = &guest_mem.regions[i];
		ksnprintf(line, sizeof(line), "  guest memory 0x%016llx-0x%016llx %s", (unsigned long long)r->base,
			  (unsigned long long)(r->base + r->len - 1), mem_type_name(r->type));
		emit(ctx, line);
	}
	char step[200];
	mtf_verdict_describe(mtf_verdict(), step, sizeof(step));
	ksnprintf(line, sizeof(line), "single-step: %s", step);
	emit(ctx, line);
	ksnprintf(line, sizeof(line), "break-in: a poll every %u ticks of guest time (preemption timer) or of "
		  "machine time (TSC, on the next exit)", v->preemption_ticks);
	emit(ctx, line);
	ksnprintf(line, sizeof(line), "EPTP 0x%llx, VPID %u, VM exits %llu", (unsigned long long)v->eptp, v->vpid,
		  (unsigned long long)v->exits);
	emit(ctx, line);
	target_report_dead(v, emit, ctx);
}

enum target_image target_guest_image(void)
{
	return guest_image;
}

void target_report_dead(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	if (vcpu_vmcs_use(v))
		return;
	char line[256];

	if (!v->stopped)
		return;
	ksnprintf(line, sizeof(line), "the guest cannot run: %s", v->stop_reason);
	emit(ctx, line);
	if (!v->entry_failed)
		return;
	for (const char *p = entry_failure_notes(); *p;) {
		size_t n = 0;
		while (p[n] && p[n] != '\n')
			n++;
		ksnprintf(line, sizeof(line), "%.*s", (int)n, p);
		emit(ctx, line);
		p += p[n] ? n + 1 : n;
	}
	emit(ctx, "fix the VMCS (monitor vmcs FIELD VALUE), then continue: the checker runs again first");
}

/* The guest's x87/SSE registers are live in the CPU in root mode: the
 * hypervisor proper never touches them (-mgeneral-regs-only). */
/* Live on this processor for its own vCPU; saved in the vcpu for a parked
 * one; out of reach for one running elsewhere. */
int target_fpu_read(struct vcpu *v, struct target_fxsave *out)
{
	if (v == this_vcpu())
		__asm__ volatile("fxsave64 %0" : "=m"(*out));
	else if (v->parked)
		memcpy(out, v->fxsave, sizeof(*out));
	else
		return -EBUSY;
	return 0;
}

int target_fpu_write(struct vcpu *v, const struct target_fxsave *in)
{
	if (in->mxcsr & ~in->mxcsr_mask & 0xffffffffu)
		return -EINVAL;	/* FXRSTOR would #GP on reserved MXCSR bits */
	if (v == this_vcpu())
		__asm__ volatile("fxrstor64 %0" : : "m"(*in));
	else if (v->parked)	/* restored when it leaves its park */
		memcpy(v->fxsave, in, sizeof(*in));
	else
		return -EBUSY;
	return 0;
}

#define INTR_INFO_VALID (1u << 31)
#define RFLAGS_IF (1ull << 9)

/* Can an external interrupt / NMI be delivered at the next entry? (SDM
 * Vol. 3C §27.3.1.5: RFLAGS.IF and the STI/MOV-SS blocking bits; NMI blocking bit 3.) */
bool guest_can_take_interrupt(void)
{
	return (vmread(GUEST_RFLAGS) & RFLAGS_IF) && !(vmread(GUEST_INTERRUPTIBILITY_STATE) & 3);
}

static bool can_take_nmi(void)
{
	return !(vmread(GUEST_INTERRUPTIBILITY_STATE) & (1u << 3 | 3));
}

int target_inject_interrupt(struct vcpu *v, unsigned vector)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	if (vector < 32 || vector > 255)
		return -EINVAL;
	if (v->pending_irq >= 0)
		return -EBUSY;
	v->pending_irq = (int)vector;
	inject_pending_events(v);
	return 0;
}

int target_inject_nmi(struct vcpu *v)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	if (v->pending_nmi)
		return -EBUSY;
	v->pending_nmi = true;
	inject_pending_events(v);
	return 0;
}

/* The next interrupt to inject: the highest vector of the one injected
 * by a user and those acknowledged on exit (ext_interrupt.c); -1 if none. */
static int next_interrupt(const struct vcpu *v)
{
	int held = ext_interrupt_highest(v);
	return held > v->pending_irq ? held : v->pending_irq;
}

/* Deliver what can go now; for the rest, ask for an exit at the first
 * window (interrupt-window / NMI-window exiting, SDM §25.6.2). */
void inject_pending_events(struct vcpu *v)
{
	bool slot_free = !(vmread(VM_ENTRY_INTERRUPTION_INFO) & INTR_INFO_VALID);
	if (v->pending_nmi && slot_free && can_take_nmi()) {
		vmwrite(VM_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | (2u << 8) | 2);
		v->pending_nmi = false;
		slot_free = false;
	}
	int irq = next_interrupt(v);
	if (irq >= 0 && slot_free && guest_can_take_interrupt()) {
		vmwrite(VM_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | (unsigned)irq);
		if (irq == v->pending_irq)
			v->pending_irq = -1;
		else
			ext_interrupt_take(v, (unsigned)irq);
		irq = next_interrupt(v);
	}
	/* A deferred interrupt (ext_interrupt.c) waits in its controller for the window too. */
	uint32_t want = (irq >= 0 || v->irq_deferred ? VMX_PROC_INTERRUPT_WINDOW_EXITING : 0) |
			(v->pending_nmi ? VMX_PROC_NMI_WINDOW_EXITING : 0);
	uint32_t ctls = (v->proc_ctls & ~(VMX_PROC_INTERRUPT_WINDOW_EXITING | VMX_PROC_NMI_WINDOW_EXITING)) | want;
	if (ctls != v->proc_ctls) {
		v->proc_ctls = ctls;
		vmwrite(PRIMARY_VM_EXEC_CONTROL, ctls);
	}
}
