/* entry_check_controls.c — checks on the VMX controls (SDM Vol. 3C §27.2.1;
 * book ch. 4): reserved bits against the capability MSRs, controls that need
 * other controls, the addresses the controls bring into use, and the fields
 * of VM-entry event injection. A violation here fails VMLAUNCH/VMRESUME
 * with VM-instruction error 7. */
#include "entry_check_impl.h"

static uint32_t group_field(enum vmx_control_group g)
{
	static const uint32_t fields[VMX_CTL_GROUPS] = {
		[VMX_CTL_PIN] = PIN_BASED_VM_EXEC_CONTROL,
		[VMX_CTL_PROC] = PRIMARY_VM_EXEC_CONTROL,
		[VMX_CTL_PROC2] = SECONDARY_VM_EXEC_CONTROL,
		[VMX_CTL_PROC3] = TERTIARY_VM_EXEC_CONTROL,
		[VMX_CTL_EXIT] = PRIMARY_VM_EXIT_CONTROLS,
		[VMX_CTL_EXIT2] = SECONDARY_VM_EXIT_CONTROLS,
		[VMX_CTL_ENTRY] = VM_ENTRY_CONTROLS,
	};
	return fields[g];
}

static uint64_t group_value(const struct ec *c, enum vmx_control_group g)
{
	switch (g) {
	case VMX_CTL_PIN: return c->pin;
	case VMX_CTL_PROC: return c->proc;
	case VMX_CTL_PROC2: return c->proc2;
	case VMX_CTL_PROC3: return c->proc3;
	case VMX_CTL_EXIT: return c->exit;
	case VMX_CTL_EXIT2: return c->exit2;
	default: return c->entry;
	}
}

#define ON(c, group, name) ((group_value((c), VMX_CTL_##group) & VMX_##group##_##name) != 0)

/* "A control that is 1 needs another to be 1 (or 0)": reported on the
 * field of the control that is 1, naming both. */
static void needs(struct ec *c, enum vmx_control_group g, uint64_t bit, enum vmx_control_group other,
		  uint64_t other_bit, int want, const char *section)
{
	uint64_t v = group_value(c, g);
	unsigned n = (unsigned)__builtin_ctzll(bit), m = (unsigned)__builtin_ctzll(other_bit);

	if (!(v & bit) || ((group_value(c, other) & other_bit) != 0) == (want != 0))
		return;
	const struct vmcs_field_info *f = vmcs_field_by_encoding(group_field(other));
	ec_fail(c, group_field(g), v, section, "%s (bit %u) is 1, so %s (bit %u)%s%s must be %d",
		vmx_control_name(g, n), n, vmx_control_name(other, m), m,
		g == other ? "" : " of ", g == other ? "" : f->name, want);
}

#define NEEDS(c, g, name, og, oname, want, section) \
	needs((c), VMX_CTL_##g, VMX_##g##_##name, VMX_CTL_##og, VMX_##og##_##oname, (want), (section))

static void check_reserved_exec_bits(struct ec *c)
{
	ec_want_control_group(c, VMX_CTL_PIN, PIN_BASED_VM_EXEC_CONTROL, c->pin, SDM_EXEC);
	ec_want_control_group(c, VMX_CTL_PROC, PRIMARY_VM_EXEC_CONTROL, c->proc, SDM_EXEC);
	if (ON(c, PROC, ACTIVATE_SECONDARY_CONTROLS))
		ec_want_control_group(c, VMX_CTL_PROC2, SECONDARY_VM_EXEC_CONTROL, c->proc2, SDM_EXEC);
	if (ON(c, PROC, ACTIVATE_TERTIARY_CONTROLS))
		ec_want_control_group(c, VMX_CTL_PROC3, TERTIARY_VM_EXEC_CONTROL, c->proc3, SDM_EXEC);
}

static void check_cr3_targets(struct ec *c)
{
	uint64_t count = ec_read(c, CR3_TARGET_COUNT);
	unsigned max = 4;	/* what every processor so far supports */

	if (c->caps->have & VMX_HAVE_MISC)
		max = (unsigned)(c->caps->misc >> VMX_MISC_CR3_TARGETS_SHIFT) & VMX_MISC_CR3_TARGETS_MASK;
	if (count > max)
		ec_fail(c, CR3_TARGET_COUNT, count, SDM_EXEC,
			"must not exceed %u, the CR3-target values IA32_VMX_MISC bits 24:16 report", max);
}

/* The TPR shadow and the APIC-virtualization controls built on it. */
static void check_apic_controls(struct ec *c)
{
	if (ON(c, PROC, USE_TPR_SHADOW)) {
		ec_want_page_address(c, VIRTUAL_APIC_ADDRESS, SDM_EXEC);
		uint64_t threshold = ec_read(c, TPR_THRESHOLD);
		if (!ON(c, PROC2, VIRTUAL_INTERRUPT_DELIVERY) && (threshold & ~0xfull))
			ec_fail(c, TPR_THRESHOLD, threshold, SDM_EXEC,
				"bits 31:4 must be 0 while VIRTUAL_INTERRUPT_DELIVERY is 0");
	}
	NEEDS(c, PROC2, VIRTUALIZE_X2APIC_MODE, PROC, USE_TPR_SHADOW, 1, SDM_EXEC);
	NEEDS(c, PROC2, APIC_REGISTER_VIRTUALIZATION, PROC, USE_TPR_SHADOW, 1, SDM_EXEC);
	NEEDS(c, PROC2, VIRTUAL_INTERRUPT_DELIVERY, PROC, USE_TPR_SHADOW, 1, SDM_EXEC);
	NEEDS(c, PIN, VIRTUAL_NMIS, PIN, NMI_EXITING, 1, SDM_EXEC);
	NEEDS(c, PROC, NMI_WINDOW_EXITING, PIN, VIRTUAL_NMIS, 1, SDM_EXEC);
	if (ON(c, PROC2, VIRTUALIZE_APIC_ACCESSES))
		ec_want_page_address(c, APIC_ACCESS_ADDRESS, SDM_EXEC);
	NEEDS(c, PROC2, VIRTUALIZE_X2APIC_MODE, PROC2, VIRTUALIZE_APIC_ACCESSES, 0, SDM_EXEC);
	NEEDS(c, PROC2, VIRTUAL_INTERRUPT_DELIVERY, PIN, EXTERNAL_INTERRUPT_EXITING, 1, SDM_EXEC);
}

static void check_posted_interrupts(struct ec *c)
{
	if (!ON(c, PIN, PROCESS_POSTED_INTERRUPTS))
		return;
	NEEDS(c, PIN, PROCESS_POSTED_INTERRUPTS, PROC2, VIRTUAL_INTERRUPT_DELIVERY, 1, SDM_EXEC);
	NEEDS(c, PIN, PROCESS_POSTED_INTERRUPTS, EXIT, ACKNOWLEDGE_INTERRUPT_ON_EXIT, 1, SDM_EXEC);
	uint64_t vector = ec_read(c, POSTED_INTERRUPT_NOTIFICATION_VECTOR);
	if (vector & 0xff00)
		ec_fail(c, POSTED_INTERRUPT_NOTIFICATION_VECTOR, vector, SDM_EXEC,
			"bits 15:8 must be 0 (the vector is one byte)");
	uint64_t desc = ec_read(c, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS);
	if (desc & 0x3f)
		ec_fail(c, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, desc, SDM_EXEC,
			"must be 64-byte aligned (bits 5:0 zero)");
	if (!ec_phys_ok(c, desc))
		ec_fail(c, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, desc, SDM_EXEC,
			"must not set bits beyond the %u-bit physical-address width", c->phys_bits);
}

/* EPTP format, SDM Vol. 3C §25.6.11: memory type, walk length, A/D enable. */
static void check_eptp(struct ec *c)
{
	uint64_t eptp = ec_read(c, EPT_POINTER);
	uint64_t cap = c->caps->ept_vpid_cap;
	unsigned type = eptp & 7, levels = ((eptp >> 3) & 7) + 1;

	if (c->caps->have & VMX_HAVE_EPT_VPID_CAP) {
		bool uc = cap & VMX_EPT_MEMTYPE_UC, wb = cap & VMX_EPT_MEMTYPE_WB;
		if (!(type == VMX_MEMTYPE_UC && uc) && !(type == VMX_MEMTYPE_WB && wb))
			ec_fail(c, EPT_POINTER, eptp, SDM_EXEC,
				"memory type (bits 2:0) %u is not one IA32_VMX_EPT_VPID_CAP allows (%s%s%s)",
				type, uc ? "0 UC" : "", uc && wb ? ", " : "", wb ? "6 WB" : "");
		if (!(levels == 4 && (cap & VMX_EPT_WALK_4)) && !(levels == 5 && (cap & VMX_EPT_WALK_5)))
			ec_fail(c, EPT_POINTER, eptp, SDM_EXEC,
				"bits 5:3 (walk length - 1) ask for %u levels; IA32_VMX_EPT_VPID_CAP offers %s",
				levels, (cap & VMX_EPT_WALK_5) ? "4 or 5" : "4 (bits 5:3 = 3)");
		if ((eptp & BIT(6)) && !(cap & VMX_EPT_ACCESSED_DIRTY))
			ec_fail(c, EPT_POINTER, eptp, SDM_EXEC,
				"bit 6 (accessed/dirty flags) needs IA32_VMX_EPT_VPID_CAP bit 21");
	}
	if (eptp & 0xf80)
		ec_fail(c, EPT_POINTER, eptp, SDM_EXEC, "bits 11:7 are reserved and must be 0");
	if (!ec_phys_ok(c, eptp))
		ec_fail(c, EPT_POINTER, eptp, SDM_EXEC,
			"must not set bits beyond the %u-bit physical-address width", c->phys_bits);
}

static void check_vm_functions(struct ec *c)
{
	if (!ON(c, PROC2, ENABLE_VM_FUNCTIONS))
		return;
	uint64_t funcs = ec_read(c, VM_FUNCTION_CONTROLS);
	uint64_t allowed = (c->caps->have & VMX_HAVE_VMFUNC) ? c->caps->vmfunc : 0;

	for (unsigned bit = 0; bit < 64; bit++)
		if ((funcs & BIT(bit)) && !(allowed & BIT(bit)))
			ec_fail(c, VM_FUNCTION_CONTROLS, funcs, SDM_EXEC,
				"bit %u must be 0 (IA32_VMX_VMFUNC allowed-1)", bit);
	if (!(funcs & VMX_VMFUNC_EPTP_SWITCHING))
		return;
	if (!ON(c, PROC2, ENABLE_EPT))
		ec_fail(c, VM_FUNCTION_CONTROLS, funcs, SDM_EXEC,
			"EPTP switching (bit 0) needs ENABLE_EPT (bit 1) of SECONDARY_VM_EXEC_CONTROL");
	ec_want_page_address(c, EPTP_LIST_ADDRESS, SDM_EXEC);
}

static void check_vpid_ept_and_friends(struct ec *c)
{
	if (ON(c, PROC2, ENABLE_VPID)) {
		uint64_t vpid = ec_read(c, VIRTUAL_PROCESSOR_ID);
		if (vpid == 0)
			ec_fail(c, VIRTUAL_PROCESSOR_ID, vpid, SDM_EXEC,
				"must not be 0 while ENABLE_VPID is 1: VPID 0 tags the VMM's own translations");
	}
	if (ON(c, PROC2, ENABLE_EPT))
		check_eptp(c);
	NEEDS(c, PROC2, ENABLE_PML, PROC2, ENABLE_EPT, 1, SDM_EXEC);
	if (ON(c, PROC2, ENABLE_PML))
		ec_want_page_address(c, PML_ADDRESS, SDM_EXEC);
	NEEDS(c, PROC2, UNRESTRICTED_GUEST, PROC2, ENABLE_EPT, 1, SDM_EXEC);
	NEEDS(c, PROC2, MODE_BASED_EXECUTE_CONTROL, PROC2, ENABLE_EPT, 1, SDM_EXEC);
	NEEDS(c, PROC2, SUB_PAGE_WRITE_PERMISSIONS, PROC2, ENABLE_EPT, 1, SDM_EXEC);
	check_vm_functions(c);
	if (ON(c, PROC2, VMCS_SHADOWING)) {
		ec_want_page_address(c, VMREAD_BITMAP_ADDRESS, SDM_EXEC);
		ec_want_page_address(c, VMWRITE_BITMAP_ADDRESS, SDM_EXEC);
	}
	if (ON(c, PROC2, EPT_VIOLATION_VE))
		ec_want_page_address(c, VIRTUALIZATION_EXCEPTION_INFO_ADDRESS, SDM_EXEC);
	NEEDS(c, PROC2, PT_USES_GUEST_PHYSICAL_ADDRESSES, PROC2, ENABLE_EPT, 1, SDM_EXEC);
	NEEDS(c, PROC2, PT_USES_GUEST_PHYSICAL_ADDRESSES, EXIT, CLEAR_IA32_RTIT_CTL, 1, SDM_EXEC);
	NEEDS(c, PROC2, PT_USES_GUEST_PHYSICAL_ADDRESSES, ENTRY, LOAD_IA32_RTIT_CTL, 1, SDM_EXEC);
}

/* §27.2.1.1, in the SDM's order. */
void ec_check_execution_controls(struct ec *c)
{
	check_reserved_exec_bits(c);
	check_cr3_targets(c);
	if (ON(c, PROC, USE_IO_BITMAPS)) {
		ec_want_page_address(c, IO_BITMAP_A, SDM_EXEC);
		ec_want_page_address(c, IO_BITMAP_B, SDM_EXEC);
	}
	if (ON(c, PROC, USE_MSR_BITMAPS))
		ec_want_page_address(c, MSR_BITMAP, SDM_EXEC);
	check_apic_controls(c);
	check_posted_interrupts(c);
	check_vpid_ept_and_friends(c);
}

/* §27.2.1.2. */
void ec_check_exit_controls(struct ec *c)
{
	ec_want_control_group(c, VMX_CTL_EXIT, PRIMARY_VM_EXIT_CONTROLS, c->exit, SDM_EXIT);
	if (ON(c, EXIT, ACTIVATE_SECONDARY_CONTROLS))
		ec_want_control_group(c, VMX_CTL_EXIT2, SECONDARY_VM_EXIT_CONTROLS, c->exit2, SDM_EXIT);
	NEEDS(c, EXIT, SAVE_VMX_PREEMPTION_TIMER_VALUE, PIN, ACTIVATE_VMX_PREEMPTION_TIMER, 1, SDM_EXIT);
	ec_want_msr_area(c, VM_EXIT_MSR_STORE_ADDRESS, VM_EXIT_MSR_STORE_COUNT, SDM_EXIT);
	ec_want_msr_area(c, VM_EXIT_MSR_LOAD_ADDRESS, VM_EXIT_MSR_LOAD_COUNT, SDM_EXIT);
}

/* The exceptions that push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP. */
static bool pushes_error_code(unsigned vector)
{
	return vector < 32 && ((1u << vector) & 0x00227d00u);
}

static bool allows_mtf(const struct ec *c)
{
	uint32_t msr;
	uint64_t cap;

	return vmx_caps_control_msr(c->caps, VMX_CTL_PROC, &msr, &cap) &&
	       ((cap >> 32) & VMX_PROC_MONITOR_TRAP_FLAG);
}

/* Bit 11, "deliver error code": exactly the protected-mode hardware
 * exceptions that push one (unless IA32_VMX_BASIC[56] lifts the "only"). */
static void check_error_code_bit(struct ec *c, uint64_t info)
{
	unsigned type = INTR_INFO_TYPE(info), vector = INTR_INFO_VECTOR(info);
	bool real_mode = (c->proc2 & VMX_PROC2_UNRESTRICTED_GUEST) && !(ec_read(c, GUEST_CR0) & CR0_PE);
	bool deliver = info & INTR_INFO_DELIVER_CODE;
	bool exception = type == INTR_HW_EXCEPTION;

	if (!deliver && !real_mode && exception && pushes_error_code(vector))
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY,
			"exception %u pushes an error code, so bit 11 (deliver error code) must be 1", vector);
	if (!deliver)
		return;
	if (real_mode)
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY,
			"bit 11 must be 0: a real-mode guest (unrestricted, CR0.PE = 0) gets no error code");
	else if (!exception)
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY,
			"bit 11 must be 0: only hardware exceptions (type 3) deliver an error code");
	else if (!pushes_error_code(vector) && !(c->caps->basic & VMX_BASIC_NO_ERROR_CODE_CHECK))
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY,
			"bit 11 must be 0: exception %u pushes no error code (IA32_VMX_BASIC bit 56 is 0)", vector);
}

static void check_injection(struct ec *c)
{
	uint64_t info = ec_read(c, VM_ENTRY_INTERRUPTION_INFO);
	unsigned type = INTR_INFO_TYPE(info), vector = INTR_INFO_VECTOR(info);

	if (!(info & INTR_INFO_VALID))
		return;
	if (type == INTR_RESERVED)
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY, "interruption type 1 is reserved");
	if (type == INTR_OTHER && !allows_mtf(c))
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY,
			"interruption type 7 (other event) is reserved where MONITOR_TRAP_FLAG cannot be 1");
	if (type == INTR_NMI && vector != 2)
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY, "an NMI (type 2) must have vector 2");
	if (type == INTR_HW_EXCEPTION && vector > 31)
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY,
			"a hardware exception (type 3) must have a vector of at most 31");
	if (type == INTR_OTHER && vector != 0)
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY,
			"type 7 (other event) must have vector 0 (pending MTF VM exit)");
	check_error_code_bit(c, info);
	if (info & INTR_INFO_RESERVED)
		ec_fail(c, VM_ENTRY_INTERRUPTION_INFO, info, SDM_ENTRY, "bits 30:12 are reserved and must be 0");
	uint64_t code = ec_read(c, VM_ENTRY_EXCEPTION_ERROR_CODE);
	if ((info & INTR_INFO_DELIVER_CODE) && (code & 0xffff0000ull))
		ec_fail(c, VM_ENTRY_EXCEPTION_ERROR_CODE, code, SDM_ENTRY,
			"bits 31:16 must be 0 when an error code is delivered");
	if (type == INTR_SW_INTERRUPT || type == INTR_PRIV_SW_EXCEPTION || type == INTR_SW_EXCEPTION) {
		uint64_t len = ec_read(c, VM_ENTRY_INSTRUCTION_LENGTH);
		bool zero_ok = (c->caps->have & VMX_HAVE_MISC) && (c->caps->misc & VMX_MISC_ZERO_LENGTH_INJECTION);
		if (len > 15 || (len == 0 && !zero_ok))
			ec_fail(c, VM_ENTRY_INSTRUCTION_LENGTH, len, SDM_ENTRY,
				"a software interrupt or exception (type %u) needs a length of %s-15",
				type, zero_ok ? "0" : "1");
	}
}

/* §27.2.1.3. The VMM is never in SMM, so the SMM-only controls must be 0. */
void ec_check_entry_controls(struct ec *c)
{
	ec_want_control_group(c, VMX_CTL_ENTRY, VM_ENTRY_CONTROLS, c->entry, SDM_ENTRY);
	check_injection(c);
	ec_want_msr_area(c, VM_ENTRY_MSR_LOAD_ADDRESS, VM_ENTRY_MSR_LOAD_COUNT, SDM_ENTRY);
	if (ON(c, ENTRY, ENTRY_TO_SMM))
		ec_fail(c, VM_ENTRY_CONTROLS, c->entry, SDM_ENTRY,
			"ENTRY_TO_SMM (bit 10) must be 0: VM entry does not start in SMM");
	if (ON(c, ENTRY, DEACTIVATE_DUAL_MONITOR_TREATMENT))
		ec_fail(c, VM_ENTRY_CONTROLS, c->entry, SDM_ENTRY,
			"DEACTIVATE_DUAL_MONITOR_TREATMENT (bit 11) must be 0: VM entry does not start in SMM");
}
