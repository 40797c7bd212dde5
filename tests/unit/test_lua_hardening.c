/* Lua's limits against C-heavy and C-stack-heavy chunks, and hook verdicts
 * the exit cannot honour.  The
 * coroutine.close chain of Lua 5.4.4 (issue 10) is a "C stack overflow"
 * error with our patch (lua/port/patches/0001; without it the host's
 * 8 MiB stack absorbs the 1000-deep recursion and it returns true), and
 * work inside C functions is charged by time (the per-call TSC deadline);
 * "skip" is refused on an exit no instruction caused (issue 10: on the
 * preemption timer it froze the guest and locked gdb out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"

#define CLOSE_CHAIN(n)                                                                      \
	"local coro=false for i=1," #n " do local previous=coro "                           \
	"coro=coroutine.create(function() local cc <close> = setmetatable({}, "             \
	"{__close=function() if previous then assert(coroutine.close(previous)) end end}) " \
	"coroutine.yield() end) assert(coroutine.resume(coro)) end "                        \
	"return coroutine.close(coro)"

static void test_a_short_chain_of_coroutine_closes_still_works(void **state)
{
	(void)state;
	expect_output(CLOSE_CHAIN(10), "true");
}

static void test_a_long_chain_of_coroutine_closes_is_a_c_stack_error(void **state)
{
	(void)state;
	const char *out = monitor(CLOSE_CHAIN(1000));
	if (strncmp(out, "false\t", 6) || !strstr(out, "C stack overflow"))
		fail_msg("the chain of 1000 closes printed: %s", out);
	expect_output("return 6*7", "42 (0x2a)");	/* the state is fine */
}

/* The image's check at each nested C call (lua/port/patches/0002 and
 * lhv_user.h), here with a soft limit 8 KiB below this frame: the
 * recursion through __tostring (a C call per level) stops long before
 * LUAI_MAXCCALLS, with Lua's own error, and the state stays usable. */
#define TOSTRING_RECURSION                                          \
	"depth = 0 local function f() depth = depth + 1 "           \
	"return tostring(setmetatable({}, {__tostring = f})) end "  \
	"local ok, err = pcall(f) return depth, err"

static void test_the_c_stack_is_measured_at_each_nested_call(void **state)
{
	(void)state;
	int unlimited = atoi(monitor(TOSTRING_RECURSION));	/* stopped by LUAI_MAXCCALLS */
	lhv_cstack_soft = (unsigned long)__builtin_frame_address(0) - 8192;
	const char *out = monitor(TOSTRING_RECURSION);
	lhv_cstack_soft = 0;
	int depth = atoi(out);
	if (depth < 2 || depth >= unlimited / 2 || !strstr(out, "C stack overflow"))
		fail_msg("%d deep with 8 KiB of stack, %d without a limit: %s", depth, unlimited, out);
	expect_output("return 6*7", "42 (0x2a)");
}

static void test_a_hook_doing_c_work_is_stopped_by_its_deadline_and_removed(void **state)
{
	(void)state;
	lhv.ticks_per_call = 1000000;	/* the loop: ~120 VM instructions, the count hook never fires */
	monitor("hv.on_exit('cpuid', function() for i = 1, 20 do local s = string.rep('x', 1 << 18) end end)");
	assert_true(exit_hooked(EXIT_REASON_CPUID));
	assert_int_equal(exit_hooks_run(&vcpu0, EXIT_REASON_CPUID, NULL, 0), HOOK_DEFAULT);
	expect_log("time limit exceeded after ");
	expect_log(" TSC ticks (1000000 per call, lua-ticks=)");
	assert_false(exit_hooked(EXIT_REASON_CPUID));
}

static void test_the_deadline_is_sticky_so_pcall_cannot_swallow_it(void **state)
{
	(void)state;
	lhv.ticks_per_call = 1000000;
	const char *out = monitor("local n = 0 while true do n = n + 1 "
				  "pcall(string.rep, 'x', 1 << 18) end");
	if (!strstr(out, "time limit exceeded"))
		fail_msg("the pcall loop printed: %s", out);
}

static void test_a_fresh_call_gets_a_fresh_deadline(void **state)
{
	(void)state;
	lhv.ticks_per_call = 1000000;
	monitor("for i = 1, 1000 do local s = string.rep('x', 1 << 18) end");
	expect_output("return 1 + 1", "2 (0x2)");
}

static void test_skip_on_the_preemption_timer_is_refused_and_the_hook_removed(void **state)
{
	(void)state;
	monitor("hv.on_exit('PREEMPTION_TIMER', function(e) return 'skip' end)");
	assert_int_equal(exit_hooks_run(&vcpu0, EXIT_REASON_PREEMPTION_TIMER, NULL, 0), HOOK_DEFAULT);
	expect_log("returned \"skip\" on PREEMPTION_TIMER: only an exit caused by an instruction can be skipped");
	assert_false(exit_hooked(EXIT_REASON_PREEMPTION_TIMER));
}

static void test_skip_on_an_exception_exit_only_for_int3_into_and_int1(void **state)
{
	char why[64];
	(void)state;
	monitor("hv.on_exit('EXCEPTION_NMI', function(e) return 'skip' end)");
	set_vmcs("VM_EXIT_INTERRUPTION_INFO", 1u << 31 | 6u << 8 | 3);	/* INT3 */
	assert_int_equal(exit_hooks_run(&vcpu0, EXIT_REASON_EXCEPTION_NMI, why, sizeof(why)), HOOK_SKIP);
	set_vmcs("VM_EXIT_INTERRUPTION_INFO", 1u << 31 | 3u << 8 | 14);	/* a #PF */
	assert_int_equal(exit_hooks_run(&vcpu0, EXIT_REASON_EXCEPTION_NMI, why, sizeof(why)), HOOK_DEFAULT);
	expect_log("returned \"skip\" on EXCEPTION_NMI");
	assert_false(exit_hooked(EXIT_REASON_EXCEPTION_NMI));
}

static void test_exits_an_instruction_caused_may_be_skipped_others_not(void **state)
{
	(void)state;
	assert_true(exit_hook_may_skip(EXIT_REASON_CPUID, 0));
	assert_true(exit_hook_may_skip(EXIT_REASON_IO_INSTRUCTION, 0));
	assert_true(exit_hook_may_skip(EXIT_REASON_XSETBV, 0));
	assert_true(exit_hook_may_skip(EXIT_REASON_EXCEPTION_NMI, 5u << 8 | 1));	/* INT1 */
	assert_false(exit_hook_may_skip(EXIT_REASON_EXCEPTION_NMI, 2u << 8 | 2));	/* NMI */
	assert_false(exit_hook_may_skip(EXIT_REASON_PREEMPTION_TIMER, 0));
	assert_false(exit_hook_may_skip(EXIT_REASON_EXTERNAL_INTERRUPT, 0));
	assert_false(exit_hook_may_skip(EXIT_REASON_EPT_VIOLATION, 0));
	assert_false(exit_hook_may_skip(EXIT_REASON_TRIPLE_FAULT, 0));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_a_short_chain_of_coroutine_closes_still_works),
		T(test_a_long_chain_of_coroutine_closes_is_a_c_stack_error),
		T(test_the_c_stack_is_measured_at_each_nested_call),
		T(test_a_hook_doing_c_work_is_stopped_by_its_deadline_and_removed),
		T(test_the_deadline_is_sticky_so_pcall_cannot_swallow_it),
		T(test_a_fresh_call_gets_a_fresh_deadline),
		T(test_skip_on_the_preemption_timer_is_refused_and_the_hook_removed),
		T(test_skip_on_an_exception_exit_only_for_int3_into_and_int1),
		T(test_exits_an_instruction_caused_may_be_skipped_others_not),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
