/* target_views.c — the reports that explain themselves (issue 12): the EPT
 * walk of one address, the last VM exit decoded, the entry checker's
 * verdict.  Each reads only fields the CPU has (vmcs_present.h), so looking
 * never changes VM_INSTRUCTION_ERROR. */
#include "target.h"

#include "allstop.h"
#include "entry_failure.h"
#include "ept_walk.h"
#include "guest.h"
#include "platform/fmt.h"
#include "vmcs_explain.h"
#include "vmcs_present.h"
#include "vmcs_table.h"
#include "vmx.h"

void target_report_ept(struct vcpu *v, uint64_t gpa, target_emit_fn emit, void *ctx)
{
	if (vcpu_vmcs_use(v))
		return;
	char line[192];
	struct ept_walk_step steps[4];
	if (gpa >= EPT_GPA_LIMIT) {
		ksnprintf(line, sizeof(line), "GPA 0x%llx is beyond what a 4-level EPT translates (48 bits)",
			  (unsigned long long)gpa);
		emit(ctx, line);
		return;
	}
	if (gpa >= guest_mem.hv_start && gpa < guest_mem.hv_end) {
		ksnprintf(line, sizeof(line), "GPA 0x%llx is in the hypervisor's region 0x%llx-0x%llx, which the "
			  "guest's EPT leaves unmapped", (unsigned long long)gpa, (unsigned long long)guest_mem.hv_start,
			  (unsigned long long)guest_mem.hv_end - 1);
		emit(ctx, line);
	}
	int n = ept_walk(&v->ept, gpa, steps);
	ksnprintf(line, sizeof(line), "GPA 0x%llx, EPTP 0x%llx (PML4 at 0x%llx):", (unsigned long long)gpa,
		  (unsigned long long)v->eptp, (unsigned long long)v->ept.pml4_phys);
	emit(ctx, line);
	for (int i = 0; i < n; i++) {
		char d[160];
		ept_walk_describe(&steps[i], d, sizeof(d));
		ksnprintf(line, sizeof(line), "  %s", d);
		emit(ctx, line);
	}
	struct ept_mapping m;
	if (ept_query(&v->ept, gpa, &m) == 0 && m.present)
		ksnprintf(line, sizeof(line), "GPA 0x%llx -> HPA 0x%llx", (unsigned long long)gpa,
			  (unsigned long long)m.hpa);
	else
		ksnprintf(line, sizeof(line), "GPA 0x%llx: not mapped%s", (unsigned long long)gpa,
			  gpa >= guest_mem.hv_end || gpa < guest_mem.hv_start ? " (not guest memory)" : "");
	emit(ctx, line);
}

/* A field's value, or false when the CPU lacks it (nothing is read then). */
static bool read_field(uint32_t enc, uint64_t *v)
{
	return vmcs_field_present(&vmx_caps, enc) && vmread_checked(enc, v) == VMX_OK;
}

void target_report_exit(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	if (vcpu_vmcs_use(v))
		return;
	char line[256], words[224];
	uint64_t reason = 0, qual = 0, intr = 0, intr_err = 0, idt = 0, idt_err = 0, ilen = 0, iinfo = 0, gla = 0,
		 gpa = 0;
	read_field(VM_EXIT_REASON, &reason);
	read_field(EXIT_QUALIFICATION, &qual);
	read_field(VM_EXIT_INTERRUPTION_INFO, &intr);
	read_field(VM_EXIT_INTERRUPTION_ERROR_CODE, &intr_err);
	read_field(IDT_VECTORING_INFO, &idt);
	read_field(IDT_VECTORING_ERROR_CODE, &idt_err);
	read_field(VM_EXIT_INSTRUCTION_LENGTH, &ilen);
	read_field(VM_EXIT_INSTRUCTION_INFO, &iinfo);

	ksnprintf(line, sizeof(line), "vCPU %u, last VM exit (of %llu):", v->index, (unsigned long long)v->exits);
	emit(ctx, line);
	vmcs_describe_exit_reason((uint32_t)reason, words, sizeof(words));
	ksnprintf(line, sizeof(line), "  reason         0x%08llx = %s", (unsigned long long)reason, words);
	emit(ctx, line);
	if (!vmcs_describe_exit_qualification((unsigned)reason & 0xffff, (uint32_t)intr, qual, words, sizeof(words)))
		ksnprintf(words, sizeof(words), "nothing this reason defines that vmxdbg puts in words");
	ksnprintf(line, sizeof(line), "  qualification  0x%016llx = %s", (unsigned long long)qual, words);
	emit(ctx, line);
	vmcs_describe_intr_info((uint32_t)intr, words, sizeof(words));
	ksnprintf(line, sizeof(line), "  interruption   0x%08llx = %s", (unsigned long long)intr, words);
	emit(ctx, line);
	if ((intr & (1u << 31)) && (intr & (1u << 11))) {
		ksnprintf(line, sizeof(line), "  error code     0x%llx", (unsigned long long)intr_err);
		emit(ctx, line);
	}
	vmcs_describe_intr_info((uint32_t)idt, words, sizeof(words));
	ksnprintf(line, sizeof(line), "  IDT-vectoring  0x%08llx = %s%s", (unsigned long long)idt,
		  idt & (1u << 31) ? "" : "no event was being delivered: ", words);
	emit(ctx, line);
	if ((idt & (1u << 31)) && (idt & (1u << 11))) {
		ksnprintf(line, sizeof(line), "  IDT error code 0x%llx", (unsigned long long)idt_err);
		emit(ctx, line);
	}
	if (!vmcs_describe_instruction_info((unsigned)reason & 0xffff, qual, (uint32_t)iinfo, words, sizeof(words)))
		ksnprintf(words, sizeof(words), "not defined for this reason");
	ksnprintf(line, sizeof(line), "  instruction    length %llu, information 0x%08llx = %s", (unsigned long long)ilen,
		  (unsigned long long)iinfo, words);
	emit(ctx, line);
	if ((reason & 0xffff) == EXIT_REASON_EPT_VIOLATION && read_field(GUEST_PHYSICAL_ADDRESS, &gpa)) {
		bool gla_valid = (qual & (1u << 7)) && read_field(GUEST_LINEAR_ADDRESS, &gla);
		ksnprintf(line, sizeof(line), "  guest-physical 0x%llx%s0x%llx", (unsigned long long)gpa,
			  gla_valid ? ", guest-linear " : ", no guest-linear address ", gla_valid ? (unsigned long long)gla : 0ull);
		emit(ctx, line);
	}
}

void target_report_why(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	if (vcpu_vmcs_use(v))
		return;
	if (v->stopped) {
		target_report_dead(v, emit, ctx);
		/* A failed entry may have been fixed since: say what the next
		 * attempt (`continue`) would find. */
		if (!v->entry_failed)
			return;
		emit(ctx, "the VMCS as it is now, with any fix made since the failure:");
	}
	char line[128];
	int n = entry_failure_check_now(emit, ctx);
	if (!n)
		ksnprintf(line, sizeof(line), "vCPU %u can run: the VMCS passes every check the checker knows",
			  v->index);
	else
		ksnprintf(line, sizeof(line), "vCPU %u: the checker found %d broken rule%s above; the next VM "
			  "entry will fail", v->index, n, n == 1 ? "" : "s");
	emit(ctx, line);
}
