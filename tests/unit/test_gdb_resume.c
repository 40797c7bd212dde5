/* Stopping and going: stop replies for every kind of stop (expedited
 * registers, swbreak/hwbreak/watch reasons, the console reason), the resume
 * packets c, s, C, S and vCont with their signals and addresses, a dead
 * guest that cannot resume, a failed entry explained, rechecked and
 * retried, detach, kill, power-off (W00), and a gdb that resumed and waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gdbstub/stub.h"
#include "platform/errno.h"
#include "tests/unit/fake_target.h"

static struct gdb_stub *g = &gdb_stub0;

/* The expedited registers of the fake's reset state: rbp, rsp, rip. */
#define REGS "06:5511000000000000;07:f01f400000000000;10:1000400000000000;"

static int serve(struct target_stop stop)
{
	return fake_serve(g, &stop);
}

static void test_the_stop_reply_names_the_thread_and_expedites_fp_sp_pc(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("?"), "T05thread:01;core:0;" REGS);
}

static void test_an_unreadable_expedited_register_is_left_out(void **state)
{
	(void)state;
	fake.reg_read_error[5] = -EIO;	/* rbp */
	assert_string_equal(fake_ask("?"), "T05thread:01;core:0;07:f01f400000000000;10:1000400000000000;");
}

static void test_a_software_breakpoint_says_swbreak_to_a_gdb_that_asked(void **state)
{
	(void)state;
	fake_line_packet("qSupported:swbreak+;hwbreak+");
	fake_line_packet(FAKE_XML);
	fake_line_packet("?");
	serve((struct target_stop){ .kind = STOP_SW_BREAKPOINT });
	fake_line_next(NULL);
	fake_line_next(NULL);
	assert_string_equal(fake_line_next(NULL), "T05thread:01;core:0;" REGS "swbreak:;");
}

static void test_an_older_gdb_gets_no_swbreak_or_hwbreak(void **state)
{
	(void)state;
	fake_line_packet("?");
	serve((struct target_stop){ .kind = STOP_SW_BREAKPOINT });
	assert_string_equal(fake_line_next(NULL), "T05thread:01;core:0;" REGS);
	fake_line_packet("?");
	serve((struct target_stop){ .kind = STOP_HW_BREAKPOINT });
	assert_string_equal(fake_line_next(NULL), "T05thread:01;core:0;" REGS);
}

static void test_a_hardware_breakpoint_says_hwbreak(void **state)
{
	(void)state;
	fake_line_packet("qSupported:hwbreak+");
	fake_line_packet(FAKE_XML);
	fake_line_packet("?");
	serve((struct target_stop){ .kind = STOP_HW_BREAKPOINT });
	fake_line_next(NULL);
	fake_line_next(NULL);
	assert_string_equal(fake_line_next(NULL), "T05thread:01;core:0;" REGS "hwbreak:;");
}

static void test_watchpoints_say_which_kind_and_the_data_address(void **state)
{
	(void)state;
	static const struct {
		enum target_bp_type type;
		const char *reason;
	} cases[] = {
		{ BP_WRITE, "watch:400100;" }, { BP_READ, "rwatch:400100;" }, { BP_ACCESS, "awatch:400100;" },
	};
	for (size_t i = 0; i < 3; i++) {
		fake_line_packet("?");
		serve((struct target_stop){ .kind = STOP_WATCHPOINT, .addr = 0x400100,
					    .watch_type = cases[i].type });
		const char *r = fake_line_next(NULL);
		assert_non_null(r);
		assert_non_null(strstr(r, cases[i].reason));
		assert_int_equal(strlen(strstr(r, cases[i].reason)), strlen(cases[i].reason));
	}
}

static void test_a_break_in_is_SIGINT_and_a_dead_guest_SIGKILL(void **state)
{
	(void)state;
	fake_line_packet("?");
	serve((struct target_stop){ .kind = STOP_INTERRUPT });
	assert_string_equal(fake_line_next(NULL), "T02thread:01;core:0;" REGS);
	fake_line_packet("?");
	serve((struct target_stop){ .kind = STOP_GUEST_DEAD, .reason = "triple fault" });
	assert_string_equal(fake_line_next(NULL), "T09thread:01;core:0;" REGS);
}

static void test_c_resumes_the_guest_with_no_reply(void **state)
{
	(void)state;
	fake_line_packet("c");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_RESUMED);
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(fake.resume_mode, RESUME_CONTINUE);
	assert_int_equal(fake.resume_signal, -1);
	assert_null(fake_line_next(NULL));
}

static void test_the_next_stop_is_reported_to_the_waiting_gdb(void **state)
{
	(void)state;
	fake_line_packet("qSupported:swbreak+");
	fake_line_packet(FAKE_XML);
	fake_line_packet("c");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	fake_line_next(NULL);
	fake_line_next(NULL);
	assert_int_equal(serve((struct target_stop){ .kind = STOP_SW_BREAKPOINT }), FAKE_IDLE);
	assert_string_equal(fake_line_next(NULL), "T05thread:01;core:0;" REGS "swbreak:;");
	assert_null(fake_line_next(NULL));
	serve((struct target_stop){ .kind = STOP_STEP });
	assert_null(fake_line_next(NULL));	/* reported once */
}

static void test_a_break_in_while_running_is_reported_as_SIGINT(void **state)
{
	(void)state;
	fake_line_packet("c");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	fake_line_str("\x03");
	assert_true(gdb_poll(g));
	serve((struct target_stop){ .kind = STOP_INTERRUPT });
	assert_string_equal(fake_line_next(NULL), "T02thread:01;core:0;" REGS);
}

static void test_a_new_gdb_connecting_to_a_running_guest_gets_no_stale_stop_reply(void **state)
{
	(void)state;
	fake_line_packet("c");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	fake_line_str("+");
	fake_line_packet("qSupported:swbreak+");
	assert_true(gdb_poll(g));
	serve((struct target_stop){ .kind = STOP_INTERRUPT });
	const char *r = fake_line_next(NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "PacketSize="));
}

static void test_a_hook_stop_tells_gdb_its_reason_on_the_console(void **state)
{
	(void)state;
	fake_line_packet("c");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	serve((struct target_stop){ .kind = STOP_HOOK, .reason = "cpuid hook asked to stop" });
	const char *o = fake_line_next(NULL);
	assert_non_null(o);
	assert_int_equal(o[0], 'O');
	assert_string_equal(fake_hex_text(o + 1), "vmxdbg: cpuid hook asked to stop\n");
	assert_string_equal(fake_line_next(NULL), "T05thread:01;core:0;" REGS);
}

static void test_c_with_an_address_moves_rip_first(void **state)
{
	(void)state;
	fake_line_packet("c400040");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_RESUMED);
	assert_int_equal(fake.regs[TREG_RIP], 0x400040);
}

static void test_c_with_a_bad_address_is_E22_and_does_not_resume(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("c40zz"), "E22");
	assert_int_equal(fake.resumes, 0);
}

static void test_s_steps_one_instruction(void **state)
{
	(void)state;
	fake_line_packet("s");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_RESUMED);
	assert_int_equal(fake.resume_mode, RESUME_STEP);
	fake_line_packet("s400020");
	serve((struct target_stop){ .kind = STOP_STEP });
	assert_int_equal(fake.resumes, 2);
	assert_int_equal(fake.regs[TREG_RIP], 0x400021);
}

static void test_signals_map_to_the_exceptions_they_mean(void **state)
{
	(void)state;
	static const struct {
		const char *pkt;
		int vector;
	} cases[] = {
		{ "C0b", 13 }, { "C04", 6 }, { "C08", 0 }, { "S0b", 13 },
		{ "C05", -1 }, { "C02", -1 }, { "C09", -1 }, { "C00", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_line_packet(cases[i].pkt);
		assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_RESUMED);
		assert_int_equal(fake.resume_signal, cases[i].vector);
		fake_line_next(NULL);
	}
	assert_int_equal(fake.resume_mode, RESUME_CONTINUE);
}

static void test_a_signal_without_a_meaning_for_a_guest_is_E22(void **state)
{
	(void)state;
	uint64_t rip = fake.regs[TREG_RIP];
	assert_string_equal(fake_ask("C0a"), "E22");
	assert_string_equal(fake_ask("C1e;400040"), "E22");
	assert_int_equal(fake.resumes, 0);
	assert_int_equal(fake.regs[TREG_RIP], rip);	/* RIP did not move either */
}

static void test_C_and_S_take_an_address_after_a_semicolon(void **state)
{
	(void)state;
	fake_line_packet("S04;400030");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_RESUMED);
	assert_int_equal(fake.resume_mode, RESUME_STEP);
	assert_int_equal(fake.resume_signal, 6);
	assert_int_equal(fake.regs[TREG_RIP], 0x400031);
}

static void test_malformed_C_and_S_are_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("C"), "E22");
	assert_string_equal(fake_ask("C0b;"), "E22");
	assert_string_equal(fake_ask("C0b,400000"), "E22");
	assert_string_equal(fake_ask("Szz"), "E22");
	assert_int_equal(fake.resumes, 0);
}

static void test_vCont_query_lists_the_actions(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("vCont?"), "vCont;c;C;s;S;t");
}

static void test_vCont_gives_our_thread_its_action(void **state)
{
	(void)state;
	static const struct {
		const char *pkt;
		enum target_resume_mode mode;
		int vector;
	} cases[] = {
		{ "vCont;c", RESUME_CONTINUE, -1 },
		{ "vCont;s:1", RESUME_STEP, -1 },
		{ "vCont;s:1;c", RESUME_STEP, -1 },
		{ "vCont;s:0", RESUME_STEP, -1 },
		{ "vCont;S0b:01", RESUME_STEP, 13 },
		{ "vCont;C04:-1", RESUME_CONTINUE, 6 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_line_packet(cases[i].pkt);
		assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_RESUMED);
		assert_int_equal(fake.resume_mode, cases[i].mode);
		assert_int_equal(fake.resume_signal, cases[i].vector);
		fake_line_next(NULL);
	}
}

static void test_vCont_t_answers_at_once_with_signal_0(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("vCont;t"), "T00thread:01;core:0;" REGS);
	assert_int_equal(fake.resumes, 0);
}

static void test_malformed_vCont_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("vCont;r400000,400010"), "E22");
	assert_string_equal(fake_ask("vCont;c:zz"), "E22");
	assert_string_equal(fake_ask("vCont;c:2"), "E02");	/* no such thread */
	assert_string_equal(fake_ask("vCont;"), "E22");
	assert_string_equal(fake_ask("vCont;C"), "E22");
	assert_string_equal(fake_ask("vCont;cc"), "E22");
	assert_string_equal(fake_ask("vCont;c;x"), "E22");
	assert_string_equal(fake_ask("vCont;C1e"), "E22");
	assert_int_equal(fake.resumes, 0);
}

static void test_a_dead_guest_that_cannot_resume_is_reported_at_once(void **state)
{
	(void)state;
	fake.dead = true;
	fake_line_packet("c");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_GUEST_DEAD, .reason = "triple fault" }),
			 FAKE_IDLE);
	const char *o = fake_line_next(NULL);
	assert_non_null(o);
	assert_string_equal(fake_hex_text(o + 1), "vmxdbg: the guest cannot run: triple fault\n");
	assert_string_equal(fake_line_next(NULL), "T09thread:01;core:0;" REGS);
	assert_string_equal(fake_ask("qAttached"), "1");	/* still serving */
	assert_int_equal(fake.rechecks, 0);		/* nothing to fix: no checker */
}

/* A failed VM entry: a gdb that resumed the guest hears the reason and the
 * checker's rules on its console, then the stop (SIGKILL). */
static void test_a_failed_entry_reaches_gdb_rule_by_rule(void **state)
{
	(void)state;
	fake_line_packet("c");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	fake.dead = fake.entry_failed = true;
	fake.broken_rules = 2;
	serve((struct target_stop){ .kind = STOP_GUEST_DEAD, .reason = "VM entry failed" });
	assert_string_equal(fake_hex_text(fake_line_next(NULL) + 1), "vmxdbg: the guest cannot run: VM entry failed\n");
	assert_string_equal(fake_hex_text(fake_line_next(NULL) + 1), "vmxdbg: vmentry:   rule 1 is broken\n");
	assert_string_equal(fake_hex_text(fake_line_next(NULL) + 1), "vmxdbg: vmentry:   rule 2 is broken\n");
	assert_string_equal(fake_line_next(NULL), "T09thread:01;core:0;" REGS);
}

static void test_continue_after_a_failed_entry_rechecks_and_says_what_is_still_broken(void **state)
{
	(void)state;
	fake.dead = fake.entry_failed = true;
	fake.broken_rules = 1;
	fake_line_packet("c");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_GUEST_DEAD }), FAKE_IDLE);
	assert_int_equal(fake.rechecks, 1);
	assert_int_equal(fake.resumes, 0);
	assert_string_equal(fake_hex_text(fake_line_next(NULL) + 1), "vmxdbg: the guest cannot run: VM entry failed\n");
	assert_string_equal(fake_hex_text(fake_line_next(NULL) + 1), "vmxdbg: vmentry:   rule 1 is broken\n");
	assert_string_equal(fake_line_next(NULL), "T09thread:01;core:0;" REGS);
}

static void test_continue_after_a_fixed_entry_enters_the_guest_again(void **state)
{
	(void)state;
	fake.dead = fake.entry_failed = true;
	fake.broken_rules = 0;		/* `monitor vmcs` fixed it */
	fake_line_packet("c");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_GUEST_DEAD }), GDB_RESUMED);
	assert_int_equal(fake.rechecks, 1);
	assert_int_equal(fake.resumes, 1);
	assert_false(fake.dead);
	assert_null(fake_line_next(NULL));	/* the stop reply comes with the next stop */
}

static void test_detach_never_revives_a_dead_guest(void **state)
{
	(void)state;
	fake.dead = fake.entry_failed = true;
	fake_line_packet("D");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_GUEST_DEAD }), GDB_DETACHED);
	assert_true(fake.dead);
	assert_int_equal(fake.rechecks, 0);
}

/* Power-off: gdb, waiting on `continue`, hears an exit ("[Inferior 1
 * (Remote target) exited normally]"), not a closed line. */
static void test_a_power_off_is_W00_to_the_waiting_gdb(void **state)
{
	(void)state;
	fake_ask("QStartNoAckMode");
	fake_line_packet("c");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	line.out_pos = line.out_len;
	assert_true(gdb_exited(g, 0));
	assert_string_equal(fake_line_rest(), "$W00#b7");
	assert_false(gdb_exited(g, 0));		/* once */
}

static void test_a_power_off_with_no_gdb_waiting_sends_nothing(void **state)
{
	(void)state;
	fake_line_packet("D");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	line.out_pos = line.out_len;
	assert_false(gdb_exited(g, 0));
	assert_string_equal(fake_line_rest(), "");
}

static void test_D_answers_OK_clears_breakpoints_and_lets_the_guest_run(void **state)
{
	(void)state;
	fake_ask("Z0,400010,1");
	fake_line_packet("D");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_DETACHED);
	assert_string_equal(fake_line_next(NULL), "OK");
	assert_int_equal(fake.bp_clear_calls, 1);
	assert_int_equal(fake_bp_count(BP_SOFTWARE), 0);
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(fake.resume_mode, RESUME_DETACH);
}

static void test_D_with_a_pid_is_accepted(void **state)
{
	(void)state;
	fake_line_packet("D;1");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_DETACHED);
}

static void test_after_D_the_next_gdb_starts_in_ack_mode(void **state)
{
	(void)state;
	fake_ask("QStartNoAckMode");
	fake_line_packet("D");
	serve((struct target_stop){ .kind = STOP_ATTACH });
	fake_line_next(NULL);
	line.acks = 0;
	fake_line_packet("qAttached");
	serve((struct target_stop){ .kind = STOP_INTERRUPT });
	assert_string_equal(fake_line_next(NULL), "1");
	assert_int_equal(line.acks, 1);
}

static void test_k_kills_without_a_reply_or_a_resume(void **state)
{
	(void)state;
	fake_ask("Z1,400010,1");
	fake_line_packet("k");
	assert_int_equal(serve((struct target_stop){ .kind = STOP_ATTACH }), GDB_KILLED);
	assert_null(fake_line_next(NULL));
	assert_int_equal(fake.bp_clear_calls, 1);
	assert_int_equal(fake.resumes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_the_stop_reply_names_the_thread_and_expedites_fp_sp_pc, fake_setup_agreed),
		cmocka_unit_test_setup(test_an_unreadable_expedited_register_is_left_out, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_software_breakpoint_says_swbreak_to_a_gdb_that_asked, fake_setup_agreed),
		cmocka_unit_test_setup(test_an_older_gdb_gets_no_swbreak_or_hwbreak, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_hardware_breakpoint_says_hwbreak, fake_setup_agreed),
		cmocka_unit_test_setup(test_watchpoints_say_which_kind_and_the_data_address, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_break_in_is_SIGINT_and_a_dead_guest_SIGKILL, fake_setup_agreed),
		cmocka_unit_test_setup(test_c_resumes_the_guest_with_no_reply, fake_setup_agreed),
		cmocka_unit_test_setup(test_the_next_stop_is_reported_to_the_waiting_gdb, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_break_in_while_running_is_reported_as_SIGINT, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_new_gdb_connecting_to_a_running_guest_gets_no_stale_stop_reply, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_hook_stop_tells_gdb_its_reason_on_the_console, fake_setup_agreed),
		cmocka_unit_test_setup(test_c_with_an_address_moves_rip_first, fake_setup_agreed),
		cmocka_unit_test_setup(test_c_with_a_bad_address_is_E22_and_does_not_resume, fake_setup_agreed),
		cmocka_unit_test_setup(test_s_steps_one_instruction, fake_setup_agreed),
		cmocka_unit_test_setup(test_signals_map_to_the_exceptions_they_mean, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_signal_without_a_meaning_for_a_guest_is_E22, fake_setup_agreed),
		cmocka_unit_test_setup(test_C_and_S_take_an_address_after_a_semicolon, fake_setup_agreed),
		cmocka_unit_test_setup(test_malformed_C_and_S_are_E22, fake_setup_agreed),
		cmocka_unit_test_setup(test_vCont_query_lists_the_actions, fake_setup_agreed),
		cmocka_unit_test_setup(test_vCont_gives_our_thread_its_action, fake_setup_agreed),
		cmocka_unit_test_setup(test_vCont_t_answers_at_once_with_signal_0, fake_setup_agreed),
		cmocka_unit_test_setup(test_malformed_vCont_is_E22, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_dead_guest_that_cannot_resume_is_reported_at_once, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_failed_entry_reaches_gdb_rule_by_rule, fake_setup_agreed),
		cmocka_unit_test_setup(test_continue_after_a_failed_entry_rechecks_and_says_what_is_still_broken,
				       fake_setup_agreed),
		cmocka_unit_test_setup(test_continue_after_a_fixed_entry_enters_the_guest_again, fake_setup_agreed),
		cmocka_unit_test_setup(test_detach_never_revives_a_dead_guest, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_power_off_is_W00_to_the_waiting_gdb, fake_setup_agreed),
		cmocka_unit_test_setup(test_a_power_off_with_no_gdb_waiting_sends_nothing, fake_setup_agreed),
		cmocka_unit_test_setup(test_D_answers_OK_clears_breakpoints_and_lets_the_guest_run, fake_setup_agreed),
		cmocka_unit_test_setup(test_D_with_a_pid_is_accepted, fake_setup_agreed),
		cmocka_unit_test_setup(test_after_D_the_next_gdb_starts_in_ack_mode, fake_setup_agreed),
		cmocka_unit_test_setup(test_k_kills_without_a_reply_or_a_resume, fake_setup_agreed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
