/* The VM-entry checker names the field and the SDM rule a VMCS breaks. Each
 * test starts from a VMCS that passes every check (a 64-bit guest, or a
 * 32-bit protected-mode unrestricted guest), breaks one rule and looks for
 * the field and the rule's words in the report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/entry_check.h"
#include "hv/vmcs_table.h"

#include "vmcs_fixture.h"

#define MAX_FOUND 64
static struct entry_violation found[MAX_FOUND];

static int run(void)
{
	memset(found, 0, sizeof(found));
	return entry_check_all(&reader, &skylake_x, found, MAX_FOUND);
}

static void print_all(int n)
{
	for (int i = 0; i < n && i < MAX_FOUND; i++)
		print_message("  found: %s\n", found[i].message);
}

/* Some violation names the field first, contains the rule's words and ends
 * with the SDM section; with only, it is the one violation. */
static void expect(bool only, uint32_t field, const char *words, const char *more)
{
	int n = run();
	const struct vmcs_field_info *f = vmcs_field_by_encoding(field);

	assert_non_null(f);
	for (int i = 0; i < n && i < MAX_FOUND; i++) {
		const char *m = found[i].message;
		if (found[i].field != field || strncmp(m, f->name, strlen(f->name)) != 0 ||
		    !strstr(m, words) || (more && !strstr(m, more)))
			continue;
		assert_non_null(strstr(m, " — SDM 27."));
		assert_int_equal(found[i].value, get(field));
		if (only && n != 1) {
			print_all(n);
			fail_msg("expected only \"%s\", found %d violations", m, n);
		}
		return;
	}
	print_all(n);
	fail_msg("no violation of %s says \"%s\"", f->name, words);
}

#define EXPECT_ONLY(field, words) expect(true, (field), (words), NULL)
#define EXPECT(field, words) expect(false, (field), (words), NULL)

static void or_bits(uint32_t field, uint64_t bits)
{
	set(field, get(field) | bits);
}

static void clear_bits(uint32_t field, uint64_t bits)
{
	set(field, get(field) & ~bits);
}

/* The baselines. */

static void test_a_valid_64bit_guest_breaks_no_rule(void **state)
{
	(void)state;
	int n = run();
	print_all(n);
	assert_int_equal(n, 0);
}

static void test_a_valid_32bit_unrestricted_guest_breaks_no_rule(void **state)
{
	test_a_valid_64bit_guest_breaks_no_rule(state);
}

/* §27.2.1.1 VM-execution controls. */

static void test_a_pin_based_default1_bit_left_clear_is_named_with_its_msr(void **state)
{
	(void)state;
	set(PIN_BASED_VM_EXEC_CONTROL, 0);
	int n = run();
	assert_int_equal(n, 3);		/* bits 1, 2 and 4 */
	assert_int_equal(found[0].field, PIN_BASED_VM_EXEC_CONTROL);
	assert_string_equal(found[0].message, "PIN_BASED_VM_EXEC_CONTROL (0x00000000): bit 1 must be 1 "
			    "(IA32_VMX_TRUE_PINBASED_CTLS allowed-0) — SDM 27.2.1.1");
}

static void test_a_secondary_control_the_cpu_lacks_is_named(void **state)
{
	(void)state;
	or_bits(SECONDARY_VM_EXEC_CONTROL, VMX_PROC2_ENABLE_ENCLS_EXITING);
	EXPECT_ONLY(SECONDARY_VM_EXEC_CONTROL,
		    "bit 15 (ENABLE_ENCLS_EXITING) must be 0 (IA32_VMX_PROCBASED_CTLS2 allowed-1)");
}

static void test_more_cr3_targets_than_the_cpu_has_are_refused(void **state)
{
	(void)state;
	set(CR3_TARGET_COUNT, 5);
	EXPECT_ONLY(CR3_TARGET_COUNT, "must not exceed 4");
}

static void test_an_unaligned_io_bitmap_is_named(void **state)
{
	(void)state;
	set(IO_BITMAP_B, 0x102010);
	EXPECT_ONLY(IO_BITMAP_B, "must be 4-KByte aligned");
}

static void test_an_msr_bitmap_beyond_the_physical_width_is_named(void **state)
{
	(void)state;
	set(MSR_BITMAP, 1ull << 40);
	EXPECT_ONLY(MSR_BITMAP, "beyond the 39-bit physical-address width");
}

static void test_virtual_nmis_without_nmi_exiting_are_refused(void **state)
{
	(void)state;
	set(PIN_BASED_VM_EXEC_CONTROL, PIN_DEFAULT1 | VMX_PIN_VIRTUAL_NMIS);
	EXPECT_ONLY(PIN_BASED_VM_EXEC_CONTROL, "VIRTUAL_NMIS (bit 5) is 1, so NMI_EXITING (bit 3) must be 1");
}

static void test_nmi_window_exiting_without_virtual_nmis_is_refused(void **state)
{
	(void)state;
	or_bits(PRIMARY_VM_EXEC_CONTROL, VMX_PROC_NMI_WINDOW_EXITING);
	EXPECT_ONLY(PRIMARY_VM_EXEC_CONTROL,
		    "NMI_WINDOW_EXITING (bit 22) is 1, so VIRTUAL_NMIS (bit 5) of PIN_BASED_VM_EXEC_CONTROL must be 1");
}

static void test_x2apic_virtualization_without_a_tpr_shadow_is_refused(void **state)
{
	(void)state;
	or_bits(SECONDARY_VM_EXEC_CONTROL, VMX_PROC2_VIRTUALIZE_X2APIC_MODE);
	EXPECT_ONLY(SECONDARY_VM_EXEC_CONTROL, "VIRTUALIZE_X2APIC_MODE (bit 4) is 1, so USE_TPR_SHADOW (bit 21)");
}

static void test_vpid_zero_is_refused_and_named_by_its_encoding_zero(void **state)
{
	(void)state;
	set(VIRTUAL_PROCESSOR_ID, 0);
	EXPECT_ONLY(VIRTUAL_PROCESSOR_ID, "must not be 0 while ENABLE_VPID is 1");
	assert_int_equal(found[0].field, 0);
}

static void test_an_eptp_memory_type_the_cpu_lacks_is_named(void **state)
{
	(void)state;
	set(EPT_POINTER, 0x104000 | 1 | (3 << 3));
	EXPECT_ONLY(EPT_POINTER, "memory type (bits 2:0) 1 is not one IA32_VMX_EPT_VPID_CAP allows (0 UC, 6 WB)");
}

static void test_a_five_level_ept_walk_is_refused_without_the_capability(void **state)
{
	(void)state;
	set(EPT_POINTER, 0x104000 | 6 | (4 << 3));
	EXPECT_ONLY(EPT_POINTER, "bits 5:3 (walk length - 1) ask for 5 levels; IA32_VMX_EPT_VPID_CAP offers 4");
}

static void test_an_unrestricted_guest_without_ept_is_refused(void **state)
{
	(void)state;
	clear_bits(SECONDARY_VM_EXEC_CONTROL, VMX_PROC2_ENABLE_EPT);
	EXPECT_ONLY(SECONDARY_VM_EXEC_CONTROL, "UNRESTRICTED_GUEST (bit 7) is 1, so ENABLE_EPT (bit 1) must be 1");
}

/* §27.2.1.2 VM-exit controls. */

static void test_saving_the_preemption_timer_without_the_timer_is_refused(void **state)
{
	(void)state;
	or_bits(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE);
	EXPECT_ONLY(PRIMARY_VM_EXIT_CONTROLS, "SAVE_VMX_PREEMPTION_TIMER_VALUE (bit 22) is 1, so "
		    "ACTIVATE_VMX_PREEMPTION_TIMER (bit 6) of PIN_BASED_VM_EXEC_CONTROL must be 1");
}

static void test_an_msr_store_area_ending_beyond_the_physical_width_is_named(void **state)
{
	(void)state;
	set(VM_EXIT_MSR_STORE_COUNT, 2);
	set(VM_EXIT_MSR_STORE_ADDRESS, (1ull << 39) - 16);
	EXPECT_ONLY(VM_EXIT_MSR_STORE_ADDRESS, "the last byte of its 2 entries (0x800000000f)");
}

/* §27.2.1.3 VM-entry controls and event injection. */

static void test_an_unaligned_msr_load_area_is_named(void **state)
{
	(void)state;
	set(VM_ENTRY_MSR_LOAD_COUNT, 1);
	set(VM_ENTRY_MSR_LOAD_ADDRESS, 0x105008);
	EXPECT_ONLY(VM_ENTRY_MSR_LOAD_ADDRESS, "must be 16-byte aligned (bits 3:0 zero) while the count is 1");
}

static void test_an_injected_nmi_with_a_vector_other_than_2_is_named(void **state)
{
	(void)state;
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | (2 << 8) | 3);
	EXPECT_ONLY(VM_ENTRY_INTERRUPTION_INFO, "an NMI (type 2) must have vector 2");
}

static void test_an_injected_page_fault_without_its_error_code_is_named(void **state)
{
	(void)state;
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | (3 << 8) | 14);
	EXPECT_ONLY(VM_ENTRY_INTERRUPTION_INFO, "exception 14 pushes an error code, so bit 11");
}

static void test_an_error_code_on_an_exception_that_has_none_is_refused(void **state)
{
	(void)state;
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | (1 << 11) | (3 << 8) | 6);
	EXPECT_ONLY(VM_ENTRY_INTERRUPTION_INFO, "exception 6 pushes no error code (IA32_VMX_BASIC bit 56 is 0)");
}

static void test_a_real_mode_unrestricted_guest_gets_no_error_code(void **state)
{
	baseline_32bit_unrestricted(state);
	set(GUEST_CR0, 0x30);		/* PE clear: real mode */
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | (1 << 11) | (3 << 8) | 13);
	EXPECT_ONLY(VM_ENTRY_INTERRUPTION_INFO, "a real-mode guest (unrestricted, CR0.PE = 0) gets no error code");
}

static void test_a_software_interrupt_longer_than_15_bytes_is_refused(void **state)
{
	(void)state;
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | (4 << 8) | 0x80);
	set(VM_ENTRY_INSTRUCTION_LENGTH, 16);
	EXPECT_ONLY(VM_ENTRY_INSTRUCTION_LENGTH, "needs a length of 0-15");
}

static void test_other_event_injection_needs_a_cpu_with_the_monitor_trap_flag(void **state)
{
	(void)state;
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | (7 << 8));
	EXPECT_ONLY(VM_ENTRY_INTERRUPTION_INFO, "type 7 (other event) is reserved where MONITOR_TRAP_FLAG cannot be 1");
}

static void test_entry_to_smm_is_refused_outside_smm(void **state)
{
	(void)state;
	or_bits(VM_ENTRY_CONTROLS, VMX_ENTRY_ENTRY_TO_SMM);
	EXPECT_ONLY(VM_ENTRY_CONTROLS, "ENTRY_TO_SMM (bit 10) must be 0");
}

/* §27.2.2-27.2.4 host state. */

static void test_a_host_cr0_without_paging_is_named_with_the_fixed0_msr(void **state)
{
	(void)state;
	clear_bits(HOST_CR0, 1ull << 31);
	EXPECT_ONLY(HOST_CR0, "bit 31 (PG) must be 1 (IA32_VMX_CR0_FIXED0) — SDM 27.2.2");
}

static void test_a_host_cr4_bit_the_cpu_cannot_set_is_named_with_the_fixed1_msr(void **state)
{
	(void)state;
	or_bits(HOST_CR4, 1ull << 12);		/* LA57: not on this CPU */
	EXPECT_ONLY(HOST_CR4, "bit 12 (LA57) must be 0 (IA32_VMX_CR4_FIXED1)");
}

static void test_a_host_selector_with_an_rpl_is_named(void **state)
{
	(void)state;
	set(HOST_DS_SELECTOR, 0x13);
	EXPECT_ONLY(HOST_DS_SELECTOR, "RPL (bits 1:0) and TI (bit 2) must be 0 — SDM 27.2.3");
}

static void test_a_null_host_tr_selector_is_refused(void **state)
{
	(void)state;
	set(HOST_TR_SELECTOR, 0);
	EXPECT_ONLY(HOST_TR_SELECTOR, "must not be the null selector");
}

static void test_a_non_canonical_host_gs_base_is_named(void **state)
{
	(void)state;
	set(HOST_GS_BASE, 0x0000800000000000ull);
	EXPECT_ONLY(HOST_GS_BASE, "must be a canonical address (bits 63:47 all equal)");
}

static void test_a_host_pat_with_a_reserved_memory_type_is_named(void **state)
{
	(void)state;
	or_bits(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_LOAD_IA32_PAT);
	set(HOST_IA32_PAT, 0x0007040600070402ull);
	EXPECT_ONLY(HOST_IA32_PAT, "PA0 is 0x02, not a memory type");
}

static void test_a_host_efer_without_lma_disagrees_with_a_64bit_host(void **state)
{
	(void)state;
	set(HOST_IA32_EFER, 0x100);		/* LME only */
	EXPECT_ONLY(HOST_IA32_EFER, "LMA (bit 10) must equal HOST_ADDRESS_SPACE_SIZE (1)");
}

static void test_a_32bit_host_is_refused_because_the_vmm_runs_in_ia32e_mode(void **state)
{
	(void)state;
	clear_bits(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE);
	EXPECT(PRIMARY_VM_EXIT_CONTROLS, "HOST_ADDRESS_SPACE_SIZE (bit 9) must be 1: the VMM runs in IA-32e mode");
	EXPECT(VM_ENTRY_CONTROLS, "IA32E_MODE_GUEST (bit 9) must be 0 while HOST_ADDRESS_SPACE_SIZE is 0");
}

static void test_a_64bit_host_without_pae_is_refused(void **state)
{
	(void)state;
	clear_bits(HOST_CR4, 1ull << 5);
	expect(true, HOST_CR4, "PAE (bit 5) must be 1 for a 64-bit host", "— SDM 27.2.4");
}

/* §27.3.1.1 guest control registers and MSRs. */

static void test_guest_cr0_paging_without_protection_is_refused(void **state)
{
	baseline_32bit_unrestricted(state);
	set(GUEST_CR0, 0x80000030);		/* PG NE ET, no PE */
	EXPECT_ONLY(GUEST_CR0, "PG (bit 31) needs PE (bit 0)");
}

static void test_a_restricted_guest_must_keep_cr0_pe_set(void **state)
{
	(void)state;
	clear_bits(GUEST_CR0, 1);
	EXPECT(GUEST_CR0, "bit 0 (PE) must be 1 (IA32_VMX_CR0_FIXED0) — SDM 27.3.1.1");
}

static void test_pcide_in_a_32bit_guest_is_refused(void **state)
{
	baseline_32bit_unrestricted(state);
	or_bits(GUEST_CR4, 1ull << 17);
	EXPECT_ONLY(GUEST_CR4, "PCIDE (bit 17) must be 0 unless IA32E_MODE_GUEST is 1");
}

static void test_guest_efer_lma_must_match_ia32e_mode(void **state)
{
	(void)state;
	set(GUEST_IA32_EFER, 0x100);
	EXPECT_ONLY(GUEST_IA32_EFER, "LMA (bit 10) must equal IA32E_MODE_GUEST (1)");
}

static void test_guest_dr7_high_bits_are_refused_when_debug_controls_load(void **state)
{
	(void)state;
	or_bits(VM_ENTRY_CONTROLS, VMX_ENTRY_LOAD_DEBUG_CONTROLS);
	set(GUEST_DR7, 0x100000400ull);
	EXPECT_ONLY(GUEST_DR7, "bits 63:32 must be 0");
}

/* §27.3.1.2 guest segment registers. */

static void test_cs_that_is_not_a_code_segment_is_named(void **state)
{
	(void)state;
	set(GUEST_CS_ACCESS_RIGHTS, 0xc093);
	EXPECT_ONLY(GUEST_CS_ACCESS_RIGHTS, "CS must be an accessed code segment (type 9, 11, 13 or 15)");
	assert_non_null(strstr(found[0].message, "GUEST_CS_ACCESS_RIGHTS (0x0000c093): "));
}

static void test_a_data_segment_cs_is_fine_for_an_unrestricted_guest(void **state)
{
	baseline_32bit_unrestricted(state);
	set(GUEST_CS_ACCESS_RIGHTS, 0xc093);
	assert_int_equal(run(), 0);
}

static void test_ss_rpl_different_from_cs_rpl_is_named(void **state)
{
	(void)state;
	set(GUEST_SS_SELECTOR, 0x13);
	EXPECT(GUEST_SS_SELECTOR, "RPL (3) must equal the RPL of GUEST_CS_SELECTOR (0)");
	EXPECT(GUEST_SS_ACCESS_RIGHTS, "SS.DPL (0) must equal the RPL of GUEST_SS_SELECTOR (3)");
}

static void test_non_conforming_cs_dpl_must_equal_ss_dpl(void **state)
{
	baseline_32bit_unrestricted(state);
	set(GUEST_SS_ACCESS_RIGHTS, 0xc0b3);	/* DPL 1 */
	EXPECT_ONLY(GUEST_CS_ACCESS_RIGHTS, "its DPL (0) must equal SS.DPL (1)");
}

static void test_a_limit_with_a_zero_in_its_low_12_bits_needs_g_clear(void **state)
{
	(void)state;
	set(GUEST_DS_LIMIT, 0xffffe);
	EXPECT_ONLY(GUEST_DS_ACCESS_RIGHTS, "DS.G (bit 15) must be 0: its limit 0x000ffffe has a 0 in bits 11:0");
}

static void test_an_unusable_tr_is_refused(void **state)
{
	(void)state;
	or_bits(GUEST_TR_ACCESS_RIGHTS, 1ull << 16);
	EXPECT_ONLY(GUEST_TR_ACCESS_RIGHTS, "TR must be usable");
}

static void test_a_16bit_tss_in_a_64bit_guest_is_refused(void **state)
{
	(void)state;
	set(GUEST_TR_ACCESS_RIGHTS, 0x83);
	EXPECT_ONLY(GUEST_TR_ACCESS_RIGHTS, "TR must be a busy 64-bit TSS (type 11)");
}

static void test_a_usable_ldtr_must_hold_an_ldt(void **state)
{
	(void)state;
	SEGMENT(LDTR, 0x20, 0x6000, 0xff, 0x89);
	EXPECT_ONLY(GUEST_LDTR_ACCESS_RIGHTS, "LDTR must be an LDT (type 2)");
}

static void test_a_non_canonical_fs_base_is_named(void **state)
{
	(void)state;
	set(GUEST_FS_BASE, 0x1234000000000000ull);
	EXPECT_ONLY(GUEST_FS_BASE, "must be a canonical address");
}

/* A virtual-8086 guest: every segment as real mode would make it. */
static void enter_v86(void)
{
	static const uint32_t regs[][4] = {
		{ GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_ACCESS_RIGHTS },
		{ GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_ACCESS_RIGHTS },
		{ GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_ACCESS_RIGHTS },
		{ GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_ACCESS_RIGHTS },
		{ GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_ACCESS_RIGHTS },
		{ GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_ACCESS_RIGHTS },
	};
	for (unsigned i = 0; i < 6; i++)
		set_segment(regs[i][0], regs[i][1], regs[i][2], regs[i][3], 0x1000 + i, (0x1000 + i) << 4,
			    0xffff, 0xf3);
	set(GUEST_RFLAGS, 0x20002);
}

static void test_a_valid_virtual_8086_guest_breaks_no_rule(void **state)
{
	baseline_32bit_unrestricted(state);
	enter_v86();
	int n = run();
	print_all(n);
	assert_int_equal(n, 0);
}

static void test_a_virtual_8086_segment_needs_access_rights_f3(void **state)
{
	baseline_32bit_unrestricted(state);
	enter_v86();
	set(GUEST_DS_ACCESS_RIGHTS, 0x93);
	EXPECT_ONLY(GUEST_DS_ACCESS_RIGHTS, "DS of a virtual-8086 guest must be 0x000000f3");
}

static void test_a_virtual_8086_base_must_be_the_selector_times_16(void **state)
{
	baseline_32bit_unrestricted(state);
	enter_v86();
	set(GUEST_SS_BASE, 0x10000);
	EXPECT_ONLY(GUEST_SS_BASE, "SS base must be its selector times 16 (0x10020)");
}

/* §27.3.1.3-27.3.1.4 descriptor tables, RIP and RFLAGS. */

static void test_a_gdtr_limit_wider_than_16_bits_is_named(void **state)
{
	(void)state;
	set(GUEST_GDTR_LIMIT, 0x10000);
	expect(true, GUEST_GDTR_LIMIT, "bits 31:16 must be 0", "— SDM 27.3.1.3");
}

static void test_a_32bit_guest_rip_above_4g_is_named(void **state)
{
	baseline_32bit_unrestricted(state);
	set(GUEST_RIP, 0x100000000ull);
	EXPECT_ONLY(GUEST_RIP, "bits 63:32 must be 0 outside 64-bit mode (IA32E_MODE_GUEST 0, CS.L 0)");
}

static void test_a_64bit_rip_only_needs_bits_63_to_48_equal(void **state)
{
	(void)state;
	set(GUEST_RIP, 0x0000800000000000ull);	/* bit 47 alone: VM entry lets it through */
	assert_int_equal(run(), 0);
	set(GUEST_RIP, 0x0001000000000000ull);
	EXPECT_ONLY(GUEST_RIP, "bits 63:48 must all be equal in 64-bit mode");
}

static void test_rflags_with_bit_1_clear_is_named(void **state)
{
	(void)state;
	set(GUEST_RFLAGS, 0);
	EXPECT_ONLY(GUEST_RFLAGS, "bit 1 is reserved and must be 1");
}

static void test_rflags_vm_in_an_ia32e_guest_is_refused(void **state)
{
	(void)state;
	set(GUEST_RFLAGS, 0x20002);
	EXPECT(GUEST_RFLAGS, "VM (bit 17) must be 0 for an IA-32e mode guest");
}

static void test_injecting_an_interrupt_with_if_clear_is_refused(void **state)
{
	(void)state;
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | 0x20);
	EXPECT_ONLY(GUEST_RFLAGS, "IF (bit 9) must be 1 to inject an external interrupt");
}

/* §27.3.1.5 non-register state. */

static void test_an_activity_state_past_wait_for_sipi_is_named(void **state)
{
	(void)state;
	set(GUEST_ACTIVITY_STATE, 4);
	EXPECT_ONLY(GUEST_ACTIVITY_STATE, "must be 0 (active), 1 (HLT), 2 (shutdown) or 3 (wait-for-SIPI)");
}

static void test_hlt_needs_ss_dpl_0(void **state)
{
	baseline_32bit_unrestricted(state);
	set(GUEST_CS_ACCESS_RIGHTS, 0xc09f);	/* conforming: DPL 0 may sit below SS.DPL */
	set(GUEST_SS_ACCESS_RIGHTS, 0xc0f3);	/* DPL 3 */
	set(GUEST_ACTIVITY_STATE, 1);
	EXPECT_ONLY(GUEST_ACTIVITY_STATE, "HLT needs SS.DPL = 0 (it is 3)");
}

static void test_a_shutdown_guest_cannot_take_an_external_interrupt(void **state)
{
	(void)state;
	set(GUEST_RFLAGS, 0x202);
	set(GUEST_ACTIVITY_STATE, 2);
	set(VM_ENTRY_INTERRUPTION_INFO, 0x80000000 | 0x20);
	EXPECT_ONLY(GUEST_ACTIVITY_STATE, "a shutdown processor cannot take the injected event (type 0, vector 32)");
}

static void test_blocking_by_sti_with_if_clear_is_refused(void **state)
{
	(void)state;
	set(GUEST_INTERRUPTIBILITY_STATE, 1);
	EXPECT_ONLY(GUEST_INTERRUPTIBILITY_STATE, "blocking by STI (bit 0) needs RFLAGS.IF = 1");
}

static void test_blocking_by_both_sti_and_mov_ss_is_refused(void **state)
{
	(void)state;
	set(GUEST_RFLAGS, 0x202);
	set(GUEST_INTERRUPTIBILITY_STATE, 3);
	EXPECT_ONLY(GUEST_INTERRUPTIBILITY_STATE, "cannot show blocking by both STI (bit 0) and MOV SS (bit 1)");
}

static void test_a_held_back_single_step_needs_bs_in_pending_debug_exceptions(void **state)
{
	(void)state;
	set(GUEST_RFLAGS, 0x302);		/* TF IF */
	set(GUEST_INTERRUPTIBILITY_STATE, 1);
	EXPECT_ONLY(GUEST_PENDING_DEBUG_EXCEPTIONS, "BS (bit 14) must be 1");
	set(GUEST_PENDING_DEBUG_EXCEPTIONS, 1ull << 14);
	assert_int_equal(run(), 0);
}

static void test_reserved_pending_debug_exception_bits_are_named(void **state)
{
	(void)state;
	set(GUEST_PENDING_DEBUG_EXCEPTIONS, 0x10);
	EXPECT_ONLY(GUEST_PENDING_DEBUG_EXCEPTIONS, "reserved bits 11:4, 13, 15 and 63:17 must be 0");
}

static void test_an_unaligned_vmcs_link_pointer_points_at_exit_qualification_4(void **state)
{
	(void)state;
	set(VMCS_LINK_POINTER, 0x1234);
	EXPECT_ONLY(VMCS_LINK_POINTER, "(exit qualification 4)");
}

/* §27.3.1.6 PDPTEs, under PAE paging with EPT. */

static void test_a_present_pdpte_with_reserved_bits_points_at_exit_qualification_2(void **state)
{
	baseline_32bit_unrestricted(state);
	set(GUEST_CR0, 0x80000031);
	set(GUEST_CR4, 0x2020);
	set(GUEST_PDPTE0, 0x7001);
	set(GUEST_PDPTE1, 0x8003);		/* bit 1 is reserved in a PDPTE */
	set(GUEST_PDPTE2, 0);
	set(GUEST_PDPTE3, 0);
	EXPECT_ONLY(GUEST_PDPTE1, "reserved bits 2:1 and 8:5 clear (exit qualification 2)");
}

/* The report's bookkeeping. */

static void test_the_total_counts_violations_past_the_buffer(void **state)
{
	(void)state;
	struct entry_violation one[1];
	set(PIN_BASED_VM_EXEC_CONTROL, 0);
	assert_int_equal(entry_check_controls(&reader, &skylake_x, one, 1), 3);
	assert_non_null(strstr(one[0].message, "bit 1 must be 1"));
	assert_int_equal(entry_check_controls(&reader, &skylake_x, NULL, 0), 3);
}

static void test_each_group_reports_only_its_own_rules(void **state)
{
	(void)state;
	set(PIN_BASED_VM_EXEC_CONTROL, 0);
	set(HOST_TR_SELECTOR, 0);
	set(GUEST_GDTR_LIMIT, 0x10000);
	assert_int_equal(entry_check_controls(&reader, &skylake_x, found, MAX_FOUND), 3);
	assert_int_equal(entry_check_host_state(&reader, &skylake_x, found, MAX_FOUND), 1);
	assert_int_equal(found[0].field, HOST_TR_SELECTOR);
	assert_int_equal(entry_check_guest_state(&reader, &skylake_x, found, MAX_FOUND), 1);
	assert_int_equal(found[0].field, GUEST_GDTR_LIMIT);
	assert_int_equal(entry_check_all(&reader, &skylake_x, found, MAX_FOUND), 5);
}

/* §27.4 MSR-load entries, for exit reason 34. */

static void test_msr_load_entries_name_the_rule_they_break(void **state)
{
	(void)state;
	assert_non_null(strstr(entry_check_msr_load_entry(0xc0000100u), "IA32_FS_BASE"));
	assert_non_null(strstr(entry_check_msr_load_entry(0x100000174ull), "bits 63:32"));
	assert_non_null(strstr(entry_check_msr_load_entry(0x808), "x2APIC"));
	assert_non_null(strstr(entry_check_msr_load_entry(0x9b), "only in SMM"));
	assert_null(entry_check_msr_load_entry(0x174));
}

#define T64(name) cmocka_unit_test_setup(name, baseline_64bit)
#define T32(name) cmocka_unit_test_setup(name, baseline_32bit_unrestricted)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T64(test_a_valid_64bit_guest_breaks_no_rule),
		T32(test_a_valid_32bit_unrestricted_guest_breaks_no_rule),
		T64(test_a_pin_based_default1_bit_left_clear_is_named_with_its_msr),
		T64(test_a_secondary_control_the_cpu_lacks_is_named),
		T64(test_more_cr3_targets_than_the_cpu_has_are_refused),
		T64(test_an_unaligned_io_bitmap_is_named),
		T64(test_an_msr_bitmap_beyond_the_physical_width_is_named),
		T64(test_virtual_nmis_without_nmi_exiting_are_refused),
		T64(test_nmi_window_exiting_without_virtual_nmis_is_refused),
		T64(test_x2apic_virtualization_without_a_tpr_shadow_is_refused),
		T64(test_vpid_zero_is_refused_and_named_by_its_encoding_zero),
		T64(test_an_eptp_memory_type_the_cpu_lacks_is_named),
		T64(test_a_five_level_ept_walk_is_refused_without_the_capability),
		T32(test_an_unrestricted_guest_without_ept_is_refused),
		T64(test_saving_the_preemption_timer_without_the_timer_is_refused),
		T64(test_an_msr_store_area_ending_beyond_the_physical_width_is_named),
		T64(test_an_unaligned_msr_load_area_is_named),
		T64(test_an_injected_nmi_with_a_vector_other_than_2_is_named),
		T64(test_an_injected_page_fault_without_its_error_code_is_named),
		T64(test_an_error_code_on_an_exception_that_has_none_is_refused),
		T64(test_a_real_mode_unrestricted_guest_gets_no_error_code),
		T64(test_a_software_interrupt_longer_than_15_bytes_is_refused),
		T64(test_other_event_injection_needs_a_cpu_with_the_monitor_trap_flag),
		T64(test_entry_to_smm_is_refused_outside_smm),
		T64(test_a_host_cr0_without_paging_is_named_with_the_fixed0_msr),
		T64(test_a_host_cr4_bit_the_cpu_cannot_set_is_named_with_the_fixed1_msr),
		T64(test_a_host_selector_with_an_rpl_is_named),
		T64(test_a_null_host_tr_selector_is_refused),
		T64(test_a_non_canonical_host_gs_base_is_named),
		T64(test_a_host_pat_with_a_reserved_memory_type_is_named),
		T64(test_a_host_efer_without_lma_disagrees_with_a_64bit_host),
		T64(test_a_32bit_host_is_refused_because_the_vmm_runs_in_ia32e_mode),
		T64(test_a_64bit_host_without_pae_is_refused),
		T64(test_guest_cr0_paging_without_protection_is_refused),
		T64(test_a_restricted_guest_must_keep_cr0_pe_set),
		T64(test_pcide_in_a_32bit_guest_is_refused),
		T64(test_guest_efer_lma_must_match_ia32e_mode),
		T64(test_guest_dr7_high_bits_are_refused_when_debug_controls_load),
		T64(test_cs_that_is_not_a_code_segment_is_named),
		T64(test_a_data_segment_cs_is_fine_for_an_unrestricted_guest),
		T64(test_ss_rpl_different_from_cs_rpl_is_named),
		T64(test_non_conforming_cs_dpl_must_equal_ss_dpl),
		T64(test_a_limit_with_a_zero_in_its_low_12_bits_needs_g_clear),
		T64(test_an_unusable_tr_is_refused),
		T64(test_a_16bit_tss_in_a_64bit_guest_is_refused),
		T64(test_a_usable_ldtr_must_hold_an_ldt),
		T64(test_a_non_canonical_fs_base_is_named),
		T64(test_a_valid_virtual_8086_guest_breaks_no_rule),
		T64(test_a_virtual_8086_segment_needs_access_rights_f3),
		T64(test_a_virtual_8086_base_must_be_the_selector_times_16),
		T64(test_a_gdtr_limit_wider_than_16_bits_is_named),
		T64(test_a_32bit_guest_rip_above_4g_is_named),
		T64(test_a_64bit_rip_only_needs_bits_63_to_48_equal),
		T64(test_rflags_with_bit_1_clear_is_named),
		T64(test_rflags_vm_in_an_ia32e_guest_is_refused),
		T64(test_injecting_an_interrupt_with_if_clear_is_refused),
		T64(test_an_activity_state_past_wait_for_sipi_is_named),
		T64(test_hlt_needs_ss_dpl_0),
		T64(test_a_shutdown_guest_cannot_take_an_external_interrupt),
		T64(test_blocking_by_sti_with_if_clear_is_refused),
		T64(test_blocking_by_both_sti_and_mov_ss_is_refused),
		T64(test_a_held_back_single_step_needs_bs_in_pending_debug_exceptions),
		T64(test_reserved_pending_debug_exception_bits_are_named),
		T64(test_an_unaligned_vmcs_link_pointer_points_at_exit_qualification_4),
		T64(test_a_present_pdpte_with_reserved_bits_points_at_exit_qualification_2),
		T64(test_the_total_counts_violations_past_the_buffer),
		T64(test_each_group_reports_only_its_own_rules),
		T64(test_msr_load_entries_name_the_rule_they_break),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
