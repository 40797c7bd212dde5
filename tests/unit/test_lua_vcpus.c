/* Lua across processors (issue 11): a hook runs on the vCPU that exited
 * and sees it as the current one; `monitor lua` sees the vCPU gdb
 * selected and may reach any (the guest is stopped); hv.vcpu, hv.vcpus,
 * hv.stats per vCPU and in total; regs.of(n) and vmcs.of(n), refused for
 * a running vCPU or a bad index; one state under one lock, which a
 * processor already inside Lua cannot deadlock on, and which two
 * processors share without losing a call. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"

/* An exit of reason on vCPU n, run on n's processor. */
static enum hook_verdict exit_on(unsigned n, unsigned reason)
{
	char why[96];
	fake_cpu = n;
	vcpus[n].exits++;
	vcpus[n].exit_counts[reason]++;
	enum hook_verdict v = exit_hooked(reason) ? exit_hooks_run(&vcpus[n], reason, why, sizeof(why)) : HOOK_DEFAULT;
	fake_cpu = 0;
	return v;
}

static void test_monitor_lua_sees_the_vcpu_gdb_selected(void **state)
{
	(void)state;
	expect_output("hv.vcpu()", "0 (0x0)");
	selected = 1;
	fake_regs[1][TREG_RIP] = 0x1111;
	fake_gprs[1].rax = 0xa1;
	set_vmcs_on(1, "GUEST_CR3", 0x3000);
	expect_output("hv.vcpu()", "1 (0x1)");
	expect_output("regs.rip, regs.rax, vmcs.read('GUEST_CR3')", "4369 (0x1111)\t161 (0xa1)\t12288 (0x3000)");
	monitor("regs.rbx = 0xb1 vmcs.write('GUEST_CR3', 0x4000)");
	selected = 0;
	expect_output("regs.rbx, vmcs.read('GUEST_CR3'), regs.of(1).rbx, vmcs.of(1).read('GUEST_CR3')",
		      "0 (0x0)\t0 (0x0)\t177 (0xb1)\t16384 (0x4000)");
}

static void test_a_hook_runs_on_the_vcpu_that_exited(void **state)
{
	(void)state;
	monitor("hv.on_exit('cpuid', function(e)\n"
		"  print(string.format('cpuid on %d e.vcpu=%d q=%x rip=%x', hv.vcpu(), e.vcpu, e.qualification, e.rip))\n"
		"  regs.rax = 0x100 + e.vcpu\n"
		"  vmcs.write('GUEST_RIP', regs.rip + 2)\n"
		"  return 'resume'\n"
		"end)");
	set_vmcs_on(1, "EXIT_QUALIFICATION", 0x11);
	fake_regs[0][TREG_RIP] = 0x500;
	fake_regs[1][TREG_RIP] = 0x700;
	assert_int_equal(exit_on(1, EXIT_REASON_CPUID), HOOK_RESUME);
	expect_log("cpuid on 1 e.vcpu=1 q=11 rip=700");
	assert_int_equal(fake_gprs[1].rax, 0x101);
	assert_int_equal(fake_gprs[0].rax, 0);
	assert_int_equal(get_vmcs_on(1, "GUEST_RIP"), 0x702);
	assert_int_equal(get_vmcs_on(0, "GUEST_RIP"), 0);
	assert_int_equal(exit_on(0, EXIT_REASON_CPUID), HOOK_RESUME);
	expect_log("cpuid on 0 e.vcpu=0 q=0 rip=500");
	assert_int_equal(fake_gprs[0].rax, 0x100);
}

static void test_a_hook_counts_exits_per_vcpu(void **state)
{
	(void)state;
	monitor("per = {} hv.on_exit('*', function(e) per[e.vcpu] = (per[e.vcpu] or 0) + 1 end)\n"
		"hv.on_poweroff(function() print('per vcpu', per[0], per[1]) end)");
	for (int i = 0; i < 5; i++)
		exit_on(i % 2, EXIT_REASON_HLT);
	poweroff_hook_run(&vcpus[1], "ACPI S5");
	expect_log("per vcpu\t3\t2");
}

static void test_hv_vcpus_lists_every_vcpu(void **state)
{
	(void)state;
	vcpus[1].exits = 9;
	expect_output("#hv.vcpus()", "3 (0x3)");
	expect_output("local v = hv.vcpus()[2] return v.index, v.apic_id, v.started, v.exits",
		      "1 (0x1)\t2 (0x2)\ttrue\t9 (0x9)");
	expect_output("local v = hv.vcpus()[3] return v.index, v.apic_id, v.started, v.exits",
		      "2 (0x2)\t4 (0x4)\tfalse\t0 (0x0)");
	vcpu_count = 1;
	expect_output("#hv.vcpus(), hv.vcpus()[1].index", "1 (0x1)\t0 (0x0)");
}

static void test_hv_stats_totals_every_vcpu_and_keeps_each(void **state)
{
	(void)state;
	vcpus[0].exits = 7;
	vcpus[0].exit_counts[EXIT_REASON_CPUID] = 5;
	vcpus[0].exit_counts[EXIT_REASON_HLT] = 2;
	vcpus[1].exits = 4;
	vcpus[1].exit_counts[EXIT_REASON_CPUID] = 4;
	expect_output("local s = hv.stats() return s.total, s.CPUID, s.HLT, s.MSR_READ",
		      "11 (0xb)\t9 (0x9)\t2 (0x2)\tnil");
	expect_output("local s = hv.stats().vcpus return s[0].exits, s[0].by_reason.CPUID, s[0].by_reason.HLT, "
		      "s[1].exits, s[1].by_reason.CPUID, s[1].by_reason.HLT, s[2].exits, next(s[2].by_reason), s[3]",
		      "7 (0x7)\t5 (0x5)\t2 (0x2)\t4 (0x4)\t4 (0x4)\tnil\t0 (0x0)\tnil\tnil");
	/* A reason without a name (35 is not assigned) keeps its number, per vCPU and in total. */
	assert_null(exit_reason_name(35));
	vcpus[1].exit_counts[35] = 3;
	expect_output("local s = hv.stats() return s[35], s.vcpus[1].by_reason[35]", "3 (0x3)\t3 (0x3)");
}

static void test_regs_of_and_vmcs_of_reach_any_vcpu_while_the_guest_is_stopped(void **state)
{
	(void)state;
	fake_gprs[1].rax = 0x42;
	fake_regs[2][TREG_RIP] = 0xfff0;	/* an AP's reset state, before its SIPI */
	set_vmcs_on(1, "GUEST_RIP", 0x9000);
	expect_output("regs.of(1).rax, regs.of(2).rip, regs.of(0).rax", "66 (0x42)\t65520 (0xfff0)\t0 (0x0)");
	expect_output("vmcs.of(1).read('GUEST_RIP'), vmcs.read('GUEST_RIP')", "36864 (0x9000)\t0 (0x0)");
	monitor("regs.of(1).rcx = 7 vmcs.of(2).write('GUEST_RIP', 0x1234)");
	assert_int_equal(fake_gprs[1].rcx, 7);
	assert_int_equal(fake_gprs[0].rcx, 0);
	assert_int_equal(get_vmcs_on(2, "GUEST_RIP"), 0x1234);
	expect_output("vmcs.of(1).info('GUEST_RIP').encoding", "26654 (0x681e)");
	expect_output("tostring(regs), tostring(regs.of(1)), tostring(vmcs.of(2))",
		      "regs (the current vCPU's)\tregs.of(1)\tread-only vmcs.of(2)");
	expect_output("regs.of(1).nope", "no register \"nope\"");
	expect_output("regs.of(1).cr0 = 0", "read-only here");
	expect_output("vmcs.of(1).write('VM_EXIT_REASON', 1)", "vmcs.write: VM_EXIT_REASON is a read-only");
	expect_output("vmcs.of(1).extra = 1", "vmcs.of(1) is read-only");
	expect_output("getmetatable(regs.of(1))", "regs");
	expect_output("rawset(regs.of(1), 'rax', 0)", "table expected, got userdata");
}

static void test_a_bad_vcpu_index_is_a_clear_error(void **state)
{
	(void)state;
	expect_output("regs.of(3)", "regs.of(3): no vCPU 3 (there are 3: 0-2)");
	expect_output("regs.of(-1)", "regs.of(-1): no vCPU -1 (there are 3: 0-2)");
	expect_output("vmcs.of(1 << 40)", "vmcs.of(1099511627776): no vCPU 1099511627776");
	expect_output("regs.of('x')", "bad argument #1 to 'of' (number expected, got string)");
	expect_output("vmcs.of(1.5)", "number has no integer representation");
	expect_output("regs.of()", "bad argument #1 to 'of' (number expected, got no value)");
	expect_output("regs.of = 1", "regs: no register \"of\"");
}

static void test_another_vcpu_is_refused_while_the_guest_runs(void **state)
{
	(void)state;
	monitor("local r1, v1 = regs.of(1), vmcs.of(1)\n"
		"hv.on_exit('hlt', function(e)\n"
		"  print('own', regs.of(e.vcpu).rax, vmcs.of(e.vcpu).read('GUEST_RIP'))\n"
		"  print('other', pcall(regs.of, 1 - e.vcpu))\n"
		"  print('other', pcall(vmcs.of, 1 - e.vcpu))\n"
		"  print('kept', pcall(function() return r1.rax end))\n"
		"  print('kept', pcall(function() return v1.read('GUEST_RIP') end))\n"
		"end)");
	fake_gprs[0].rax = 0x10;
	fake_gprs[1].rax = 0x11;
	exit_on(0, EXIT_REASON_HLT);
	expect_log("own\t16\t0");
	expect_log("other\tfalse\tregs.of(1): vCPU 1 is running; only the current vCPU (0) is reachable until the "
		   "guest stops for the debugger");
	expect_log("other\tfalse\tvmcs.of(1): vCPU 1 is running");
	expect_log("kept\tfalse\tmonitor:6: regs.of(1): vCPU 1 is running");
	expect_log("kept\tfalse\tmonitor:7: vmcs.of(1): vCPU 1 is running");
	log_len = 0;
	exit_on(1, EXIT_REASON_HLT);
	expect_log("own\t17\t0");
	expect_log("other\tfalse\tregs.of(0): vCPU 0 is running; only the current vCPU (1) is reachable");
	expect_log("kept\ttrue\t17");	/* on vCPU 1, r1 is its own */
	expect_log("kept\ttrue\t0");
	/* And a power-off hook is no exception. */
	monitor("hv.on_poweroff(function(how) print(how, hv.vcpu(), pcall(regs.of, 0)) end)");
	poweroff_hook_run(&vcpus[1], "ACPI S5");
	expect_log("ACPI S5\t1\tfalse\tregs.of(0): vCPU 0 is running");
}

static void test_a_boot_script_sees_its_own_processors_vcpu_only(void **state)
{
	(void)state;
	static const char text[] = "print('boot on', hv.vcpu(), regs.of(0).rip, pcall(regs.of, 1))";
	struct boot_info bi = { .nmodules = 1 };
	bi.modules[0] = (struct boot_module){ (uintptr_t)text, (uintptr_t)text + sizeof(text) - 1, "script" };
	fake_regs[0][TREG_RIP] = 0x7c00;
	assert_int_equal(lhv_run_boot_scripts(&bi), 0);
	expect_log("boot on\t0\t31744\tfalse\tregs.of(1): vCPU 1 is running");
}

/* ---- the lock */

static const char *reentry_monitor;
static enum hook_verdict reentry_hook;

/* A door reached again from inside Lua on the same processor. */
static void reenter(void)
{
	reentry_monitor = monitor("1 + 1");
	reentry_hook = exit_hooks_run(this_vcpu(), EXIT_REASON_CPUID, NULL, 0);
}

static void test_a_processor_inside_lua_coming_back_in_does_not_deadlock(void **state)
{
	(void)state;
	fake_on_cpuid = reenter;
	monitor("hv.on_exit('cpuid', function() print('hook ran') return 'skip' end)");
	expect_output("hv.cpuid(0) ~= nil", "true");
	assert_non_null(strstr(reentry_monitor, "lua: busy: this processor is inside Lua already"));
	assert_int_equal(reentry_hook, HOOK_DEFAULT);
	assert_null(strstr(log_text, "hook ran"));
	/* From inside a hook, too; and Lua works afterwards. */
	monitor("hv.on_exit('hlt', function() hv.cpuid(0) end)");
	exit_on(1, EXIT_REASON_HLT);
	assert_non_null(strstr(reentry_monitor, "lua: busy"));
	fake_on_cpuid = NULL;
	assert_int_equal(exit_on(1, EXIT_REASON_CPUID), HOOK_SKIP);
	expect_log("hook ran");
	expect_output("2 * 21", "42 (0x2a)");
}

static const char *other_monitor;

/* gdb on processor 0 while processor 1 is inside a hook. */
static void monitor_from_cpu0(void)
{
	unsigned was = fake_cpu;
	fake_cpu = 0;
	other_monitor = monitor("1");
	fake_cpu = was;
}

static void test_monitor_lua_gives_up_on_a_lock_another_processor_keeps(void **state)
{
	(void)state;
	lhv.ticks_per_call = 20000000;	/* the wait: one call's time */
	fake_on_cpuid = monitor_from_cpu0;
	monitor("hv.on_exit('hlt', function() hv.cpuid(0) end)");
	exit_on(1, EXIT_REASON_HLT);
	assert_non_null(other_monitor);
	if (!strstr(other_monitor, "lua: busy: vCPU 1 holds the Lua state and did not let go"))
		fail_msg("printed: %s", other_monitor);
	fake_on_cpuid = NULL;
	expect_output("hv.vcpu()", "0 (0x0)");
}

/* gdb's kill on processor 0 while processor 1 is inside a hook. */
static void poweroff_from_cpu0(void)
{
	unsigned was = fake_cpu;
	fake_cpu = 0;
	poweroff_hook_run(&vcpu0, "gdb kill");
	fake_cpu = was;
}

static void test_a_poweroff_gives_up_on_a_lock_another_processor_keeps(void **state)
{
	(void)state;
	lhv.ticks_per_call = 20000000;
	monitor("hv.on_poweroff(function() print('poweroff ran') end)\n"
		"hv.on_exit('hlt', function() hv.cpuid(0) end)");
	fake_on_cpuid = poweroff_from_cpu0;
	exit_on(1, EXIT_REASON_HLT);
	expect_log("[W] lua: power-off hooks skipped: vCPU 1 holds the Lua state and did not let go");
	assert_null(strstr(log_text, "poweroff ran"));
}

#define RACE_EXITS 3000

static void *race_cpu1(void *arg)
{
	(void)arg;
	fake_cpu = 1;
	for (int i = 0; i < RACE_EXITS; i++)
		exit_hooks_run(&vcpus[1], EXIT_REASON_CPUID, NULL, 0);
	return NULL;
}

/* Without the lock the two would run in the one Lua state at once:
 * lost counts, or a corrupted state. */
static void test_two_processors_share_the_state_one_call_at_a_time(void **state)
{
	(void)state;
	monitor("n = { [0] = 0, [1] = 0 } hv.on_exit('cpuid', function(e)\n"
		"  local s = {} for i = 1, 20 do s[i] = tostring(i) end\n"
		"  n[e.vcpu] = n[e.vcpu] + #table.concat(s) // #table.concat(s) end)\n"
		"hv.on_poweroff(function() print('counted', n[0], n[1]) end)");
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, race_cpu1, NULL), 0);
	for (int i = 0; i < RACE_EXITS; i++)
		exit_hooks_run(&vcpus[0], EXIT_REASON_CPUID, NULL, 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	poweroff_hook_run(&vcpu0, "ACPI S5");
	expect_log("counted\t3000\t3000");
	assert_null(strstr(log_text, "[E]"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_monitor_lua_sees_the_vcpu_gdb_selected),
		T(test_a_hook_runs_on_the_vcpu_that_exited),
		T(test_a_hook_counts_exits_per_vcpu),
		T(test_hv_vcpus_lists_every_vcpu),
		T(test_hv_stats_totals_every_vcpu_and_keeps_each),
		T(test_regs_of_and_vmcs_of_reach_any_vcpu_while_the_guest_is_stopped),
		T(test_a_bad_vcpu_index_is_a_clear_error),
		T(test_another_vcpu_is_refused_while_the_guest_runs),
		T(test_a_boot_script_sees_its_own_processors_vcpu_only),
		T(test_a_processor_inside_lua_coming_back_in_does_not_deadlock),
		T(test_monitor_lua_gives_up_on_a_lock_another_processor_keeps),
		T(test_a_poweroff_gives_up_on_a_lock_another_processor_keeps),
		T(test_two_processors_share_the_state_one_call_at_a_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
