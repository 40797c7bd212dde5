/* The VMCS write policy: the writes of issue 10 that opened the debug UART,
 * pointed MSR areas at the hypervisor, turned EPT off or killed the guest
 * are refused with a reason; the writable bits go through; guest state is
 * judged by the VM-entry checker on the VMCS as it would be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vmcs_write_policy.h"
#include "platform/errno.h"
#include "vmcs_fixture.h"

static char why[VMCS_POLICY_WHY_MAX];

static int write2(uint32_t f1, uint64_t v1, uint32_t f2, uint64_t v2, int n)
{
	struct vmcs_write w[2] = { { f1, v1 }, { f2, v2 } };
	why[0] = 0;
	return vmcs_policy_check(&reader, &skylake_x, w, n, why, sizeof(why));
}

static int write1(uint32_t field, uint64_t value)
{
	return write2(field, value, 0, 0, 1);
}

static void expect_refused(int rc, int want, const char *words)
{
	if (rc != want || !strstr(why, words))
		fail_msg("rc %d (want %d), why \"%s\" (want \"%s\")", rc, want, why, words);
}

static void expect_allowed(int rc)
{
	if (rc)
		fail_msg("refused (%d): %s", rc, why);
}

/* ---- issue 10's reproductions */

static void test_clearing_use_io_bitmaps_is_refused_naming_the_bit(void **state)
{
	(void)state;
	/* The value the issue wrote: USE_IO_BITMAPS (bit 25) cleared. */
	set(PRIMARY_VM_EXEC_CONTROL, 0x968061f2);
	expect_refused(write1(PRIMARY_VM_EXEC_CONTROL, 0x948061f2), -EPERM,
		       "PRIMARY_VM_EXEC_CONTROL bit 25 (USE_IO_BITMAPS) is vmxdbg's; only bits 2 "
		       "(INTERRUPT_WINDOW_EXITING), 3 (USE_TSC_OFFSETTING), 7 (HLT_EXITING), 22 (NMI_WINDOW_EXITING) "
		       "may change");
	/* And as main had it: MOV-DR exiting off too. */
	set(PRIMARY_VM_EXEC_CONTROL, 0x960061f2);
	expect_refused(write1(PRIMARY_VM_EXEC_CONTROL, 0x948061f2), -EPERM,
		       "bits 23 (MOV_DR_EXITING), 25 (USE_IO_BITMAPS) are vmxdbg's");
}

static void test_msr_area_addresses_are_refused(void **state)
{
	(void)state;
	expect_refused(write1(VM_EXIT_MSR_STORE_ADDRESS, 0x8000000), -EPERM, "VM_EXIT_MSR_STORE_ADDRESS is an address");
	expect_refused(write1(VM_EXIT_MSR_LOAD_ADDRESS, 0x200000), -EPERM, "VM_EXIT_MSR_LOAD_ADDRESS is an address");
	expect_refused(write1(VM_ENTRY_MSR_LOAD_COUNT, 1), -EPERM, "size of an MSR area");
}

static void test_turning_ept_off_is_refused(void **state)
{
	(void)state;
	uint64_t proc2 = get(SECONDARY_VM_EXEC_CONTROL);
	expect_refused(write1(SECONDARY_VM_EXEC_CONTROL, proc2 & ~(uint64_t)VMX_PROC2_ENABLE_EPT), -EPERM,
		       "SECONDARY_VM_EXEC_CONTROL is one of vmxdbg's own controls");
}

static void test_an_unusable_cs_is_refused_with_the_rule_it_breaks(void **state)
{
	(void)state;
	expect_refused(write1(GUEST_CS_ACCESS_RIGHTS, 0), -EINVAL,
		       "VM entry would fail: GUEST_CS_ACCESS_RIGHTS (0x00000000): ");
	assert_non_null(strstr(why, "SDM 27.3.1.2"));
}

static void test_an_error_code_for_a_breakpoint_is_refused(void **state)
{
	(void)state;
	/* inject.exception(3, 0): a hardware #BP delivering an error code. */
	expect_refused(write2(VM_ENTRY_INTERRUPTION_INFO, 0x80000b03, VM_ENTRY_EXCEPTION_ERROR_CODE, 0, 2),
		       -EINVAL, "exception 3 pushes no error code");
}

/* ---- fields vmxdbg keeps */

static void test_host_state_and_exit_information_are_refused(void **state)
{
	(void)state;
	expect_refused(write1(HOST_RIP, 0x1000), -EPERM, "HOST_RIP belongs to the hypervisor: host state");
	expect_refused(write1(VM_EXIT_REASON, 0), -EPERM, "read-only VM-exit information");
}

static void test_addresses_bitmaps_ept_and_vpid_are_refused(void **state)
{
	(void)state;
	static const uint32_t kept[] = { IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAP, EPT_POINTER, VIRTUAL_PROCESSOR_ID,
					 VMCS_LINK_POINTER, APIC_ACCESS_ADDRESS, PIN_BASED_VM_EXEC_CONTROL,
					 PRIMARY_VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS, CR3_TARGET_COUNT,
					 PAGE_FAULT_ERROR_CODE_MATCH,
					 VMX_PREEMPTION_TIMER_VALUE };
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		int rc = write1(kept[i], get(kept[i]) ^ 1);
		if (rc != -EPERM)
			fail_msg("field 0x%x: rc %d, why \"%s\"", kept[i], rc, why);
	}
}

static void test_unrestricted_guest_and_exit_controls_cannot_change(void **state)
{
	(void)state;
	uint64_t proc = get(PRIMARY_VM_EXEC_CONTROL);
	expect_refused(write1(PRIMARY_VM_EXEC_CONTROL, proc & ~(uint64_t)VMX_PROC_USE_MSR_BITMAPS), -EPERM,
		       "bit 28 (USE_MSR_BITMAPS)");
	expect_refused(write1(PRIMARY_VM_EXEC_CONTROL, proc | VMX_PROC_RDTSC_EXITING), -EPERM,
		       "bit 12 (RDTSC_EXITING)");
}

static void test_the_debuggers_exceptions_and_page_faults_stay(void **state)
{
	(void)state;
	set(EXCEPTION_BITMAP, 1u << 3);
	expect_refused(write1(EXCEPTION_BITMAP, 0), -EPERM,
		       "EXCEPTION_BITMAP bit 3 is vmxdbg's; only the bits in 0xffffbff5 may change");
	expect_refused(write1(EXCEPTION_BITMAP, (1u << 3) | (1u << 1)), -EPERM, "bit 1 ");
	expect_refused(write1(EXCEPTION_BITMAP, (1u << 3) | (1u << 14)), -EPERM, "bit 14 ");
}

static void test_the_vmx_fixed_bits_of_the_cr_masks_stay(void **state)
{
	(void)state;
	set(CR0_GUEST_HOST_MASK, 0x20);		/* NE, fixed to 1 */
	set(CR4_GUEST_HOST_MASK, 0x2000);	/* VMXE */
	expect_refused(write1(CR0_GUEST_HOST_MASK, 0), -EPERM, "CR0_GUEST_HOST_MASK bit 5 is vmxdbg's");
	expect_refused(write1(CR4_GUEST_HOST_MASK, 0), -EPERM, "CR4_GUEST_HOST_MASK bit 13 is vmxdbg's");
}

static void test_shutdown_and_wait_for_sipi_are_refused(void **state)
{
	(void)state;
	expect_refused(write1(GUEST_ACTIVITY_STATE, 2), -EPERM, "could not break in");
	expect_refused(write1(GUEST_ACTIVITY_STATE, 3), -EPERM, "could not break in");
	expect_allowed(write1(GUEST_ACTIVITY_STATE, 1));
}

/* ---- what may be written */

static void test_the_writable_control_bits_go_through(void **state)
{
	(void)state;
	uint64_t proc = get(PRIMARY_VM_EXEC_CONTROL);
	expect_allowed(write1(PRIMARY_VM_EXEC_CONTROL, proc | VMX_PROC_INTERRUPT_WINDOW_EXITING));
	expect_allowed(write1(PRIMARY_VM_EXEC_CONTROL, proc & ~(uint64_t)VMX_PROC_HLT_EXITING));
	expect_allowed(write1(PRIMARY_VM_EXEC_CONTROL, proc | VMX_PROC_USE_TSC_OFFSETTING));
	expect_allowed(write1(TSC_OFFSET, 0xfffffff000000000ull));
	expect_allowed(write1(EXCEPTION_BITMAP, (1u << 6) | (1u << 13)));
	expect_allowed(write1(CR0_GUEST_HOST_MASK, 1u << 16));	/* WP */
	expect_allowed(write1(CR4_READ_SHADOW, 0x20));
}

static void test_a_writable_bit_that_breaks_a_control_rule_is_refused(void **state)
{
	(void)state;
	/* NMI-window exiting needs virtual NMIs (SDM 27.2.1.1). */
	uint64_t proc = get(PRIMARY_VM_EXEC_CONTROL);
	expect_refused(write1(PRIMARY_VM_EXEC_CONTROL, proc | VMX_PROC_NMI_WINDOW_EXITING), -EINVAL,
		       "VM entry would fail: PRIMARY_VM_EXEC_CONTROL");
	set(PIN_BASED_VM_EXEC_CONTROL, get(PIN_BASED_VM_EXEC_CONTROL) | VMX_PIN_VIRTUAL_NMIS);
	expect_allowed(write1(PRIMARY_VM_EXEC_CONTROL, proc | VMX_PROC_NMI_WINDOW_EXITING));
}

static void test_guest_state_the_checker_accepts_goes_through(void **state)
{
	(void)state;
	expect_allowed(write1(GUEST_RIP, 0x123456));
	expect_allowed(write1(GUEST_RFLAGS, 0x246));
	expect_refused(write1(GUEST_RIP, 0x0001000000000000ull), -EINVAL, "GUEST_RIP");
	expect_refused(write1(GUEST_RFLAGS, 0x20002), -EINVAL, "VM entry would fail");	/* virtual-8086 */
}

static void test_a_rule_broken_already_does_not_block_other_writes(void **state)
{
	(void)state;
	set(GUEST_TR_ACCESS_RIGHTS, 1u << 16);	/* selftest=vmentry's unusable TR */
	expect_allowed(write1(GUEST_RIP, 0x200000));
	expect_allowed(write1(GUEST_TR_ACCESS_RIGHTS, 0x8b));	/* the fix */
}

static void test_injections_follow_the_entry_rules(void **state)
{
	(void)state;
	/* #GP with its error code; #UD without: fine. */
	expect_allowed(write2(VM_ENTRY_INTERRUPTION_INFO, 0x80000b0d, VM_ENTRY_EXCEPTION_ERROR_CODE, 0, 2));
	expect_allowed(write1(VM_ENTRY_INTERRUPTION_INFO, 0x80000306));
	/* #GP without its error code. */
	expect_refused(write1(VM_ENTRY_INTERRUPTION_INFO, 0x8000030d), -EINVAL, "exception 13 pushes an error code");
	/* An NMI must be vector 2; a software interrupt needs a length 1-15. */
	expect_refused(write1(VM_ENTRY_INTERRUPTION_INFO, 0x80000203), -EINVAL, "must have vector 2");
	expect_refused(write2(VM_ENTRY_INTERRUPTION_INFO, 0x80000480, VM_ENTRY_INSTRUCTION_LENGTH, 0, 2),
		       -EINVAL, "1-15, in VM_ENTRY_INSTRUCTION_LENGTH (it is 0)");
	expect_refused(write2(VM_ENTRY_INTERRUPTION_INFO, 0x80000480, VM_ENTRY_INSTRUCTION_LENGTH, 16, 2),
		       -EINVAL, "(it is 16)");
	expect_allowed(write2(VM_ENTRY_INTERRUPTION_INFO, 0x80000480, VM_ENTRY_INSTRUCTION_LENGTH, 2, 2));
	/* Pending MTF (type 7) where the CPU has no MTF: Bochs would panic. */
	expect_refused(write1(VM_ENTRY_INTERRUPTION_INFO, 0x80000700), -EINVAL, "type 7");
	/* An error code for an external interrupt. */
	expect_refused(write1(VM_ENTRY_INTERRUPTION_INFO, 0x80000820), -EINVAL, "only hardware exceptions");
}

static void test_a_high_encoding_is_not_a_field_of_its_own(void **state)
{
	(void)state;
	expect_refused(write1(TSC_OFFSET | 1, 0), -EINVAL, "not the full encoding");
}

#define T(name) cmocka_unit_test_setup(name, baseline_64bit)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_clearing_use_io_bitmaps_is_refused_naming_the_bit),
		T(test_msr_area_addresses_are_refused),
		T(test_turning_ept_off_is_refused),
		T(test_an_unusable_cs_is_refused_with_the_rule_it_breaks),
		T(test_an_error_code_for_a_breakpoint_is_refused),
		T(test_host_state_and_exit_information_are_refused),
		T(test_addresses_bitmaps_ept_and_vpid_are_refused),
		T(test_unrestricted_guest_and_exit_controls_cannot_change),
		T(test_the_debuggers_exceptions_and_page_faults_stay),
		T(test_the_vmx_fixed_bits_of_the_cr_masks_stay),
		T(test_shutdown_and_wait_for_sipi_are_refused),
		T(test_the_writable_control_bits_go_through),
		T(test_a_writable_bit_that_breaks_a_control_rule_is_refused),
		T(test_guest_state_the_checker_accepts_goes_through),
		T(test_a_rule_broken_already_does_not_block_other_writes),
		T(test_injections_follow_the_entry_rules),
		T(test_a_high_encoding_is_not_a_field_of_its_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
