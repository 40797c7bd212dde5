/* Lua's apic table (lua/lhv_apic.c) over the fake target's known virtual-
 * APIC page (tests/unit/fake_target.c): the view as a table, one register,
 * the decoded lines, another vCPU while stopped, and bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"

static void test_apic_view_gives_the_page_as_a_table(void **state)
{
	(void)state;
	expect_output("local a = apic.view() return a.mode, a.id, a.tpr, a.ppr, a.rvi, a.svi",
		      "virtual\t0 (0x0)\t32 (0x20)\t32 (0x20)\t49 (0x31)\t0 (0x0)");
	expect_output("local a = apic.view() return #a.irr, a.irr[1], #a.isr, a.svr",
		      "1 (0x1)\t49 (0x31)\t0 (0x0)\t511 (0x1ff)");
	expect_output("local a = apic.view() return a.lvt.timer, a.timer.initial, a.timer.divide, a.timer.mode, "
		      "a.timer.current", "131308 (0x200ec)\t100000 (0x186a0)\t16 (0x10)\tperiodic\tnil");
}

static void test_apic_reg_reads_one_register_and_refuses_a_bad_offset(void **state)
{
	(void)state;
	expect_output("apic.reg(0x80), apic.reg(0x210)", "32 (0x20)\t131072 (0x20000)");
	expect_output("apic.reg(0x84)", "an xAPIC register offset: 0x000-0x3f0, a multiple of 16");
	expect_output("apic.reg(0x400)", "an xAPIC register offset");
}

static void test_apic_show_is_the_monitor_view(void **state)
{
	(void)state;
	expect_output("apic.show():match('[^\\n]*RVI[^\\n]*')", "RVI  0x31 (deliverable when IF=1)   SVI 0x00 "
		      "(nothing in service)");
	expect_output("select(2, apic.show():gsub('\\n', ''))", "17 (0x11)");
}

static void test_another_vcpu_is_reachable_while_stopped_and_a_bad_one_is_refused(void **state)
{
	(void)state;
	expect_output("apic.view(1).id", "1 (0x1)");
	expect_output("apic.view(7)", "apic.view(7): no vCPU 7 (there are 3: 0-2)");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_apic_view_gives_the_page_as_a_table),
		T(test_apic_reg_reads_one_register_and_refuses_a_bad_offset),
		T(test_apic_show_is_the_monitor_view),
		T(test_another_vcpu_is_reachable_while_stopped_and_a_bad_one_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
