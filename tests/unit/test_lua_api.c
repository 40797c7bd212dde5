/* The Lua API over a fake debug target: regs, vmcs, mem, ept, inject, hv;
 * `monitor lua` output; the limits (budget, heap cap, text-only chunks,
 * C-stack depth) and the hypervisor's own memory, all contained. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"

/* hv.trace over a ring filled as the exit path fills it (hv/trace_read.c
 * reads it): tables oldest first, a note when fewer are held, the
 * switches, and n <= 0 refused. */
static struct trace_rec lua_ring[TRACE_RECORDS];

static void test_hv_trace_returns_the_newest_exits_as_tables(void **state)
{
	(void)state;
	memset(lua_ring, 0, sizeof(lua_ring));
	lua_ring[0] = (struct trace_rec){ .tsc = 1000, .rip = 0x100a, .qual = 0, .resume = 1106, .reason = 10 };
	lua_ring[1] = (struct trace_rec){ .tsc = 2000, .rip = 0x2000, .qual = 0x3f8, .resume = 2128, .reason = 30,
					  .verdict = 3 };
	vcpu0.trace_ring = lua_ring;
	vcpu0.trace_cur = &lua_ring[2];
	expect_output("local t = hv.trace(1) return #t, t[1].reason, t[1].code, t[1].qual, t[1].ticks, t[1].hook",
		      "1 (0x1)\tIO_INSTRUCTION\t30 (0x1e)\t1016 (0x3f8)\t128 (0x80)\tresume");
	expect_output("local t, note = hv.trace(50, 0) return #t, t[1].tsc, t[2].vcpu, note",
		      "2 (0x2)\t1000 (0x3e8)\t0 (0x0)\tasked for 50, 2 held (the ring keeps 4096 per vCPU)");
	expect_output("hv.trace(0)", "hv.trace: n must be a positive number of records (got 0)");
	expect_output("hv.trace(1, 9)", "hv.trace: no vCPU 9");
	expect_output("hv.trace('sideways')", "is not clear, on or off");
	expect_output("hv.trace('clear') return #hv.trace(5)", "0 (0x0)");
	vcpu0.trace_ring = vcpu0.trace_cur = NULL;
}

static void test_ept_dirty_starts_lists_and_stops(void **state)
{
	(void)state;
	expect_output("ept.dirty()", "ept.dirty: tracking never started");
	expect_output("return ept.dirty('start')", "dirty: tracking (PML)");
	expect_output("local t, how = ept.dirty() return #t, t[1], t[2], how", "2 (0x2)\t8192 (0x2000)\t20480 (0x5000)\tPML");
	expect_output("ept.dirty('stop') return select(2, ept.dirty())", "off");
	expect_output("ept.dirty('stop')", "ept.dirty: not tracking");
	expect_output("ept.dirty('start', 'fast')", "start takes \"scan\" or nothing");
	expect_output("ept.dirty('sideways')", "is not start, stop or list");
}

static void test_monitor_prints_an_expression_in_decimal_and_hex(void **state)
{
	(void)state;
	expect_output("0x681e", "26654 (0x681e)");
	expect_output("'a', 1.5, nil", "a\t1.5\tnil");
	expect_output("print('one'); print('two')", "one\ntwo\n");
}

static void test_monitor_errors_come_back_with_a_traceback(void **state)
{
	(void)state;
	const char *out = monitor("local function f() error('boom') end f()");
	assert_non_null(strstr(out, "error: monitor:1: boom"));
	assert_non_null(strstr(out, "stack traceback:"));
	expect_output("x = = 1", "error: monitor:1:");
}

static void test_regs_read_and_write_the_guest_registers(void **state)
{
	(void)state;
	fake_gprs[0].rbx = 0x1234;
	fake_regs[0][TREG_RIP] = 0xfff0;
	expect_output("regs.rbx", "4660 (0x1234)");
	expect_output("regs.RIP", "65520 (0xfff0)");
	monitor("regs.rax = 0xdeadbeef; regs.rip = regs.rip + 2");
	assert_int_equal(fake_gprs[0].rax, 0xdeadbeef);
	assert_int_equal(fake_regs[0][TREG_RIP], 0xfff2);
	expect_output("regs.rax = -1", "");
	assert_int_equal(fake_gprs[0].rax, UINT64_MAX);
}

static void test_regs_refuses_unknown_and_read_only_registers(void **state)
{
	(void)state;
	expect_output("regs.eax", "regs: no register \"eax\"; there are rax rcx");
	expect_output("regs.cr0 = 0", "regs.cr0 is read-only here");
	expect_output("regs.rax = 1.5", "number has no integer representation");
	vcpu0.gprs = NULL;	/* boot: no VM exit yet */
	expect_output("regs.rax", "exist from its first VM exit on");
	expect_output("regs.rip", "0 (0x0)");
}

static void test_vmcs_reads_by_name_in_any_case_or_by_number(void **state)
{
	(void)state;
	set_vmcs("GUEST_RIP", 0x7c00);
	expect_output("vmcs.read('GUEST_RIP')", "31744 (0x7c00)");
	expect_output("vmcs.read('guest_rip')", "0x7c00");
	expect_output("vmcs.read(0x681E)", "0x7c00");
	expect_output("vmcs.read('0x681e')", "0x7c00");
	expect_output("vmcs.read('GEST_RIP')", "did you mean GUEST_RIP");
}

static void test_vmcs_write_refuses_read_only_and_hypervisor_fields(void **state)
{
	(void)state;
	expect_output("vmcs.write('EXIT_QUALIFICATION', 1)", "vmcs.write: EXIT_QUALIFICATION is a read-only VM-exit information field");
	expect_output("vmcs.write('HOST_RIP', 0)", "belongs to the hypervisor");
	expect_output("vmcs.write('GUEST_RFLAGS', 0x202)", "true");
	expect_output("vmcs.read('GUEST_RFLAGS')", "0x202");
}

static void test_vmcs_fields_and_info_take_encodings_apart(void **state)
{
	(void)state;
	expect_output("#vmcs.fields() == #vmcs.fields('control') + #vmcs.fields('exit-info') + "
		      "#vmcs.fields('guest') + #vmcs.fields('host')", "true");
	expect_output("local f = vmcs.info('GUEST_RIP') return f.name, f.encoding, f.width, f.group, f.index",
		      "GUEST_RIP\t26654 (0x681e)\t64 (0x40)\tguest\t15 (0xf)");
	expect_output("vmcs.info(0x4402).read_only", "true");
	expect_output("vmcs.fields('nonsense')", "no group \"nonsense\"");
}

static void test_mem_reads_and_writes_sized_integers_and_strings(void **state)
{
	(void)state;
	monitor("mem.write_phys(0x1000, 'u32', 0x11223344)");
	assert_int_equal(guest_ram[0x1000], 0x44);
	assert_int_equal(guest_ram[0x1003], 0x11);
	expect_output("mem.read_phys(0x1000, 'u16')", "0x3344");
	expect_output("mem.read(0xffff800000001000, 'u64')", "(0x11223344)");
	monitor("mem.write(0xffff800000002000, 'hello')");
	assert_memory_equal(guest_ram + 0x2000, "hello", 5);
	expect_output("mem.read(0xffff800000002000, 5)", "hello");
	expect_output("mem.virt_to_phys(0xffff800000002000)", "8192 (0x2000)");
	expect_output("mem.virt_to_phys(0x1000)", "nil\tguest-virtual 0x1000 is not mapped");
}

static void test_mem_refuses_unmapped_and_hypervisor_memory(void **state)
{
	(void)state;
	expect_output("mem.read(0x1000, 'u8')", "guest-virtual 0x1000 (1 bytes) is not mapped");
	expect_output("mem.read_phys(0x200000, 4)", "lies outside the guest's memory");
	expect_output("mem.write_phys(0x800000, 'x')", "is the hypervisor's memory");
	expect_output("mem.read_phys(0, 'u128')", "bad argument #2");
	expect_output("mem.read_phys(0, 2000000)", "a byte count is 0-1048576");
}

static void test_ept_query_and_protect(void **state)
{
	(void)state;
	expect_output("mem.write_phys(0, 'x') return ept.protect(0x3000, 0x2000, 'r-x')", "true");
	assert_int_equal(ept_perms[3], EPT_R | EPT_X);
	assert_int_equal(ept_perms[5], EPT_RWX);
	expect_output("local m = ept.query(0x3010) return m.present, m.perms, m.memtype, m.hpa, m.level",
		      "true\tr-x\tWB\t1073754128 (0x40003010)\t1 (0x1)");
	expect_output("ept.query(0x100000).present", "false");
	expect_output("ept.protect(0x3000, 0x1000, 'rw')", "rights are three letters");
}

static void test_ept_protect_over_the_hypervisor_region_is_refused(void **state)
{
	(void)state;
	expect_output("ept.protect(0x7ff000, 0x2000, '---')", "ept.protect: 0x7ff000+0x2000 overlaps the hypervisor's memory");
	expect_output("ept.protect(0x200000, 0x1000, '---')", "is not all mapped guest memory");
	expect_output("1", "1 (0x1)");	/* still alive */
}

static void test_bp_adds_lists_and_removes_hidden_breakpoints_and_says_why_it_refuses(void **state)
{
	(void)state;
	expect_output("return bp.add(0xffff800000001000, function() end), #bp.list(), bp.list()[1].hits",
		      "1 (0x1)\t1 (0x1)\t0 (0x0)");
	expect_output("bp.add(0xffff800000800000, function() end)",
		      "bp.add: no hidden breakpoint at 0xffff800000800000: it is in the hypervisor's region");
	expect_output("bp.add(0x1000, function() end)", "it is not guest RAM (MMIO such as the xAPIC page, a hole) or not mapped");
	expect_output("bp.add(0xffff800000001000)", "bad argument #2");
	expect_output("return bp.remove(1), bp.remove(1), #bp.list()", "true\tfalse\t0 (0x0)");
}

static void test_hv_msr_reads_lstar_and_refuses_other_msrs(void **state)
{
	(void)state;
	expect_output("string.format('%x', hv.msr(0xc0000082))", "ffffffff81c00080");
	expect_output("hv.msr(0x10)", "hv.msr: MSR 0x10: only STAR, LSTAR, CSTAR, FMASK");
	expect_output("hv.msr(-1)", "an MSR number is 32 bits");
}

static void test_inject_queues_events_and_refuses_bad_ones(void **state)
{
	(void)state;
	expect_output("inject.exception(14, 2)", "true");
	assert_int_equal(pending_exception, 14);
	assert_true(pending_has_error);
	assert_int_equal(pending_error, 2);
	expect_output("inject.exception(6)", "already pending");
	pending_exception = -1;
	expect_output("inject.exception(2)", "exceptions are 0-31 except 2, 15 and 22-27");
	expect_output("inject.exception(3, 0)", "inject.exception: exception 3 pushes no error code");
	expect_output("inject.exception(300)", "a vector is 0-255");
	expect_output("inject.interrupt(0x30)", "true");
	assert_int_equal(pending_irq, 0x30);
	expect_output("inject.nmi()", "true");
	expect_output("inject.nmi()", "already pending");
}

static void test_hv_stats_vcpu_reason_and_log(void **state)
{
	(void)state;
	vcpu0.exits = 7;
	vcpu0.exit_counts[EXIT_REASON_CPUID] = 5;
	vcpu0.exit_counts[EXIT_REASON_HLT] = 2;
	expect_output("local s = hv.stats() return s.total, s.CPUID, s.HLT, s.MSR_READ", "7 (0x7)\t5 (0x5)\t2 (0x2)\tnil");
	expect_output("hv.vcpu()", "0 (0x0)");
	expect_output("hv.reason('cpuid')", "10 (0xa)\tCPUID");
	expect_output("hv.reason('EXIT_REASON_EPT_VIOLATION')", "48 (0x30)");
	expect_output("hv.reason('CPIUD')", "did you mean CPUID");
	expect_output("string.pack('<I4I4I4', select(2, hv.cpuid(0)))", "GenuntelineI");
	expect_output("select(3, hv.cpuid(1))", "0x7ffaf39f");
	expect_output("hv.cpuid(-1)", "a leaf is 32 bits");
	monitor("hv.log('hello', 42)");
	expect_log("[I] lua: hello\t42");
}

static void test_an_infinite_loop_stops_at_the_budget_even_inside_pcall(void **state)
{
	(void)state;
	expect_output("while true do end", "instruction budget exhausted");
	expect_output("while true do pcall(function() while true do end end) end", "instruction budget exhausted");
	expect_output("local co = coroutine.wrap(function() while true do pcall(error) end end) co()",
		      "instruction budget exhausted");
	expect_output("1 + 1", "2 (0x2)");	/* a fresh budget for the next call */
}

static void test_a_memory_bomb_fails_with_errmem_and_the_state_survives(void **state)
{
	(void)state;
	expect_output("local t = {} for i = 1, 1e7 do t[i] = ('x'):rep(1000) .. i end", "not enough memory");
	expect_output("local s = ('x'):rep(1 << 30)", "not enough memory");
	expect_output("collectgarbage() return 'alive'", "alive");
	assert_true(test_heap.peak <= HEAP_SIZE);
}

static void test_bytecode_is_refused_everywhere(void **state)
{
	(void)state;
	expect_output("\x1bLua\x54", "attempt to load a binary chunk");
	expect_output("load('\\27Lua\\84\\0')", "nil\tattempt to load a binary chunk (mode is 't')");
	expect_output("load('\\27Lua', 'x', 'b')", "attempt to load a binary chunk");
	expect_output("string.dump", "nil");
	expect_output("dofile == nil and loadfile == nil", "true");
	expect_output("load('return 6 * 7')()", "42 (0x2a)");
}

static void test_deep_recursion_is_an_error_not_a_crash(void **state)
{
	(void)state;
	expect_output("local function f() return pcall(f) end return f()", "C stack overflow");
	expect_output("local function f(n) return 1 + f(n + 1) end f(1)", "error: not enough memory");
	expect_output("local s = string.rep('(', 500) .. '1' .. string.rep(')', 500) return load('return ' .. s)",
		      "nil\tC stack overflow");
	expect_output("1", "1 (0x1)");
}

static void test_pathological_pattern_is_stopped(void **state)
{
	(void)state;
	expect_output("('a'):rep(5000):find('.-.-.-.-b')", "instruction budget exhausted in pattern matching");
	expect_output("'ok'", "ok");
}

static void test_boot_scripts_run_in_order_with_their_arguments_and_names(void **state)
{
	(void)state;
	static const char ok[] = "print('first', ...)";
	static const char bad[] = "error('nope')";
	static const char third[] = "print('third ran')";
	static const char named[] = "local x = 1\nerror('named ' .. ...)";
	struct boot_info bi = { .nmodules = 5 };
	bi.modules[0] = (struct boot_module){ (uintptr_t)ok, (uintptr_t)ok + sizeof(ok) - 1, "script a b" };
	bi.modules[1] = (struct boot_module){ 0, 0, "guest" };
	bi.modules[2] = (struct boot_module){ (uintptr_t)bad, (uintptr_t)bad + sizeof(bad) - 1, "script" };
	bi.modules[3] = (struct boot_module){ (uintptr_t)third, (uintptr_t)third + sizeof(third) - 1, "scripts" };
	bi.modules[4] = (struct boot_module){ (uintptr_t)named, (uintptr_t)named + sizeof(named) - 1,
					      "script:walk.lua arg" };
	assert_int_equal(lhv_run_boot_scripts(&bi), 2);
	expect_log("[I] lua: first\ta\tb");
	expect_log("[E] lua: script 2: script 2:1: nope");
	expect_log("[E] lua:   stack traceback:");
	assert_null(strstr(log_text, "third ran"));	/* "scripts" is another tag */
	/* A script:NAME tag names the chunk: its file, in the message and the traceback. */
	expect_log("[E] lua: walk.lua: walk.lua:2: named arg");
	expect_log("[E] lua:   \twalk.lua:2: in main chunk");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_monitor_prints_an_expression_in_decimal_and_hex),
		T(test_hv_trace_returns_the_newest_exits_as_tables),
		T(test_ept_dirty_starts_lists_and_stops),
		T(test_monitor_errors_come_back_with_a_traceback),
		T(test_regs_read_and_write_the_guest_registers),
		T(test_bp_adds_lists_and_removes_hidden_breakpoints_and_says_why_it_refuses),
		T(test_hv_msr_reads_lstar_and_refuses_other_msrs),
		T(test_regs_refuses_unknown_and_read_only_registers),
		T(test_vmcs_reads_by_name_in_any_case_or_by_number),
		T(test_vmcs_write_refuses_read_only_and_hypervisor_fields),
		T(test_vmcs_fields_and_info_take_encodings_apart),
		T(test_mem_reads_and_writes_sized_integers_and_strings),
		T(test_mem_refuses_unmapped_and_hypervisor_memory),
		T(test_ept_query_and_protect),
		T(test_ept_protect_over_the_hypervisor_region_is_refused),
		T(test_inject_queues_events_and_refuses_bad_ones),
		T(test_hv_stats_vcpu_reason_and_log),
		T(test_an_infinite_loop_stops_at_the_budget_even_inside_pcall),
		T(test_a_memory_bomb_fails_with_errmem_and_the_state_survives),
		T(test_bytecode_is_refused_everywhere),
		T(test_deep_recursion_is_an_error_not_a_crash),
		T(test_pathological_pattern_is_stopped),
		T(test_boot_scripts_run_in_order_with_their_arguments_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
