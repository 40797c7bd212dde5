/* test_vmcs_present.c — which VMCS fields a CPU has, from its capability
 * MSRs: a field whose enabling control the CPU cannot set is absent (a
 * VMREAD of it would set VM_INSTRUCTION_ERROR to 12), a field past
 * IA32_VMX_VMCS_ENUM's highest index too.  Bochs-like values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vmcs_present.h"
#include "hv/vmcs_table.h"

/* Allowed 1-settings in bits 63:32: Bochs' corei7_skylake_x shape, with
 * no posted interrupts, no PML, no tertiary or secondary exit controls. */
static struct vmx_caps_raw caps(void)
{
	return (struct vmx_caps_raw){
		.have = VMX_HAVE_BASIC | VMX_HAVE_PINBASED | VMX_HAVE_PROCBASED | VMX_HAVE_PROCBASED2 |
			VMX_HAVE_EXIT | VMX_HAVE_ENTRY | VMX_HAVE_VMCS_ENUM,
		.basic = 0x00d810000000002bull & ~(1ull << 55) & ~(1ull << 49),
		.pinbased = 0x0000007f00000016ull & ~(1ull << (32 + 7)),
		.procbased = 0xfff9fffe0401e172ull & ~(1ull << (32 + 17)),
		.procbased2 = 0x02177fff00000000ull & ~(1ull << (32 + 17)),
		.exit = 0x007fefff00036dffull,
		.entry = 0x0000ffff000011ffull,
		.vmcs_enum = 0x2e << 1,
	};
}

static void test_fields_without_a_control_are_always_present(void **state)
{
	(void)state;
	struct vmx_caps_raw c = caps();
	assert_true(vmcs_field_present(&c, GUEST_RIP));
	assert_true(vmcs_field_present(&c, VM_INSTRUCTION_ERROR));
	assert_true(vmcs_field_present(&c, PRIMARY_VM_EXEC_CONTROL));
	assert_true(vmcs_field_present(&c, EXIT_QUALIFICATION));
}

static void test_a_field_follows_its_enabling_control(void **state)
{
	(void)state;
	struct vmx_caps_raw c = caps();
	assert_true(vmcs_field_present(&c, EPT_POINTER));
	assert_true(vmcs_field_present(&c, VIRTUAL_PROCESSOR_ID));
	assert_true(vmcs_field_present(&c, VMX_PREEMPTION_TIMER_VALUE));
	assert_false(vmcs_field_present(&c, POSTED_INTERRUPT_DESCRIPTOR_ADDRESS));
	assert_false(vmcs_field_present(&c, PML_ADDRESS));
	assert_false(vmcs_field_present(&c, PML_INDEX));
	assert_false(vmcs_field_present(&c, TERTIARY_VM_EXEC_CONTROL));
	assert_false(vmcs_field_present(&c, SECONDARY_VM_EXIT_CONTROLS));
	assert_false(vmcs_field_present(&c, HOST_IA32_FRED_CONFIG));
	/* The dual-monitor treatment (IA32_VMX_BASIC[49]) brings the executive-VMCS pointer. */
	assert_false(vmcs_field_present(&c, EXECUTIVE_VMCS_POINTER));
	c.basic |= 1ull << 49;
	assert_true(vmcs_field_present(&c, EXECUTIVE_VMCS_POINTER));
}

static void test_no_secondary_controls_means_no_ept_fields(void **state)
{
	(void)state;
	struct vmx_caps_raw c = caps();
	c.procbased &= ~(1ull << 63);	/* ACTIVATE_SECONDARY_CONTROLS may not be 1 */
	assert_false(vmcs_field_present(&c, SECONDARY_VM_EXEC_CONTROL));
	assert_false(vmcs_field_present(&c, EPT_POINTER));
	assert_false(vmcs_field_present(&c, GUEST_PHYSICAL_ADDRESS));
	assert_false(vmx_control_available(&c, VMX_CTL_PROC2, VMX_PROC2_ENABLE_EPT));
	c.have &= ~VMX_HAVE_PROCBASED2;
	c.procbased |= 1ull << 63;
	assert_false(vmcs_field_present(&c, EPT_POINTER));
}

static void test_guest_msr_fields_exist_for_load_or_save(void **state)
{
	(void)state;
	struct vmx_caps_raw c = caps();
	assert_true(vmcs_field_present(&c, GUEST_IA32_EFER));
	c.entry &= ~(1ull << (32 + 15));	/* no load IA32_EFER */
	assert_true(vmcs_field_present(&c, GUEST_IA32_EFER));	/* save IA32_EFER still */
	c.exit &= ~(1ull << (32 + 20));
	assert_false(vmcs_field_present(&c, GUEST_IA32_EFER));
	assert_true(vmcs_field_present(&c, HOST_IA32_EFER));
	c.exit &= ~(1ull << (32 + 21));
	assert_false(vmcs_field_present(&c, HOST_IA32_EFER));
}

static void test_an_index_past_vmcs_enum_is_absent(void **state)
{
	(void)state;
	struct vmx_caps_raw c = caps();
	c.vmcs_enum = 15 << 1;	/* highest index 15 */
	assert_true(vmcs_field_present(&c, GUEST_RIP));		/* index 15 */
	assert_false(vmcs_field_present(&c, GUEST_RFLAGS));	/* index 16 */
	assert_false(vmcs_field_present(&c, GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR));
	c.have &= ~VMX_HAVE_VMCS_ENUM;	/* unknown: the index rule does not apply */
	assert_true(vmcs_field_present(&c, GUEST_RFLAGS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_without_a_control_are_always_present),
		cmocka_unit_test(test_a_field_follows_its_enabling_control),
		cmocka_unit_test(test_no_secondary_controls_means_no_ept_fields),
		cmocka_unit_test(test_guest_msr_fields_exist_for_load_or_save),
		cmocka_unit_test(test_an_index_past_vmcs_enum_is_absent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
