/* Exit hooks: the bitmap the exit path tests, the event a hook sees, the
 * verdicts, and hooks that fail, loop or misbehave — reported, removed,
 * and the guest goes on with the default handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"

static char stop_reason[96];

static enum hook_verdict exit_with(unsigned reason)
{
	vcpu0.exits++;
	vcpu0.exit_counts[reason]++;
	stop_reason[0] = '\0';
	if (!exit_hooked(reason))
		return HOOK_DEFAULT;
	return exit_hooks_run(&vcpu0, reason, stop_reason, sizeof(stop_reason));
}

static void test_on_exit_and_off_keep_the_bitmap_exact(void **state)
{
	(void)state;
	assert_false(exit_hooked(EXIT_REASON_CPUID));
	/* Each chunk has globals of its own: handles go by number. */
	expect_output("h = hv.on_exit('cpuid', function() end) return h", "1 (0x1)");
	assert_true(exit_hooked(EXIT_REASON_CPUID));
	assert_false(exit_hooked(EXIT_REASON_HLT));
	expect_output("h2 = hv.on_exit(12, function() end) return hv.hooks()[2].reason", "HLT");
	assert_true(exit_hooked(EXIT_REASON_HLT));
	expect_output("hv.off(1)", "true");
	expect_output("hv.off(1)", "false");
	assert_false(exit_hooked(EXIT_REASON_CPUID));
	expect_output("any = hv.on_exit('*', function() end) return any", "3 (0x3)");
	for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++)
		assert_true(exit_hooked(r));
	expect_output("hv.off(3) hv.off(2)", "");
	for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++)
		assert_false(exit_hooked(r));
}

static void test_unknown_reasons_are_refused_with_suggestions(void **state)
{
	(void)state;
	expect_output("hv.on_exit('EPT_VIOLATON', print)", "did you mean EPT_VIOLATION");
	expect_output("hv.on_exit(70000, print)", "exit reason 70000 is out of range");
	expect_output("hv.on_exit('cpuid', 42)", "function expected");
}

static void test_a_reason_the_cpu_cannot_produce_is_refused_with_the_reason(void **state)
{
	(void)state;
	expect_output("hv.on_exit('MONITOR_TRAP_FLAG', print)", "1 (0x1)");
	expect_output("hv.stepping()", "MTF\tMTF: advertised and its exit observed");
	fake_no_mtf = true;
	expect_output("hv.on_exit('MONITOR_TRAP_FLAG', print)", "MTF is not available on this CPU");
	expect_output("hv.stepping()", "TF\tMTF: not advertised");
	expect_output("#hv.hooks()", "1 (0x1)");
	expect_output("hv.on_exit('*', print)", "2 (0x2)");
}

static void test_a_hook_sees_the_exit_and_its_fields(void **state)
{
	(void)state;
	set_vmcs("EXIT_QUALIFICATION", 0x1b);
	set_vmcs("VM_EXIT_INSTRUCTION_LENGTH", 2);
	set_vmcs("GUEST_LINEAR_ADDRESS", 0x401000);
	fake_regs[0][TREG_RIP] = 0x100000;
	monitor("hv.on_exit('CPUID', function(e)\n"
		"  print(string.format('seen %s %d q=%x len=%d lin=%x rip=%x vcpu=%d %s', e.name, e.reason,\n"
		"    e.qualification, e.instruction_length, e.guest_linear, e.rip, e.vcpu, tostring(e)))\n"
		"  kept = e\n"
		"end)\n"
		"hv.on_exit('HLT', function() print('later', pcall(function() return kept.qualification end))\n"
		"  print('later', pcall(function() return kept.nonsense end)) end)");
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_DEFAULT);
	expect_log("seen CPUID 10 q=1b len=2 lin=401000 rip=100000 vcpu=0 exit CPUID (10)");
	exit_with(EXIT_REASON_HLT);
	expect_log("later\tfalse\tmonitor:6: this exit is over");
	expect_log("later\tfalse\tmonitor:7: this exit is over");
}

static void test_ept_violation_events_say_what_access_faulted(void **state)
{
	(void)state;
	set_vmcs("EXIT_QUALIFICATION", 0x182);	/* write; linear address valid, final translation */
	set_vmcs("GUEST_PHYSICAL_ADDRESS", 0x5008);
	monitor("ept.on_violation(function(e) print('seen ' .. e.access .. ' ' .. string.format('%x', e.guest_physical))\n"
		"  print('text ' .. e.description) end)");
	exit_with(EXIT_REASON_EPT_VIOLATION);
	expect_log("seen write 5008");
	expect_log("text write");
}

static void test_verdicts_map_to_the_exit_path(void **state)
{
	(void)state;
	/* The guest's rax picks the verdict. */
	monitor("hv.on_exit('cpuid', function() return ({ 'skip', 'resume', 'stop', 'stop' })[regs.rax],\n"
		"  regs.rax == 3 and 'CPUID leaf 0x4000_0000 asked' or nil end)");
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_DEFAULT);
	fake_gprs[0].rax = 1;
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_SKIP);
	fake_gprs[0].rax = 2;
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_RESUME);
	fake_gprs[0].rax = 3;
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_STOP);
	assert_string_equal(stop_reason, "CPUID leaf 0x4000_0000 asked");
	fake_gprs[0].rax = 4;
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_STOP);
	assert_string_equal(stop_reason, "Lua hook 1 on CPUID");
}

static void test_every_hook_runs_in_order_and_the_first_verdict_wins(void **state)
{
	(void)state;
	monitor("order = '' hv.on_exit('*', function() order = order .. 'a' end)\n"
		"hv.on_exit('hlt', function() order = order .. 'b' return 'skip' end)\n"
		"hv.on_exit('hlt', function() order = order .. 'c' return 'stop' end)\n"
		"hv.on_exit('nmi_window', function() print('order ' .. order) end)");
	assert_int_equal(exit_with(EXIT_REASON_HLT), HOOK_SKIP);
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_DEFAULT);
	exit_with(EXIT_REASON_NMI_WINDOW);
	expect_log("order abcaa");
}

static void test_a_failing_hook_is_reported_with_a_traceback_and_removed(void **state)
{
	(void)state;
	monitor("hv.on_exit('cpuid', function(e) local x = nil; return x.y end)\n"
		"other = 0 hv.on_exit('cpuid', function() other = other + 1 print('other', other) end)");
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_DEFAULT);
	expect_log("[E] lua: hook 1 (CPUID) on CPUID: monitor:1: attempt to index a nil value");
	expect_log("stack traceback:");
	expect_log("lua: hook 1 removed; the guest continues");
	assert_true(exit_hooked(EXIT_REASON_CPUID));	/* the other hook stays */
	exit_with(EXIT_REASON_CPUID);
	expect_log("other\t2");
	expect_output("#hv.hooks()", "1 (0x1)");
}

/* A hidden breakpoint's hit, as hv/stealth_bp.c reports it. */
static enum hook_verdict bp_hit(unsigned id, uint64_t gva)
{
	stop_reason[0] = '\0';
	return breakpoint_hook_run(&vcpu0, id, gva, stop_reason, sizeof(stop_reason));
}

#define BP_AT 0xffff800000001000ull

static void test_a_breakpoint_function_sees_its_hit_and_its_verdicts_map(void **state)
{
	(void)state;
	fake_gprs[0].rax = 59;
	monitor("n = 0 bp.add(0xffff800000001000, function(at, vcpu)\n"
		"  n = n + 1 print('hit', string.format('%x', at), vcpu, regs.rax, n)\n"
		"  if n == 2 then return 'stop', 'second hit' elseif n == 3 then return 'stop' end end)");
	assert_int_equal(bp_hit(1, BP_AT), HOOK_DEFAULT);
	expect_log("hit\tffff800000001000\t0\t59\t1");
	assert_int_equal(bp_hit(1, BP_AT), HOOK_STOP);
	assert_string_equal(stop_reason, "second hit");
	assert_int_equal(bp_hit(1, BP_AT), HOOK_STOP);
	assert_string_equal(stop_reason, "Lua breakpoint 1 at 0xffff800000001000");
	expect_output("bp.list()[1].hits", "3 (0x3)");
	assert_int_equal(bp_hit(7, BP_AT), HOOK_DEFAULT);	/* no such breakpoint: nothing runs */
}

static void test_a_failing_breakpoint_function_is_reported_and_its_breakpoint_removed(void **state)
{
	(void)state;
	monitor("bp.add(0xffff800000001000, function() error('boom') end)\n"
		"bp.add(0xffff800000002000, function() return 42 end)");
	assert_int_equal(bp_hit(1, BP_AT), HOOK_DEFAULT);
	expect_log("[E] lua: breakpoint 1: monitor:1: boom");
	expect_log("lua: breakpoint 1 removed; the guest continues");
	assert_int_equal(bp_hit(2, BP_AT + 0x1000), HOOK_DEFAULT);
	expect_log("returned number; a breakpoint function returns nil or \"stop\"");
	expect_output("#bp.list()", "0 (0x0)");
}

static void test_a_runaway_hook_is_stopped_by_its_budget_and_removed(void **state)
{
	(void)state;
	monitor("hv.on_exit('io_instruction', function() while true do pcall(function() while true do end end) end end)");
	assert_int_equal(exit_with(EXIT_REASON_IO_INSTRUCTION), HOOK_DEFAULT);
	expect_log("instruction budget exhausted");
	assert_false(exit_hooked(EXIT_REASON_IO_INSTRUCTION));
}

static void test_a_nonsense_verdict_is_reported_and_the_hook_removed(void **state)
{
	(void)state;
	monitor("hv.on_exit('hlt', function() return 'skpi' end) hv.on_exit('cpuid', function() return 42 end)");
	assert_int_equal(exit_with(EXIT_REASON_HLT), HOOK_DEFAULT);
	expect_log("returned \"skpi\"; a hook returns nil, \"skip\", \"resume\" or \"stop\"");
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_DEFAULT);
	expect_log("returned a number");
	expect_output("#hv.hooks()", "0 (0x0)");
}

static void test_a_hook_may_remove_itself_and_add_others(void **state)
{
	(void)state;
	monitor("n = 0 local h h = hv.on_exit('cpuid', function() n = n + 1 hv.off(h)\n"
		"  hv.on_exit('cpuid', function() n = n + 10 print('n', n) end) end)");
	exit_with(EXIT_REASON_CPUID);
	exit_with(EXIT_REASON_CPUID);
	expect_log("n\t11");
}

static void test_a_hook_changing_the_guest_uses_the_exiting_vcpu(void **state)
{
	(void)state;
	fake_gprs[0].rax = 0;
	monitor("hv.on_exit('cpuid', function() regs.rax = 0x756e6547 regs.rip = regs.rip + 2 return 'resume' end)");
	fake_regs[0][TREG_RIP] = 0x1000;
	assert_int_equal(exit_with(EXIT_REASON_CPUID), HOOK_RESUME);
	assert_int_equal(fake_gprs[0].rax, 0x756e6547);
	assert_int_equal(fake_regs[0][TREG_RIP], 0x1002);
}

static void test_print_in_a_hook_goes_to_the_log(void **state)
{
	(void)state;
	monitor("hv.on_exit('hlt', function(e) print('halt at', e.rip) end)");
	exit_with(EXIT_REASON_HLT);
	expect_log("[I] lua: halt at\t0");
}

static void test_poweroff_hooks_run_once_in_order_and_a_failing_one_is_reported(void **state)
{
	(void)state;
	monitor("order = {}\n"
		"hv.on_poweroff(function(how) order[#order + 1] = 'a ' .. how end)\n"
		"hv.on_poweroff(function() error('late') end)\n"
		"hv.on_poweroff(function(how) order[#order + 1] = 'b' print('summary at ' .. how) end)\n"
		"hv.on_exit('hlt', function() print('order', #order, table.concat(order, ',')) end)");
	for (unsigned r = 0; r < EXIT_REASON_LIMIT; r++)	/* power-off hooks are not exit hooks */
		assert_int_equal(exit_hooked(r), r == EXIT_REASON_HLT);
	expect_output("hv.hooks()[1].reason", "poweroff");
	assert_int_equal(exit_with(EXIT_REASON_HLT), HOOK_DEFAULT);
	expect_log("order\t0\t\n");
	poweroff_hook_run(&vcpu0, "ACPI S5");
	exit_with(EXIT_REASON_HLT);
	expect_log("order\t2\ta ACPI S5,b\n");
	expect_log("[I] lua: summary at ACPI S5");
	expect_log("[E] lua: hook 2 (poweroff): monitor:3: late");
	poweroff_hook_run(&vcpu0, "again");
	exit_with(EXIT_REASON_HLT);
	assert_null(strstr(log_text, "order\t3"));
}

static void test_hv_off_removes_a_poweroff_hook(void **state)
{
	(void)state;
	monitor("h = hv.on_poweroff(function() print('ran') end)");
	expect_output("hv.off(1)", "true");
	poweroff_hook_run(&vcpu0, "ACPI S5");
	assert_null(strstr(log_text, "ran"));
	expect_output("hv.on_poweroff(42)", "function expected");
}

/* ---- event monitoring (issue 12 item 3): hooks switch the watch on and off */

static void test_event_hooks_switch_the_watch_on_and_the_last_one_off(void **state)
{
	(void)state;
	expect_output("pf = hv.on_exception(14, function() end) return pf", "1 (0x1)");
	assert_int_equal(fake_watch_exceptions, 1u << 14);
	assert_false(fake_watch_ext);
	assert_false(exit_hooked(EXIT_REASON_EXCEPTION_NMI));	/* the handler runs them, not the exit path */
	expect_output("hv.on_exception('#pf', print) hv.on_exception('NMI', print) hv.on_exception('bp', print)", "");
	assert_int_equal(fake_watch_exceptions, (1u << 14) | (1u << 2) | (1u << 3));
	expect_output("return hv.hooks()[1].reason, hv.hooks()[3].reason", "#PF\tNMI");
	expect_output("any = hv.on_exit('*', print)", "");
	assert_false(fake_watch_ext);	/* "*" sees the exits that happen anyway */
	expect_output("ext = hv.on_exit('EXTERNAL_INTERRUPT', print) return ext", "6 (0x6)");
	assert_true(fake_watch_ext);
	expect_output("ext2 = hv.on_exit(1, print) hv.off(6)", "");
	assert_true(fake_watch_ext);	/* another hook still wants it */
	expect_output("hv.off(7) hv.off(1) hv.off(2)", "");
	assert_false(fake_watch_ext);
	assert_int_equal(fake_watch_exceptions, 1u << 3 | 1u << 2);
	expect_output("hv.off(3) hv.off(4)", "");
	assert_int_equal(fake_watch_exceptions, 0);
}

static void test_vectors_that_can_never_be_seen_are_refused_with_the_reason(void **state)
{
	(void)state;
	expect_output("hv.on_exception(32, print)", "vector 32 cannot be hooked");
	expect_output("hv.on_exception(0x80, print)", "vector 128 cannot be hooked");
	expect_output("hv.on_exception(256, print)", "vector 256 is out of range (exceptions are 0-31)");
	expect_output("hv.on_exception(-1, print)", "vector -1 is out of range");
	expect_output("hv.on_exception('#XX', print)", "no exception is called \"#XX\"");
	expect_output("hv.on_exception(18, print)", "vector 18 cannot be hooked");
	expect_output("hv.on_exception(14, 'f')", "function expected");
	expect_output("return #hv.hooks()", "0 (0x0)");
	assert_int_equal(fake_watch_exceptions, 0);
}

static enum hook_verdict event_with(uint32_t info)
{
	stop_reason[0] = '\0';
	set_vmcs("VM_EXIT_INTERRUPTION_INFO", info);
	return script_event_hooks_run(&vcpu0, info, stop_reason, sizeof(stop_reason));
}

static void test_an_exception_hook_sees_the_event_and_its_verdict_decides(void **state)
{
	(void)state;
	set_vmcs("EXIT_QUALIFICATION", 0xdead000);
	set_vmcs("VM_EXIT_INTERRUPTION_ERROR_CODE", 6);
	monitor("hv.on_exception(14, function(e)\n"
		"  print(string.format('pf %d %s ec=%d at %x', e.vector, e.type, e.error_code, e.address))\n"
		"  return ({ nil, 'skip', 'stop' })[regs.rax] end)\n"
		"hv.on_exception(8, function(e) return 'skip' end)\n"
		"hv.on_exception(3, function(e) print('bp', e.vector, e.type, e.error_code, e.address) end)");
	uint32_t pf = (1u << 31) | (1u << 11) | (3u << 8) | 14;
	assert_int_equal(event_with(pf), HOOK_DEFAULT);
	expect_log("pf 14 hardware exception ec=6 at dead000");
	fake_gprs[0].rax = 2;
	assert_int_equal(event_with(pf), HOOK_SKIP);
	fake_gprs[0].rax = 3;
	assert_int_equal(event_with(pf), HOOK_STOP);
	assert_string_equal(stop_reason, "Lua hook 1 on #PF");
	assert_int_equal(event_with((1u << 31) | (6u << 8) | 3), HOOK_DEFAULT);
	expect_log("bp\t3\tsoftware exception\tnil\tnil");
	/* Swallowing a double fault is refused: the hook goes, the #DF is delivered. */
	assert_int_equal(event_with((1u << 31) | (1u << 11) | (3u << 8) | 8), HOOK_DEFAULT);
	expect_log("returned \"skip\" on #DF");
	assert_int_equal(fake_watch_exceptions, (1u << 14) | (1u << 3));
	/* A vector without hooks runs none (an NMI here). */
	assert_int_equal(event_with((1u << 31) | (2u << 8) | 2), HOOK_DEFAULT);
}

static void test_an_external_interrupt_hook_sees_the_vector(void **state)
{
	(void)state;
	set_vmcs("VM_EXIT_INTERRUPTION_INFO", (1u << 31) | 0x30);
	monitor("hv.on_exit('EXTERNAL_INTERRUPT', function(e) print('irq', e.vector, e.type, e.error_code) end)");
	assert_int_equal(exit_with(EXIT_REASON_EXTERNAL_INTERRUPT), HOOK_DEFAULT);
	expect_log("irq\t48\texternal interrupt\tnil");
	monitor("hv.on_exit('CPUID', function(e) print('cpuid', e.vector, e.type) end)");
	exit_with(EXIT_REASON_CPUID);
	expect_log("cpuid\tnil\tnil");
}

static void test_a_failing_exception_hook_is_removed_and_its_vector_unwatched(void **state)
{
	(void)state;
	monitor("hv.on_exception(13, function(e) error('broken') end)");
	assert_int_equal(fake_watch_exceptions, 1u << 13);
	assert_int_equal(event_with((1u << 31) | (1u << 11) | (3u << 8) | 13), HOOK_DEFAULT);
	expect_log("broken");
	assert_int_equal(fake_watch_exceptions, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_on_exit_and_off_keep_the_bitmap_exact),
		T(test_unknown_reasons_are_refused_with_suggestions),
		T(test_a_reason_the_cpu_cannot_produce_is_refused_with_the_reason),
		T(test_a_hook_sees_the_exit_and_its_fields),
		T(test_ept_violation_events_say_what_access_faulted),
		T(test_verdicts_map_to_the_exit_path),
		T(test_every_hook_runs_in_order_and_the_first_verdict_wins),
		T(test_a_failing_hook_is_reported_with_a_traceback_and_removed),
		T(test_a_breakpoint_function_sees_its_hit_and_its_verdicts_map),
		T(test_a_failing_breakpoint_function_is_reported_and_its_breakpoint_removed),
		T(test_a_runaway_hook_is_stopped_by_its_budget_and_removed),
		T(test_a_nonsense_verdict_is_reported_and_the_hook_removed),
		T(test_a_hook_may_remove_itself_and_add_others),
		T(test_a_hook_changing_the_guest_uses_the_exiting_vcpu),
		T(test_print_in_a_hook_goes_to_the_log),
		T(test_poweroff_hooks_run_once_in_order_and_a_failing_one_is_reported),
		T(test_hv_off_removes_a_poweroff_hook),
		T(test_event_hooks_switch_the_watch_on_and_the_last_one_off),
		T(test_vectors_that_can_never_be_seen_are_refused_with_the_reason),
		T(test_an_exception_hook_sees_the_event_and_its_verdict_decides),
		T(test_an_external_interrupt_hook_sees_the_vector),
		T(test_a_failing_exception_hook_is_removed_and_its_vector_unwatched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
