/* The MTF probe's verdict (hv/mtf_verdict.c): MTF counts only when it is
 * advertised AND the probe entry exited with reason 37; every other finding
 * says why in the line `monitor info` shows, and names the TF fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/mtf_probe.h"

#define TRUE_PROCBASED 0x48e

static const char *said(struct mtf_verdict *m, bool advertised, bool launched, uint32_t reason)
{
	static char line[256];
	m->msr = TRUE_PROCBASED;
	mtf_judge(m, advertised, launched, reason);
	mtf_verdict_describe(m, line, sizeof(line));
	return line;
}

static void test_an_observed_exit_37_is_the_only_way_to_step_with_mtf(void **state)
{
	(void)state;
	struct mtf_verdict m = { 0 };
	assert_string_equal(said(&m, true, true, 37), "MTF: advertised (IA32_VMX_TRUE_PROCBASED_CTLS allows bit 27) "
			    "and its exit (reason 37) observed in the boot probe: stepping with MTF");
	assert_int_equal(m.state, MTF_WORKS);
	/* Bit 31 of the reason is the caller's to judge; the basic reason counts. */
	said(&m, true, true, 37 | (1u << 28));
	assert_int_equal(m.state, MTF_WORKS);
}

static void test_advertised_but_silent_mtf_falls_back_to_tf_and_names_the_exit_seen(void **state)
{
	(void)state;
	struct mtf_verdict m = { 0 };
	assert_string_equal(said(&m, true, true, 52), "MTF: advertised but no exit observed in the boot probe "
			    "(exit 52 PREEMPTION_TIMER came instead, as under Bochs 2.7): stepping with TF+#DB");
	assert_int_equal(m.state, MTF_NO_EXIT);
	assert_int_equal(m.seen, 52);
	assert_non_null(strstr(said(&m, true, true, 0), "exit 0 EXCEPTION_NMI came instead"));
}

static void test_not_advertised_or_not_probed_says_why(void **state)
{
	(void)state;
	struct mtf_verdict m = { 0 };
	assert_string_equal(said(&m, false, false, 0), "MTF: not advertised (IA32_VMX_TRUE_PROCBASED_CTLS does not "
			    "allow bit 27 MONITOR_TRAP_FLAG to be 1): stepping with TF+#DB");
	assert_int_equal(m.state, MTF_NOT_ADVERTISED);
	/* Advertised but not even seen to exit: never counted as working. */
	assert_string_equal(said(&m, false, true, 37), said(&m, false, false, 0));
	m.why = "VMLAUNCH failed";
	assert_string_equal(said(&m, true, false, 0), "MTF: advertised but not probed (VMLAUNCH failed): "
			    "stepping with TF+#DB");
	assert_int_equal(m.state, MTF_NOT_PROBED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_observed_exit_37_is_the_only_way_to_step_with_mtf),
		cmocka_unit_test(test_advertised_but_silent_mtf_falls_back_to_tf_and_names_the_exit_seen),
		cmocka_unit_test(test_not_advertised_or_not_probed_says_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
