/* hv/hooks.c calls scripts only through the front end registered with
 * hv/frontend.h: with none, every exit takes the default handling and the
 * end of the run calls nothing; once registered, the exit hooks see the
 * exit as the exit path gave it and the power-off callback runs once per
 * registration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/frontend.h"

static struct vcpu vcpu;
static struct {
	struct vcpu *v;
	unsigned reason;
	char *stop_reason;
	size_t len;
	unsigned exits, poweroffs;
	const char *how;
} seen;

static enum hook_verdict saw(struct vcpu *v, unsigned reason, char *stop_reason, size_t len, enum hook_verdict verdict)
{
	seen.v = v;
	seen.reason = reason;
	seen.stop_reason = stop_reason;
	seen.len = len;
	seen.exits++;
	return verdict;
}

static enum hook_verdict exit_hooks(struct vcpu *v, unsigned reason, char *stop_reason, size_t len)
{
	return saw(v, reason, stop_reason, len, HOOK_SKIP);
}

static void poweroff(struct vcpu *v, const char *how)
{
	seen.v = v;
	seen.how = how;
	seen.poweroffs++;
}

static enum hook_verdict event_hooks(struct vcpu *v, uint32_t info, char *stop_reason, size_t len)
{
	return saw(v, info, stop_reason, len, HOOK_STOP);
}

static const struct script_frontend engine = {
	.exit_hooks = exit_hooks, .poweroff = poweroff, .breakpoint = NULL, .event_hooks = event_hooks,
};
static const struct script_frontend hooks_only = { .exit_hooks = exit_hooks };

static int reset(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	script_frontend_set(NULL);
	return 0;
}

static void test_with_no_script_front_end_exits_take_the_default_and_poweroff_calls_nothing(void **state)
{
	char why[8] = "";
	(void)state;
	assert_int_equal(exit_hooks_run(&vcpu, EXIT_REASON_CPUID, why, sizeof(why)), HOOK_DEFAULT);
	poweroff_hook_run(&vcpu, "ACPI S5");
	assert_int_equal(seen.exits + seen.poweroffs, 0);
}

static void test_exit_hooks_see_the_exit_and_their_verdict_is_returned(void **state)
{
	char why[8] = "";
	(void)state;
	script_frontend_set(&engine);
	assert_int_equal(exit_hooks_run(&vcpu, EXIT_REASON_HLT, why, sizeof(why)), HOOK_SKIP);
	assert_int_equal(seen.exits, 1);
	assert_ptr_equal(seen.v, &vcpu);
	assert_int_equal(seen.reason, EXIT_REASON_HLT);
	assert_ptr_equal(seen.stop_reason, why);
	assert_int_equal(seen.len, sizeof(why));
}

static void test_event_hooks_see_the_event_and_none_registered_means_default(void **state)
{
	char why[8] = "";
	(void)state;
	assert_int_equal(script_event_hooks_run(&vcpu, 0x80000b0e, why, sizeof(why)), HOOK_DEFAULT);
	script_frontend_set(&hooks_only);
	assert_int_equal(script_event_hooks_run(&vcpu, 0x80000b0e, why, sizeof(why)), HOOK_DEFAULT);
	assert_int_equal(seen.exits, 0);
	script_frontend_set(&engine);
	assert_int_equal(script_event_hooks_run(&vcpu, 0x80000b0e, why, sizeof(why)), HOOK_STOP);
	assert_int_equal(seen.reason, 0x80000b0e);
	assert_ptr_equal(seen.stop_reason, why);
}

static void test_the_poweroff_callback_runs_once_per_registration(void **state)
{
	(void)state;
	script_frontend_set(&engine);
	poweroff_hook_run(&vcpu, "ACPI S5");
	poweroff_hook_run(&vcpu, "again");
	assert_int_equal(seen.poweroffs, 1);
	assert_string_equal(seen.how, "ACPI S5");
	script_frontend_set(&engine);
	poweroff_hook_run(&vcpu, "gdb kill");
	assert_int_equal(seen.poweroffs, 2);
	assert_string_equal(seen.how, "gdb kill");
}

static void test_unregistering_or_a_front_end_without_poweroff_calls_nothing(void **state)
{
	char why[8] = "";
	(void)state;
	script_frontend_set(&hooks_only);
	poweroff_hook_run(&vcpu, "ACPI S5");
	assert_int_equal(seen.poweroffs, 0);
	script_frontend_set(&engine);
	script_frontend_set(NULL);
	poweroff_hook_run(&vcpu, "ACPI S5");
	assert_int_equal(exit_hooks_run(&vcpu, EXIT_REASON_CPUID, why, sizeof(why)), HOOK_DEFAULT);
	assert_int_equal(seen.exits + seen.poweroffs, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, reset)
	const struct CMUnitTest tests[] = {
		T(test_with_no_script_front_end_exits_take_the_default_and_poweroff_calls_nothing),
		T(test_exit_hooks_see_the_exit_and_their_verdict_is_returned),
		T(test_event_hooks_see_the_event_and_none_registered_means_default),
		T(test_the_poweroff_callback_runs_once_per_registration),
		T(test_unregistering_or_a_front_end_without_poweroff_calls_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
