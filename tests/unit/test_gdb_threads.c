/* vCPUs as threads, over a fake target with three vCPUs (vCPU 2 waits for
 * its SIPI), each with its own registers and its own view of FAKE_VA_DATA:
 * the thread list in every form gdb and lldb ask for, stop replies naming
 * the vCPU that stopped, Hg for registers, memory, breakpoints and
 * `monitor`, Hc and vCont for who runs and who steps, a vCPU that cannot
 * run, and bad thread ids and vCont lists. */
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

/* vCPU 1's rbp, rsp and rip as stop replies expedite them (fake_set_vcpus). */
#define AP1_REGS "06:5511010000000000;07:f01e400000000000;10:3000400000000000;"
#define BSP_REGS "06:5511000000000000;07:f01f400000000000;10:1000400000000000;"

static int setup(void **state)
{
	fake_setup_agreed(state);
	fake_set_vcpus(3);
	return 0;
}

#define MAX_REPLIES 16
static char replies[MAX_REPLIES][4096];

/* The packets, served in one stop of vCPU `vcpu` (every stop selects the
 * vCPU that stopped anew); replies[i] is the i-th packet the stub sent, ""
 * past the last.  Returns the outcome. */
static int serve_at(unsigned vcpu, const char *const *packets)
{
	for (size_t i = 0; packets[i]; i++)
		fake_line_packet(packets[i]);
	int outcome = fake_serve(g, &(struct target_stop){ .kind = STOP_SW_BREAKPOINT, .vcpu = vcpu });
	for (size_t i = 0; i < MAX_REPLIES; i++) {
		const char *r = fake_line_next(NULL);
		snprintf(replies[i], sizeof(replies[i]), "%s", r ? r : "");
	}
	return outcome;
}

#define SERVE_AT(vcpu, ...) serve_at(vcpu, (const char *const[]){ __VA_ARGS__, NULL })

static const char *ask_at(unsigned vcpu, const char *packet)
{
	SERVE_AT(vcpu, packet);
	return replies[0];
}

/* v as gdb sends a 64-bit register: little-endian hex. */
static const char *le64(uint64_t v)
{
	static char buf[17];
	for (int i = 0; i < 8; i++)
		sprintf(buf + 2 * i, "%02x", (unsigned)(v >> (8 * i)) & 0xff);
	return buf;
}

static void assert_no_resume(void)
{
	assert_int_equal(fake.resumes, 0);
}

/* ---- the thread list ---- */

static void test_qfThreadInfo_lists_every_vcpu(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("qfThreadInfo"), "m01,02,03");
	assert_string_equal(fake_ask("qsThreadInfo"), "l");
}

static void test_the_xml_thread_list_gives_each_vcpu_its_core_name_and_apic_id(void **state)
{
	(void)state;
	static const char want[] = "<threads><thread id=\"01\" core=\"0\" name=\"vCPU 0\">APIC id 0</thread>"
				   "<thread id=\"02\" core=\"1\" name=\"vCPU 1\">APIC id 2</thread>"
				   "<thread id=\"03\" core=\"2\" name=\"vCPU 2\">APIC id 4, waiting for SIPI</thread>"
				   "</threads>";
	char doc[512] = "", pkt[64];
	size_t total = 0;
	for (int round = 0; round < 100; round++) {	/* 16 bytes a piece */
		snprintf(pkt, sizeof(pkt), "qXfer:threads:read::%zx,10", total);
		const char *r = fake_ask(pkt);
		assert_true(r[0] == 'm' || r[0] == 'l');
		memcpy(doc + total, r + 1, strlen(r + 1));
		total += strlen(r + 1);
		if (r[0] == 'l')
			break;
	}
	doc[total] = 0;
	assert_string_equal(doc, want);
}

static void test_extra_info_gives_the_apic_id_and_says_who_waits_for_its_sipi(void **state)
{
	(void)state;
	assert_string_equal(fake_hex_text(fake_ask("qThreadExtraInfo,1")), "vCPU 0, APIC id 0");
	assert_string_equal(fake_hex_text(fake_ask("qThreadExtraInfo,2")), "vCPU 1, APIC id 2");
	assert_string_equal(fake_hex_text(fake_ask("qThreadExtraInfo,3")), "vCPU 2, APIC id 4, waiting for SIPI");
	assert_string_equal(fake_ask("qThreadExtraInfo,4"), "E02");
	assert_string_equal(fake_ask("qThreadExtraInfo,0"), "E02");
	assert_string_equal(fake_ask("qThreadExtraInfo,-1"), "E02");
	assert_string_equal(fake_ask("qThreadExtraInfo,2x"), "E22");
}

static void test_T_says_every_vcpu_is_alive_and_nothing_else(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("T1"), "OK");
	assert_string_equal(fake_ask("T2"), "OK");
	assert_string_equal(fake_ask("T3"), "OK");
	assert_string_equal(fake_ask("T4"), "E01");
	assert_string_equal(fake_ask("T0"), "E01");
	assert_string_equal(fake_ask("T-1"), "E01");
	assert_string_equal(fake_ask("Tffffffffff"), "E22");
	assert_string_equal(fake_ask("Tp1.2"), "E22");	/* no multiprocess */
}

/* ---- stops ---- */

static void test_the_stop_reply_names_the_vcpu_that_stopped_with_its_registers(void **state)
{
	(void)state;
	assert_string_equal(ask_at(1, "?"), "T05thread:02;core:1;" AP1_REGS);
	assert_string_equal(ask_at(1, "qC"), "QC02");
	assert_string_equal(ask_at(0, "qC"), "QC01");
}

static void test_a_resumed_gdb_hears_of_the_stop_on_another_vcpu(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(0, "qSupported:swbreak+", FAKE_XML, "c"), GDB_RESUMED);
	assert_int_equal(fake_serve(g, &(struct target_stop){ .kind = STOP_SW_BREAKPOINT, .vcpu = 1 }), FAKE_IDLE);
	assert_string_equal(fake_line_next(NULL), "T05thread:02;core:1;" AP1_REGS "swbreak:;");
}

static void test_a_stop_naming_a_vcpu_that_does_not_exist_is_reported_as_vcpu_0(void **state)
{
	(void)state;
	assert_string_equal(ask_at(7, "?"), "T05thread:01;core:0;" BSP_REGS);
}

/* gdb takes the stop reply's thread as selected: `g` with no Hg reads the
 * vCPU that stopped, and so after `?`. */
static void test_after_a_stop_g_reads_the_vcpu_that_stopped(void **state)
{
	(void)state;
	assert_memory_equal(ask_at(1, "g"), le64(0x11100), 16);	/* vCPU 1's rax */
	SERVE_AT(1, "Hg1", "?", "g");
	assert_string_equal(replies[1], "T05thread:02;core:1;" AP1_REGS);
	assert_memory_equal(replies[2], le64(0x11100), 16);
}

/* ---- Hg ---- */

static void test_Hg_selects_the_registers_gdb_reads_and_writes(void **state)
{
	(void)state;
	SERVE_AT(0, "Hg3", "p0", "P0=8877665544332211", "Hg1", "p0", "Hg0", "p0", "Hg-1", "p0");
	assert_string_equal(replies[0], "OK");
	assert_string_equal(replies[1], le64(0x21100));	/* vCPU 2's rax */
	assert_string_equal(replies[2], "OK");
	assert_string_equal(replies[4], le64(0x1100));	/* vCPU 0's, untouched */
	assert_string_equal(replies[6], le64(0x1100));	/* 0: any thread keeps the choice */
	assert_string_equal(replies[8], le64(0x1100));
	assert_int_equal(fake.ap[1].regs[0], 0x1122334455667788ull);
	assert_int_equal(fake.ap[0].regs[0], 0x11100);
}

static void test_Hg_of_a_thread_that_is_no_vcpu_is_E02_and_keeps_the_choice(void **state)
{
	(void)state;
	SERVE_AT(0, "Hg2", "Hg4", "Hgp1.2", "Hg", "p0");
	assert_string_equal(replies[0], "OK");
	assert_string_equal(replies[1], "E02");
	assert_string_equal(replies[2], "E22");
	assert_string_equal(replies[3], "E22");
	assert_string_equal(replies[4], le64(0x11100));
}

/* Each vCPU reads FAKE_VA_DATA through its own CR3: vCPU 1 at gpa 0x5000. */
static void test_memory_goes_through_the_selected_vcpus_page_tables(void **state)
{
	(void)state;
	char want[9];
	snprintf(want, sizeof(want), "%02x%02x%02x%02x", fake.phys[0x5000], fake.phys[0x5001], fake.phys[0x5002],
		 fake.phys[0x5003]);
	uint8_t bsp_byte = fake.phys[0x1000];
	SERVE_AT(0, "Hg2", "m400000,4", "M400000,1:5a");
	assert_string_equal(replies[1], want);
	assert_string_equal(replies[2], "OK");
	assert_int_equal(fake.phys[0x5000], 0x5a);
	assert_int_equal(fake.phys[0x1000], bsp_byte);
}

static void test_breakpoints_go_through_the_selected_vcpu(void **state)
{
	(void)state;
	SERVE_AT(0, "Hg2", "Z1,400010,1", "Z0,400020,1", "z1,400010,1");
	assert_string_equal(replies[1], "OK");
	assert_string_equal(replies[2], "OK");
	assert_string_equal(replies[3], "OK");
	assert_int_equal(fake.bp_vcpu, 1);
	assert_int_equal(fake_bp_count(BP_SOFTWARE), 1);	/* one, for every vCPU */
}

/* `monitor exits` on thread 2, decoded from its console packets. */
static void test_monitor_commands_are_about_the_selected_vcpu(void **state)
{
	(void)state;
	char out[512] = "";
	SERVE_AT(0, "Hg2", "qRcmd,6578697473");	/* "exits" */
	for (int i = 1; replies[i][0] == 'O'; i++)
		strcat(out, fake_hex_text(replies[i] + 1));
	assert_string_equal(out, "vCPU 1 (thread 2):\nCPUID 13\nPREEMPTION_TIMER 3\nall 3 vCPUs: 48 VM exits\n");
	assert_ptr_equal(gdb_vcpu(g), &fake.ap[0].vcpu);
}

/* ---- c, s, Hc ---- */

static void test_c_lets_every_vcpu_run_and_C_signals_the_one_that_stopped(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(1, "C0b"), GDB_RESUMED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fake.vresume[i].calls, 1);
		assert_int_equal(fake.vresume[i].mode, RESUME_CONTINUE);
		assert_int_equal(fake.vresume[i].signal, i == 1 ? 13 : -1);
	}
	assert_int_equal(fake.vresume[1].order, 0);
}

static void test_s_steps_only_the_vcpu_that_stopped(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(1, "s"), GDB_RESUMED);
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(fake.vresume[1].mode, RESUME_STEP);
	assert_int_equal(fake.ap[0].regs[TREG_RIP], FAKE_VA_DATA + 0x31);
}

static void test_s_steps_the_Hc_vcpu_or_with_Hc0_the_Hg_one(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(0, "Hc3", "s"), GDB_RESUMED);
	assert_int_equal(fake.vresume[2].calls, 1);
	assert_int_equal(fake.resumes, 1);

	assert_int_equal(SERVE_AT(0, "Hc0", "Hg2", "s"), GDB_RESUMED);
	assert_int_equal(fake.vresume[1].calls, 1);
	assert_int_equal(fake.resumes, 2);

	assert_int_equal(SERVE_AT(0, "Hc-1", "Hg3", "S04"), GDB_RESUMED);
	assert_int_equal(fake.vresume[2].calls, 2);
	assert_int_equal(fake.vresume[2].signal, 6);
	assert_int_equal(fake.resumes, 3);
}

static void test_a_new_stop_puts_Hc_back_on_the_vcpu_that_stopped(void **state)
{
	(void)state;
	SERVE_AT(0, "Hc3");
	assert_int_equal(SERVE_AT(1, "s"), GDB_RESUMED);
	assert_int_equal(fake.vresume[1].calls, 1);
	assert_int_equal(fake.vresume[2].calls, 0);
}

static void test_a_resume_address_moves_the_Hc_vcpu_only(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(0, "Hc2", "s400100"), GDB_RESUMED);
	assert_int_equal(fake.ap[0].regs[TREG_RIP], 0x400101);
	assert_int_equal(fake.regs[TREG_RIP], FAKE_VA_DATA + 0x10);
}

static void test_Hc_of_a_thread_that_is_no_vcpu_is_E02(void **state)
{
	(void)state;
	SERVE_AT(0, "Hc4", "Hcp1.1");
	assert_string_equal(replies[0], "E02");
	assert_string_equal(replies[1], "E22");
}

/* ---- vCont ---- */

/* gdb's `stepi` without scheduler locking: "vCont;s:2;c:-1" (or ";c"). */
static void test_vCont_steps_one_vcpu_and_continues_the_rest(void **state)
{
	(void)state;
	static const char *const packets[] = { "vCont;s:2;c", "vCont;s:2;c:-1" };
	for (int i = 0; i < 2; i++) {
		memset(fake.vresume, 0, sizeof(fake.vresume));
		fake.resumes = 0;
		assert_int_equal(SERVE_AT(0, packets[i]), GDB_RESUMED);
		assert_int_equal(fake.vresume[1].mode, RESUME_STEP);
		assert_int_equal(fake.vresume[1].order, 0);	/* the step goes first */
		assert_int_equal(fake.vresume[0].mode, RESUME_CONTINUE);
		assert_int_equal(fake.vresume[2].mode, RESUME_CONTINUE);
		assert_int_equal(fake.resumes, 3);
	}
}

static void test_vCont_with_one_action_leaves_the_others_stopped(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(0, "vCont;s:2"), GDB_RESUMED);
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(fake.vresume[1].mode, RESUME_STEP);

	assert_int_equal(SERVE_AT(1, "vCont;c:1"), GDB_RESUMED);
	assert_int_equal(fake.resumes, 2);
	assert_int_equal(fake.vresume[0].calls, 1);
	assert_int_equal(fake.vresume[0].mode, RESUME_CONTINUE);
	assert_int_equal(fake.vresume[2].calls, 0);
}

static void test_vCont_signals_go_to_their_own_thread(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(0, "vCont;C0b:2;S04:3;c"), GDB_RESUMED);
	assert_int_equal(fake.vresume[0].signal, -1);
	assert_int_equal(fake.vresume[1].signal, 13);
	assert_int_equal(fake.vresume[1].mode, RESUME_CONTINUE);
	assert_int_equal(fake.vresume[2].signal, 6);
	assert_int_equal(fake.vresume[2].mode, RESUME_STEP);
	assert_int_equal(fake.vresume[2].order, 0);
}

static void test_vCont_t_keeps_its_thread_stopped(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(0, "vCont;t:1;c"), GDB_RESUMED);
	assert_int_equal(fake.vresume[0].calls, 0);
	assert_int_equal(fake.vresume[1].calls, 1);
	assert_int_equal(fake.vresume[2].calls, 1);
	SERVE_AT(1, "vCont;t");	/* first the stop the resume waited for */
	assert_string_equal(replies[0], "T05thread:02;core:1;" AP1_REGS);
	assert_string_equal(replies[1], "T00thread:02;core:1;" AP1_REGS);
	assert_int_equal(fake.resumes, 2);
}

static void test_vCont_thread_0_is_the_selected_vcpu(void **state)
{
	(void)state;
	assert_int_equal(SERVE_AT(0, "Hg3", "vCont;s:0"), GDB_RESUMED);
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(fake.vresume[2].mode, RESUME_STEP);
}

static void test_bad_or_conflicting_vCont_is_refused_before_anything_runs(void **state)
{
	(void)state;
	static const struct {
		const char *pkt, *reply;
	} cases[] = {
		{ "vCont;s:4", "E02" },		/* no such thread */
		{ "vCont;c:2;s:7;c", "E02" },
		{ "vCont;c;s:2", "E22" },	/* nothing after the default */
		{ "vCont;c;c", "E22" },
		{ "vCont;s:2;c:2", "E22" },	/* two actions for one vCPU */
		{ "vCont;s:1;c:0", "E22" },	/* 0 is the selected vCPU 0 */
		{ "vCont;s:p1.2", "E22" },	/* no multiprocess */
		{ "vCont;s:", "E22" },
		{ "vCont;s:2:3", "E22" },
		{ "vCont;C1e:2;c", "E22" },	/* a signal that is no exception */
		{ "vCont;x:2", "E22" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(ask_at(0, cases[i].pkt), cases[i].reply);
	assert_no_resume();
}

static void test_vCont_query_stays_truthful(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("vCont?"), "vCont;c;C;s;S;t");
}

/* ---- a vCPU that cannot run ---- */

static void test_a_vcpu_that_cannot_run_stays_stopped_and_gdb_hears_why(void **state)
{
	(void)state;
	fake.ap[0].dead = true;
	assert_int_equal(SERVE_AT(0, "c"), GDB_RESUMED);
	assert_int_equal(fake.vresume[0].calls, 1);
	assert_int_equal(fake.vresume[1].calls, 0);
	assert_int_equal(fake.vresume[2].calls, 1);
	assert_string_equal(fake_hex_text(replies[0] + 1), "vmxdbg: vCPU 1 cannot run: it stays stopped\n");
	assert_string_equal(fake_hex_text(replies[1] + 1), "vmxdbg: the AP cannot run: triple fault\n");
}

static void test_a_step_of_a_vcpu_that_cannot_run_runs_nothing(void **state)
{
	(void)state;
	fake.ap[0].dead = true;
	assert_int_equal(SERVE_AT(0, "vCont;s:2;c"), FAKE_IDLE);
	assert_no_resume();
	assert_string_equal(fake_hex_text(replies[0] + 1), "vmxdbg: the AP cannot run: triple fault\n");
	assert_string_equal(replies[1], "T05thread:01;core:0;" BSP_REGS);
}

/* ---- lldb ---- */

static void test_lldb_gets_each_threads_stop_reason(void **state)
{
	(void)state;
	SERVE_AT(1, "qThreadStopInfo2", "qThreadStopInfo1", "qThreadStopInfo4", "qThreadStopInfo", "jThreadsInfo");
	assert_string_equal(replies[0], "T05thread:02;core:1;" AP1_REGS);
	assert_string_equal(replies[1], "T00thread:01;core:0;" BSP_REGS);
	assert_string_equal(replies[2], "E02");
	assert_string_equal(replies[3], "E22");
	assert_string_equal(replies[4], "");	/* unsupported: lldb asks per thread */
}

static void test_lldb_can_have_the_thread_list_in_every_stop_reply(void **state)
{
	(void)state;
	SERVE_AT(1, "QListThreadsInStopReply", "?", "QListThreadsInStopReply:1");
	assert_string_equal(replies[0], "OK");
	assert_string_equal(replies[1], "T05thread:02;core:1;" AP1_REGS "threads:01,02,03;");
	assert_string_equal(replies[2], "E22");
	SERVE_AT(1, "qSupported", "?");		/* a new debugger has not asked */
	assert_string_equal(replies[1], "T05thread:02;core:1;");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_qfThreadInfo_lists_every_vcpu, setup),
		cmocka_unit_test_setup(test_the_xml_thread_list_gives_each_vcpu_its_core_name_and_apic_id, setup),
		cmocka_unit_test_setup(test_extra_info_gives_the_apic_id_and_says_who_waits_for_its_sipi, setup),
		cmocka_unit_test_setup(test_T_says_every_vcpu_is_alive_and_nothing_else, setup),
		cmocka_unit_test_setup(test_the_stop_reply_names_the_vcpu_that_stopped_with_its_registers, setup),
		cmocka_unit_test_setup(test_a_resumed_gdb_hears_of_the_stop_on_another_vcpu, setup),
		cmocka_unit_test_setup(test_a_stop_naming_a_vcpu_that_does_not_exist_is_reported_as_vcpu_0, setup),
		cmocka_unit_test_setup(test_after_a_stop_g_reads_the_vcpu_that_stopped, setup),
		cmocka_unit_test_setup(test_Hg_selects_the_registers_gdb_reads_and_writes, setup),
		cmocka_unit_test_setup(test_Hg_of_a_thread_that_is_no_vcpu_is_E02_and_keeps_the_choice, setup),
		cmocka_unit_test_setup(test_memory_goes_through_the_selected_vcpus_page_tables, setup),
		cmocka_unit_test_setup(test_breakpoints_go_through_the_selected_vcpu, setup),
		cmocka_unit_test_setup(test_monitor_commands_are_about_the_selected_vcpu, setup),
		cmocka_unit_test_setup(test_c_lets_every_vcpu_run_and_C_signals_the_one_that_stopped, setup),
		cmocka_unit_test_setup(test_s_steps_only_the_vcpu_that_stopped, setup),
		cmocka_unit_test_setup(test_s_steps_the_Hc_vcpu_or_with_Hc0_the_Hg_one, setup),
		cmocka_unit_test_setup(test_a_new_stop_puts_Hc_back_on_the_vcpu_that_stopped, setup),
		cmocka_unit_test_setup(test_a_resume_address_moves_the_Hc_vcpu_only, setup),
		cmocka_unit_test_setup(test_Hc_of_a_thread_that_is_no_vcpu_is_E02, setup),
		cmocka_unit_test_setup(test_vCont_steps_one_vcpu_and_continues_the_rest, setup),
		cmocka_unit_test_setup(test_vCont_with_one_action_leaves_the_others_stopped, setup),
		cmocka_unit_test_setup(test_vCont_signals_go_to_their_own_thread, setup),
		cmocka_unit_test_setup(test_vCont_t_keeps_its_thread_stopped, setup),
		cmocka_unit_test_setup(test_vCont_thread_0_is_the_selected_vcpu, setup),
		cmocka_unit_test_setup(test_bad_or_conflicting_vCont_is_refused_before_anything_runs, setup),
		cmocka_unit_test_setup(test_vCont_query_stays_truthful, setup),
		cmocka_unit_test_setup(test_a_vcpu_that_cannot_run_stays_stopped_and_gdb_hears_why, setup),
		cmocka_unit_test_setup(test_a_step_of_a_vcpu_that_cannot_run_runs_nothing, setup),
		cmocka_unit_test_setup(test_lldb_gets_each_threads_stop_reason, setup),
		cmocka_unit_test_setup(test_lldb_can_have_the_thread_list_in_every_stop_reply, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
