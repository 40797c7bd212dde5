/* test_vmx_caps.c — the control-adjust rule, the TRUE-MSR choice and the
 * decoded capability report, on Bochs' corei7_skylake_x values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vmx_caps.h"

/* Read from Bochs 2.7, cpu model corei7_skylake_x (docs/platform-notes.md). */
#define SKX_BASIC            0x00d810000000002bull
#define SKX_PROCBASED2       0x02177fff00000000ull
#define SKX_EPT_VPID_CAP     0x00000f0106334141ull
#define SKX_MISC             0x00000000600401e0ull
#define SKX_FEATURE_CONTROL  0x5ull

/* Values of the usual shape for the MSRs the notes do not record. */
static struct vmx_caps_raw skylake_x(void)
{
	return (struct vmx_caps_raw){
		.cpuid1_ecx = 1u << 5,
		.have = VMX_HAVE_FEATURE_CONTROL | VMX_HAVE_BASIC | VMX_HAVE_PINBASED |
			VMX_HAVE_PROCBASED | VMX_HAVE_PROCBASED2 | VMX_HAVE_EXIT | VMX_HAVE_ENTRY |
			VMX_HAVE_TRUE_PINBASED | VMX_HAVE_TRUE_PROCBASED | VMX_HAVE_TRUE_EXIT |
			VMX_HAVE_TRUE_ENTRY | VMX_HAVE_MISC | VMX_HAVE_CR_FIXED | VMX_HAVE_VMCS_ENUM |
			VMX_HAVE_EPT_VPID_CAP | VMX_HAVE_VMFUNC,
		.feature_control = SKX_FEATURE_CONTROL,
		.basic = SKX_BASIC,
		.pinbased = 0x0000007f00000016ull,
		.true_pinbased = 0x0000007f00000016ull,
		.procbased = 0xfff9fffe0401e172ull,
		.true_procbased = 0xfff9fffe04006172ull,
		.procbased2 = SKX_PROCBASED2,
		.exit = 0x007fefff00036dffull,
		.true_exit = 0x007fefff00036dfbull,
		.entry = 0x0000ffff000011ffull,
		.true_entry = 0x0000ffff000011fbull,
		.misc = SKX_MISC,
		.cr0_fixed0 = 0x80000021ull,
		.cr0_fixed1 = 0xffffffffull,
		.cr4_fixed0 = 0x2000ull,
		.cr4_fixed1 = 0x3727ffull,
		.vmcs_enum = 0x2eull,
		.ept_vpid_cap = SKX_EPT_VPID_CAP,
		.vmfunc = 0x1ull,
	};
}

#define MAX_LINES 200

static struct {
	size_t n;
	char line[MAX_LINES][VMX_CAPS_LINE_MAX];
} got;

static void collect(void *ctx, const char *line)
{
	(void)ctx;
	assert_true(got.n < MAX_LINES);
	assert_true(strlen(line) < VMX_CAPS_LINE_MAX);
	strcpy(got.line[got.n++], line);
}

static void report(const struct vmx_caps_raw *caps)
{
	got.n = 0;
	vmx_caps_report(caps, collect, NULL);
}

static bool has_line(const char *want)
{
	for (size_t i = 0; i < got.n; i++)
		if (strcmp(got.line[i], want) == 0)
			return true;
	return false;
}

static bool mentions(const char *part)
{
	for (size_t i = 0; i < got.n; i++)
		if (strstr(got.line[i], part))
			return true;
	return false;
}

static void expect_line(const char *want)
{
	if (!has_line(want)) {
		for (size_t i = 0; i < got.n; i++)
			print_message("%s\n", got.line[i]);
		fail_msg("no report line \"%s\"", want);
	}
}

static void test_adjust_sets_must_be_one_bits_even_when_not_wanted(void **state)
{
	(void)state;
	uint32_t out;
	assert_int_equal(vmx_adjust_controls(0x0000007f00000016ull, 0, 0, &out, NULL), 0);
	assert_int_equal(out, 0x16);
}

static void test_adjust_drops_wanted_bits_that_may_not_be_one(void **state)
{
	(void)state;
	uint32_t out, missing = 0xdead;
	/* bit 7 (posted interrupts) may be 1; bit 8 and up are reserved at 0 */
	int rc = vmx_adjust_controls(0x000000ff00000016ull, 0x00000380u, 0, &out, &missing);
	assert_int_equal(rc, 0);
	assert_int_equal(out, 0x96);
	assert_int_equal(missing, 0);
}

static void test_adjust_fails_when_a_required_bit_is_not_allowed(void **state)
{
	(void)state;
	uint32_t out, missing;
	uint32_t want = VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_ENCLS_EXITING;
	int rc = vmx_adjust_controls(SKX_PROCBASED2, want, want, &out, &missing);
	assert_true(rc < 0);
	assert_int_equal(rc, -VMX_EOPNOTSUPP);
	assert_int_equal(missing, VMX_PROC2_ENABLE_ENCLS_EXITING);
	assert_int_equal(out, VMX_PROC2_ENABLE_EPT);
}

static void test_adjust_keeps_every_required_bit_that_is_allowed(void **state)
{
	(void)state;
	uint32_t out;
	uint32_t need = VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID | VMX_PROC2_UNRESTRICTED_GUEST;
	uint32_t nice = VMX_PROC2_ENABLE_RDTSCP | VMX_PROC2_ENABLE_XSAVES_XRSTORS | VMX_PROC2_ENABLE_PML;
	assert_int_equal(vmx_adjust_controls(SKX_PROCBASED2, nice, need, &out, NULL), 0);
	assert_int_equal(out, need | nice);
}

static void test_adjust64_keeps_allowed_bits_and_names_the_missing_required_ones(void **state)
{
	(void)state;
	uint64_t out, missing;
	uint64_t allowed = VMX_PROC3_IPI_VIRTUALIZATION;
	int rc = vmx_adjust_controls64(allowed, VMX_PROC3_LOADIWKEY_EXITING,
				       VMX_PROC3_IPI_VIRTUALIZATION, &out, &missing);
	assert_int_equal(rc, 0);
	assert_int_equal(out, VMX_PROC3_IPI_VIRTUALIZATION);
	assert_int_equal(missing, 0);
	rc = vmx_adjust_controls64(allowed, 0, VMX_PROC3_ENABLE_HLAT, &out, &missing);
	assert_int_equal(rc, -VMX_EOPNOTSUPP);
	assert_int_equal(missing, VMX_PROC3_ENABLE_HLAT);
}

static void test_control_msr_is_the_true_msr_when_basic_bit_55_is_set(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	uint32_t msr;
	uint64_t v;
	assert_true(vmx_caps_control_msr(&c, VMX_CTL_PROC, &msr, &v));
	assert_int_equal(msr, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	assert_int_equal(v, c.true_procbased);
	assert_true(vmx_caps_control_msr(&c, VMX_CTL_ENTRY, &msr, &v));
	assert_int_equal(msr, 0x490);
}

static void test_control_msr_is_the_legacy_msr_when_basic_bit_55_is_clear(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	uint32_t msr;
	uint64_t v;
	c.basic &= ~VMX_BASIC_TRUE_CTLS;
	assert_true(vmx_caps_control_msr(&c, VMX_CTL_PIN, &msr, &v));
	assert_int_equal(msr, MSR_IA32_VMX_PINBASED_CTLS);
	assert_int_equal(v, c.pinbased);
	assert_true(vmx_caps_control_msr(&c, VMX_CTL_EXIT, &msr, &v));
	assert_int_equal(msr, 0x483);
	assert_int_equal(v, c.exit);
}

static void test_secondary_controls_are_unavailable_unless_their_msr_was_read(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	uint32_t msr;
	uint64_t v;
	assert_true(vmx_caps_control_msr(&c, VMX_CTL_PROC2, &msr, &v));
	assert_int_equal(msr, MSR_IA32_VMX_PROCBASED_CTLS2);
	assert_int_equal(v, SKX_PROCBASED2);
	assert_false(vmx_caps_control_msr(&c, VMX_CTL_PROC3, &msr, &v));
	assert_false(vmx_caps_control_msr(&c, VMX_CTL_EXIT2, &msr, &v));
	c.have &= ~VMX_HAVE_PROCBASED2;
	assert_false(vmx_caps_control_msr(&c, VMX_CTL_PROC2, &msr, &v));
	assert_false(vmx_caps_control_msr(&c, VMX_CTL_GROUPS, &msr, &v));
}

static void test_control_and_msr_names_come_from_the_tables(void **state)
{
	(void)state;
	assert_string_equal(vmx_control_name(VMX_CTL_PROC2, 1), "ENABLE_EPT");
	assert_string_equal(vmx_control_name(VMX_CTL_PROC, 31), "ACTIVATE_SECONDARY_CONTROLS");
	assert_string_equal(vmx_control_name(VMX_CTL_ENTRY, 9), "IA32E_MODE_GUEST");
	assert_null(vmx_control_name(VMX_CTL_PIN, 1));
	assert_int_equal(VMX_PROC2_ENABLE_EPT, 1u << 1);
	assert_int_equal(VMX_PROC_ACTIVATE_SECONDARY_CONTROLS, 0x80000000u);
	assert_int_equal(VMX_EXIT_HOST_ADDRESS_SPACE_SIZE, 1u << 9);
	assert_string_equal(vmx_msr_name(0x480), "IA32_VMX_BASIC");
	assert_string_equal(vmx_msr_name(0x493), "IA32_VMX_EXIT_CTLS2");
	assert_null(vmx_msr_name(0x3a));
}

static void test_report_starts_with_cpuid_feature_control_and_basic(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	assert_true(got.n > 3);
	assert_string_equal(got.line[0], "CPUID.1:ECX.VMX=1");
	assert_string_equal(got.line[1], "IA32_FEATURE_CONTROL=0x5: locked, VMX outside SMX enabled");
	assert_string_equal(got.line[2], "IA32_VMX_BASIC=0x00d810000000002b: revision 0x2b, "
			    "VMCS region 4096 bytes, memory type WB (6), TRUE controls, INS/OUTS exit info");
}

static void test_report_lists_the_secondary_controls_skylake_x_can_enable(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	expect_line("secondary processor-based controls: IA32_VMX_PROCBASED_CTLS2=0x02177fff00000000, "
		    "must be 1 0x00000000, may be 1 0x02177fff");
	expect_line("  bit 1 ENABLE_EPT: can be 0 or 1");
	expect_line("  bit 5 ENABLE_VPID: can be 0 or 1");
	expect_line("  bit 7 UNRESTRICTED_GUEST: can be 0 or 1");
	expect_line("  bit 17 ENABLE_PML: can be 0 or 1");
	expect_line("  bit 25 USE_TSC_SCALING: can be 0 or 1");
	assert_false(mentions("ENABLE_ENCLS_EXITING"));
	assert_false(mentions("MODE_BASED_EXECUTE_CONTROL"));
}

static void test_report_shows_default1_controls_the_legacy_msrs_force(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	expect_line("primary processor-based controls: IA32_VMX_TRUE_PROCBASED_CTLS=0xfff9fffe04006172, "
		    "must be 1 0x04006172, may be 1 0xfff9fffe");
	expect_line("  bit 15 CR3_LOAD_EXITING: can be 0 or 1");
	expect_line("  bit 31 ACTIVATE_SECONDARY_CONTROLS: can be 0 or 1");
	c.basic &= ~VMX_BASIC_TRUE_CTLS;
	report(&c);
	expect_line("  bit 15 CR3_LOAD_EXITING: must be 1");
	assert_false(mentions("TRUE"));
}

static void test_report_decodes_skylake_x_ept_and_vpid_capabilities(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	expect_line("IA32_VMX_EPT_VPID_CAP=0x00000f0106334141");
	expect_line("  EPT execute-only translations: yes");
	expect_line("  EPT 4-level page walk: yes");
	expect_line("  EPT 5-level page walk: no");
	expect_line("  EPT paging structures write-back (WB): yes");
	expect_line("  EPT 2-MByte pages: yes");
	expect_line("  EPT 1-GByte pages: yes");
	expect_line("  EPT accessed and dirty flags: yes");
	expect_line("  EPT-violation advanced exit information: no");
	expect_line("  INVEPT single-context: yes");
	expect_line("  INVEPT all-context: yes");
	expect_line("  INVVPID individual-address: yes");
	expect_line("  INVVPID single-context-retaining-globals: yes");
}

static void test_report_decodes_skylake_x_misc(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	expect_line("IA32_VMX_MISC=0x00000000600401e0");
	expect_line("  preemption-timer rate shift: 0 (one tick every 1 TSC cycles)");
	expect_line("  activity states: HLT shutdown wait-for-SIPI");
	expect_line("  CR3-target values: 4");
	expect_line("  MSR-list limit: 512 entries");
	expect_line("  EFER.LMA saved into the IA-32e mode guest control on exit: yes");
	expect_line("  Intel PT in VMX operation: no");
	expect_line("  VMWRITE to VM-exit information fields: yes");
	expect_line("  software-event injection with instruction length 0: yes");
}

static void test_report_decodes_a_slower_timer_and_a_longer_msr_list(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	c.misc = (5ull) | (2ull << 25);
	report(&c);
	expect_line("  preemption-timer rate shift: 5 (one tick every 32 TSC cycles)");
	expect_line("  MSR-list limit: 1536 entries");
	expect_line("  activity states: active only");
}

static void test_report_names_the_cr_bits_vmx_fixes(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	expect_line("IA32_VMX_CR0_FIXED0=0x0000000080000021, IA32_VMX_CR0_FIXED1=0x00000000ffffffff");
	expect_line("  CR0 must be 1: PE NE PG");
	expect_line("  CR0 must be 0: 0xffffffff00000000");
	expect_line("  CR4 must be 1: VMXE");
	expect_line("  CR4 must be 0: 0xffffffffffc8d800");
}

static void test_report_ends_with_vmfunc_and_vmcs_enum(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	expect_line("IA32_VMX_VMFUNC=0x1: EPTP switching yes");
	assert_string_equal(got.line[got.n - 1], "IA32_VMX_VMCS_ENUM=0x2e: highest field index 23");
}

static void test_report_says_when_a_control_group_is_not_available(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	report(&c);
	expect_line("tertiary processor-based controls: not available");
	expect_line("secondary VM-exit controls: not available");
}

static void test_report_shows_64_bit_control_groups_when_present(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	c.have |= VMX_HAVE_PROCBASED3;
	c.procbased3 = VMX_PROC3_IPI_VIRTUALIZATION;
	report(&c);
	expect_line("tertiary processor-based controls: IA32_VMX_PROCBASED_CTLS3=0x0000000000000010, "
		    "may be 1 0x0000000000000010");
	expect_line("  bit 4 IPI_VIRTUALIZATION: can be 0 or 1");
}

static void test_report_without_vmx_says_so_and_stops(void **state)
{
	(void)state;
	struct vmx_caps_raw c = { .cpuid1_ecx = 0x80202001u };	/* VMX bit 5 clear */
	report(&c);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.line[0], "CPUID.1:ECX.VMX=0");
	assert_string_equal(got.line[1], "no VMX: this processor (or emulator) does not offer VT-x");
}

static void test_feature_control_decodes_unlocked_and_disabled_states(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	c.feature_control = 0;
	report(&c);
	assert_string_equal(got.line[1], "IA32_FEATURE_CONTROL=0x0: unlocked, VMX disabled");
	c.feature_control = 0x1;
	report(&c);
	assert_string_equal(got.line[1], "IA32_FEATURE_CONTROL=0x1: locked, VMX disabled");
	c.feature_control = 0x7;
	report(&c);
	assert_string_equal(got.line[1], "IA32_FEATURE_CONTROL=0x7: locked, "
			    "VMX inside SMX enabled, VMX outside SMX enabled");
}

static void test_basic_mentions_a_32_bit_address_limit_and_uncacheable_structures(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	c.basic = 0x0001100000000010ull;	/* revision 0x10, 4 KiB, UC, bit 48 */
	report(&c);
	assert_string_equal(got.line[2], "IA32_VMX_BASIC=0x0001100000000010: revision 0x10, "
			    "VMCS region 4096 bytes, memory type UC (0), 32-bit physical addresses");
}

static void test_no_report_line_is_cut_short(void **state)
{
	(void)state;
	struct vmx_caps_raw c = skylake_x();
	c.have |= VMX_HAVE_PROCBASED3 | VMX_HAVE_EXIT2;
	c.procbased3 = ~0ull;
	c.exit2 = ~0ull;
	c.basic |= VMX_BASIC_32BIT_ADDRESSES | VMX_BASIC_DUAL_MONITOR | VMX_BASIC_NO_ERROR_CODE_CHECK;
	report(&c);
	for (size_t i = 0; i < got.n; i++)
		if (strlen(got.line[i]) >= VMX_CAPS_LINE_MAX - 1)
			fail_msg("line %zu reached the buffer's end: %s", i, got.line[i]);
	assert_true(got.n > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjust_sets_must_be_one_bits_even_when_not_wanted),
		cmocka_unit_test(test_adjust_drops_wanted_bits_that_may_not_be_one),
		cmocka_unit_test(test_adjust_fails_when_a_required_bit_is_not_allowed),
		cmocka_unit_test(test_adjust_keeps_every_required_bit_that_is_allowed),
		cmocka_unit_test(test_adjust64_keeps_allowed_bits_and_names_the_missing_required_ones),
		cmocka_unit_test(test_control_msr_is_the_true_msr_when_basic_bit_55_is_set),
		cmocka_unit_test(test_control_msr_is_the_legacy_msr_when_basic_bit_55_is_clear),
		cmocka_unit_test(test_secondary_controls_are_unavailable_unless_their_msr_was_read),
		cmocka_unit_test(test_control_and_msr_names_come_from_the_tables),
		cmocka_unit_test(test_report_starts_with_cpuid_feature_control_and_basic),
		cmocka_unit_test(test_report_lists_the_secondary_controls_skylake_x_can_enable),
		cmocka_unit_test(test_report_shows_default1_controls_the_legacy_msrs_force),
		cmocka_unit_test(test_report_decodes_skylake_x_ept_and_vpid_capabilities),
		cmocka_unit_test(test_report_decodes_skylake_x_misc),
		cmocka_unit_test(test_report_decodes_a_slower_timer_and_a_longer_msr_list),
		cmocka_unit_test(test_report_names_the_cr_bits_vmx_fixes),
		cmocka_unit_test(test_report_ends_with_vmfunc_and_vmcs_enum),
		cmocka_unit_test(test_report_says_when_a_control_group_is_not_available),
		cmocka_unit_test(test_report_shows_64_bit_control_groups_when_present),
		cmocka_unit_test(test_report_without_vmx_says_so_and_stops),
		cmocka_unit_test(test_feature_control_decodes_unlocked_and_disabled_states),
		cmocka_unit_test(test_basic_mentions_a_32_bit_address_limit_and_uncacheable_structures),
		cmocka_unit_test(test_no_report_line_is_cut_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
