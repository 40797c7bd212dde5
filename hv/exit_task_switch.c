/* exit_task_switch.c — exit reason 9, TASK_SWITCH: every task switch in VMX
 * non-root operation exits (SDM Vol. 3C §27.1.2), so the hypervisor does the
 * switch itself.  This file moves state between the VMCS and task_switch.c's
 * pure state machine: the qualification (§28.2.1 Table 28-2) names the new
 * TSS and the source, the IDT-vectoring field the event a task gate was
 * delivering (§28.2.4). */
#include "exits.h"
#include "guest_walk.h"
#include "target.h"
#include "task_switch.h"
#include "platform/log.h"
#include "vmx.h"

#define INTR_INFO_VALID (1u << 31)
#define INTR_INFO_ERROR_VALID (1u << 11)
#define INTR_TYPE(info) (((info) >> 8) & 7)
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3
#define BLOCKING_STI_MOVSS 3ull
#define BLOCKING_BY_NMI (1ull << 3)
#define CR0_TS (1ull << 3)
#define EFER_LMA (1ull << 10)

static const uint32_t sel_f[TS_NSEG] = { GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR,
					 GUEST_DS_SELECTOR, GUEST_FS_SELECTOR, GUEST_GS_SELECTOR };
static const uint32_t base_f[TS_NSEG] = { GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
					  GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE };
static const uint32_t limit_f[TS_NSEG] = { GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT,
					   GUEST_DS_LIMIT, GUEST_FS_LIMIT, GUEST_GS_LIMIT };
static const uint32_t ar_f[TS_NSEG] = { GUEST_ES_ACCESS_RIGHTS, GUEST_CS_ACCESS_RIGHTS, GUEST_SS_ACCESS_RIGHTS,
					GUEST_DS_ACCESS_RIGHTS, GUEST_FS_ACCESS_RIGHTS, GUEST_GS_ACCESS_RIGHTS };

static void seg_read(struct ts_seg *s, uint32_t sel, uint32_t base, uint32_t limit, uint32_t ar)
{
	*s = (struct ts_seg){ (uint16_t)vmread(sel), (uint32_t)vmread(base), (uint32_t)vmread(limit),
			      (uint32_t)vmread(ar) };
}

static void seg_write(const struct ts_seg *s, uint32_t sel, uint32_t base, uint32_t limit, uint32_t ar)
{
	vmwrite(sel, s->sel);
	vmwrite(base, s->base);
	vmwrite(limit, s->limit);
	vmwrite(ar, s->ar);
}

struct walk_ctx {
	struct vcpu *v;
	uint64_t cr4, efer;
};

static int phys_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	return target_read_phys(gpa, buf, len);
}

/* Linear accesses through the guest's paging as *c has it: CR3 changes
 * half way through a switch, the VMCS's only at the end. */
static int linear_access(void *ctx, const struct ts_cpu *c, uint32_t linear, uint8_t *buf, size_t len, bool write)
{
	struct walk_ctx *w = ctx;
	struct guest_paging p = { .cr0 = c->cr0, .cr3 = c->cr3, .cr4 = w->cr4, .efer = w->efer };
	while (len) {
		struct walk_result r;
		size_t chunk = 4096 - (linear & 4095);
		chunk = chunk < len ? chunk : len;
		int rc = guest_walk(&p, linear, phys_read, NULL, &r);
		if (!rc)
			rc = write ? target_write_phys(r.gpa, buf, chunk) : target_read_phys(r.gpa, buf, chunk);
		if (rc)
			return rc;
		linear += (uint32_t)chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static int linear_read(void *ctx, const struct ts_cpu *c, uint32_t linear, void *buf, size_t len)
{
	return linear_access(ctx, c, linear, buf, len, false);
}

static int linear_write(void *ctx, const struct ts_cpu *c, uint32_t linear, const void *buf, size_t len)
{
	return linear_access(ctx, c, linear, (uint8_t *)buf, len, true);
}

static void cpu_read(struct vcpu *v, struct ts_cpu *c)
{
	for (unsigned i = 0; i < 8; i++)
		c->gpr[i] = (uint32_t)vcpu_gpr(v, i);
	c->eip = (uint32_t)vmread(GUEST_RIP);
	c->eflags = (uint32_t)vmread(GUEST_RFLAGS);
	for (unsigned i = 0; i < TS_NSEG; i++)
		seg_read(&c->seg[i], sel_f[i], base_f[i], limit_f[i], ar_f[i]);
	seg_read(&c->ldtr, GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_ACCESS_RIGHTS);
	seg_read(&c->tr, GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_ACCESS_RIGHTS);
	c->gdtr_base = (uint32_t)vmread(GUEST_GDTR_BASE);
	c->gdtr_limit = (uint32_t)vmread(GUEST_GDTR_LIMIT);
	uint64_t cr0;
	target_reg_read(v, TREG_CR0, &cr0);
	c->cr0 = (uint32_t)cr0;
	c->cr3 = (uint32_t)vmread(GUEST_CR3);
}

/* With PAE paging and EPT, VM entry loads the PDPTEs from the VMCS, not
 * from CR3 (SDM Vol. 3C §27.3.2.4): a new CR3 needs them copied. */
static bool load_pdptes(const struct walk_ctx *w, uint32_t cr3)
{
	uint64_t pdpte[4];
	if (!(w->cr4 & GUEST_CR4_PAE) || (w->efer & EFER_LMA))
		return true;
	if (target_read_phys(cr3 & ~0x1fu, pdpte, sizeof(pdpte)))
		return false;
	vmwrite(GUEST_PDPTE0, pdpte[0]);
	vmwrite(GUEST_PDPTE1, pdpte[1]);
	vmwrite(GUEST_PDPTE2, pdpte[2]);
	vmwrite(GUEST_PDPTE3, pdpte[3]);
	return true;
}

static void cpu_write(struct vcpu *v, const struct ts_cpu *c)
{
	for (unsigned i = 0; i < 8; i++)
		vcpu_set_gpr(v, i, c->gpr[i]);
	vmwrite(GUEST_RIP, c->eip);
	vmwrite(GUEST_RFLAGS, c->eflags);
	for (unsigned i = 0; i < TS_NSEG; i++)
		seg_write(&c->seg[i], sel_f[i], base_f[i], limit_f[i], ar_f[i]);
	seg_write(&c->ldtr, GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_ACCESS_RIGHTS);
	seg_write(&c->tr, GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_ACCESS_RIGHTS);
	if (c->cr0 & CR0_TS) {
		vmwrite(GUEST_CR0, vmread(GUEST_CR0) | CR0_TS);
		if (v->cr0_mask & CR0_TS)
			vmwrite(CR0_READ_SHADOW, vmread(CR0_READ_SHADOW) | CR0_TS);
	}
}

/* The EIP the old TSS keeps: past CALL/JMP/IRET and INT n (the exit gives
 * the length, §28.2.5); the faulting or interrupted instruction for a
 * hardware event through a task gate. */
static uint32_t next_eip(uint32_t rip, unsigned source, uint32_t vectoring)
{
	if (source == TS_SRC_GATE && (vectoring & INTR_INFO_VALID) && INTR_TYPE(vectoring) < 4)
		return rip;
	return rip + (uint32_t)vmread(VM_EXIT_INSTRUCTION_LENGTH);
}

enum exit_action exit_task_switch(struct vcpu *v)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);
	uint32_t vectoring = (uint32_t)vmread(IDT_VECTORING_INFO);
	struct ts_request r = { .sel = (uint16_t)q, .source = (enum ts_source)((q >> 30) & 3) };
	struct ts_cpu c;
	uint64_t cr4;
	target_reg_read(v, TREG_CR4, &cr4);
	struct walk_ctx w = { v, cr4, vmread(GUEST_IA32_EFER) };
	struct ts_mem m = { &w, linear_read, linear_write };
	struct ts_result res;

	cpu_read(v, &c);
	if (c.eflags & (1u << 17))
		return exit_stop(v, "task switch from a virtual-8086 task: not emulated");
	r.next_eip = next_eip(c.eip, r.source, vectoring);
	bool gate_event = r.source == TS_SRC_GATE && (vectoring & INTR_INFO_VALID);
	if (gate_event) {
		r.external = INTR_TYPE(vectoring) < 4;
		r.push_error = INTR_TYPE(vectoring) == INTR_TYPE_HW_EXCEPTION && (vectoring & INTR_INFO_ERROR_VALID);
		r.error = (uint32_t)vmread(IDT_VECTORING_ERROR_CODE);
	}
	task_switch(&c, &r, &m, &res);
	if (res.outcome == TS_REFUSED)
		return exit_stop(v, "task switch (%s to TSS 0x%x, EIP 0x%x): %s",
				 (const char *[]){ "CALL", "IRET", "JMP", "task gate" }[r.source], r.sel, c.eip, res.why);
	if (res.cr3_loaded) {
		vmwrite(GUEST_CR3, c.cr3);
		if (!load_pdptes(&w, c.cr3))
			return exit_stop(v, "task switch: the new task's PDPTEs at 0x%x are not guest memory", c.cr3);
	}
	cpu_write(v, &c);
	/* A new task starts outside any STI/MOV-SS shadow; an NMI delivered
	 * through a task gate blocks NMIs as its handler would, and IRET
	 * unblocks them, task switch or not (SDM Vol. 3A §6.7.1). */
	uint64_t intr = vmread(GUEST_INTERRUPTIBILITY_STATE) & ~BLOCKING_STI_MOVSS;
	if (gate_event && INTR_TYPE(vectoring) == INTR_TYPE_NMI)
		intr |= BLOCKING_BY_NMI;
	if (r.source == TS_SRC_IRET)
		intr &= ~BLOCKING_BY_NMI;
	vmwrite(GUEST_INTERRUPTIBILITY_STATE, intr);
	if (res.outcome == TS_FAULT) {
		log_info("task switch to 0x%x: #%u(0x%x) in the guest", r.sel, res.fault_vector, res.fault_error);
		inject_exception(v, res.fault_vector, true, res.fault_error);
	}
	return EXIT_RESUME;
}
