/* `monitor` (qRcmd): the built-in commands over the fake target, their
 * argument errors in sentences, output as console packets then OK, long
 * output split across packets, bad hex, and commands other modules add. */
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

/* Runs `monitor text`; returns its whole console output (the 'O' packets,
 * decoded and joined) and checks that OK ends it. */
static const char *monitor(const char *text)
{
	static char out[1 << 16];
	char pkt[1024] = "qRcmd,";
	size_t n = 0;

	for (size_t i = 0; text[i]; i++)
		sprintf(pkt + 6 + 2 * i, "%02x", (unsigned char)text[i]);
	fake_line_packet(pkt);
	fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
	for (const char *r; (r = fake_line_next(NULL)) != NULL && r[0] == 'O';) {
		for (size_t i = 1; r[i] && r[i + 1]; i += 2) {
			unsigned b;
			sscanf(r + i, "%2x", &b);
			out[n++] = (char)b;
		}
		if (n + 1 >= sizeof(out))
			break;
	}
	out[n] = 0;
	line.out_pos = 0;
	const char *last = NULL;
	for (const char *r; (r = fake_line_next(NULL)) != NULL;)
		last = r;
	assert_non_null(last);
	assert_string_equal(last, "OK");
	return out;
}

/* Every line of help is "  name ARGS", padded to one column, then what the
 * command does; the name is not said twice. */
static void check_help_aligned(const char *out)
{
	int column = -1;
	for (const char *line = strchr(out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		char name[32], next[32] = "";
		assert_int_equal(strncmp(line, "  ", 2), 0);
		assert_true(sscanf(line + 2, "%31s %31s", name, next) >= 1);
		assert_string_not_equal(name, next);
		const char *what = strstr(line + 2, "  ");
		assert_non_null(what);
		while (*what == ' ')
			what++;
		if (column < 0)
			column = (int)(what - line);
		else if (*what != '\n')
			assert_int_equal(what - line, column);
	}
}

static void test_help_lists_every_command(void **state)
{
	(void)state;
	const char *out = monitor("help");
	static const char *const names[] = { "help", "vmcs", "caps", "exits", "ept", "phys", "info",
					     "arch", "exit", "why", "bp-mode" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char want[32];
		snprintf(want, sizeof(want), "\n  %s ", names[i]);
		assert_non_null(strstr(out, want));
	}
	assert_string_equal(monitor(""), out);
	assert_string_equal(monitor("   "), out);
	check_help_aligned(out);
	assert_non_null(strstr(out, "\n  vmcs [FIELD [VALUE]]   "));
}

static void test_bp_mode_switches_shows_and_refuses_a_bad_word(void **state)
{
	(void)state;
	assert_string_equal(monitor("bp-mode"), "bp-mode int3\n");
	assert_string_equal(monitor("bp-mode stealth"), "bp-mode stealth\n");
	assert_string_equal(monitor("bp-mode"), "bp-mode stealth\n");
	assert_string_equal(monitor("bp-mode hidden"), "usage: monitor bp-mode [int3|stealth]\n");
	assert_string_equal(monitor("bp-mode int3"), "bp-mode int3\n");
}

static void test_vmcs_without_a_field_is_the_decoded_dump(void **state)
{
	(void)state;
	assert_string_equal(monitor("vmcs"), "vmcs line 0: GUEST_RIP = 0x0000000000400010\n"
					     "vmcs line 1: GUEST_RIP = 0x0000000000400010\n"
					     "vmcs line 2: GUEST_RIP = 0x0000000000400010\n");
}

static void test_vmcs_field_reads_one_field(void **state)
{
	(void)state;
	assert_string_equal(monitor("vmcs GUEST_CR0"), "GUEST_CR0 = 0x80050033\n");
	assert_string_equal(monitor("  vmcs   guest_cr0  "), "guest_cr0 = 0x80050033\n");
}

static void test_vmcs_field_value_writes_it(void **state)
{
	(void)state;
	assert_string_equal(monitor("vmcs GUEST_RIP 0x400020"), "GUEST_RIP <- 0x400020\n");
	assert_int_equal(fake.vmcs[0].value, 0x400020);
	assert_string_equal(monitor("vmcs GUEST_RIP 4194352"), "GUEST_RIP <- 0x400030\n");
}

static void test_vmcs_errors_are_the_targets_sentences(void **state)
{
	(void)state;
	assert_string_equal(monitor("vmcs NOPE"), "vmcs: no VMCS field is called 'NOPE'\n");
	assert_string_equal(monitor("vmcs EXIT_REASON 1"),
			    "vmcs: EXIT_REASON is a read-only VM-exit information field\n");
	assert_string_equal(monitor("vmcs EPT_POINTER 0"), "vmcs: EPT_POINTER belongs to the hypervisor\n");
}

static void test_vmcs_with_a_bad_value_says_so(void **state)
{
	(void)state;
	assert_string_equal(monitor("vmcs GUEST_RIP 0xzz"), "vmcs: '0xzz' is not a number\n");
	assert_string_equal(monitor("vmcs GUEST_RIP 1 2"), "vmcs: '2' is not a number\n");
	assert_string_equal(monitor("vmcs GUEST_RIP 99999999999999999999"),
			    "vmcs: '99999999999999999999' is not a number\n");
	assert_int_equal(fake.vmcs[0].value, FAKE_VA_DATA + 0x10);
}

static void test_caps_exits_and_info_are_the_targets_reports(void **state)
{
	(void)state;
	assert_string_equal(monitor("caps"), "IA32_VMX_BASIC = 0x00d810000000002b\nEPT: yes, VPID: yes\n");
	assert_string_equal(monitor("exits"), "vCPU 0 (thread 1):\nCPUID 12\nPREEMPTION_TIMER 3\n"
					      "all 1 vCPUs: 15 VM exits\n");
	assert_string_equal(monitor("info"), "vCPU 0: guest memory: 64 KiB; paging: 4-level; stepping: RFLAGS.TF\n");
}

static void test_ept_reports_one_guest_physical_address(void **state)
{
	(void)state;
	assert_string_equal(monitor("ept 0x2000"), "GPA 0x2000 -> HPA 0x100002000 rwx 4K\n");
	assert_string_equal(monitor("ept 57344"), "GPA 0xe000 is not mapped\n");
	assert_string_equal(monitor("ept"), "usage: monitor ept GPA\n");
	assert_string_equal(monitor("ept 0x2000 9"), "usage: monitor ept GPA\n");
}

static void test_exit_and_why_are_the_targets_reports(void **state)
{
	(void)state;
	assert_string_equal(monitor("exit"), "vCPU 0: reason 10 CPUID\n");
	assert_string_equal(monitor("exit now"), "usage: monitor exit\n");
	assert_string_equal(monitor("why"), "the VMCS passes every check the checker knows\n");
	fake.dead = true;
	fake.entry_failed = true;
	fake.broken_rules = 1;
	assert_string_equal(monitor("why"), "the guest cannot run: VM entry failed\nvmentry:   rule 1 is broken\n");
	assert_string_equal(monitor("why not"), "usage: monitor why\n");
}

static void test_phys_dumps_guest_physical_memory(void **state)
{
	(void)state;
	memcpy(fake.phys + 0x1000, "Hello, vmxdbg!\n\0abc#", 20);
	assert_string_equal(monitor("phys 0x1000 20"),
			    "0000000000001000: 48 65 6c 6c 6f 2c 20 76 6d 78 64 62 67 21 0a 00  Hello, vmxdbg!..\n"
			    "0000000000001010: 61 62 63 23                                      abc#\n");
}

static void test_phys_says_why_memory_cannot_be_read(void **state)
{
	(void)state;
	const char *out = monitor("phys 0xdff0 32");
	assert_memory_equal(out, "000000000000dff0: ", 18);
	assert_non_null(strstr(out, "\nphys: 0xe000: the hypervisor's memory (E01)\n"));
	assert_string_equal(monitor("phys 0x20000 4"), "phys: 0x20000: not guest memory (E14)\n");
	assert_string_equal(monitor("phys 0xfffffffffffffff8 16"),
			    "phys: 0xfffffffffffffff8: not guest memory (E14)\n");
}

static void test_phys_refuses_bad_or_huge_arguments(void **state)
{
	(void)state;
	assert_string_equal(monitor("phys"), "usage: monitor phys ADDR LEN\n");
	assert_string_equal(monitor("phys 0x1000"), "usage: monitor phys ADDR LEN\n");
	assert_string_equal(monitor("phys 0x1000 0"), "usage: monitor phys ADDR LEN\n");
	assert_string_equal(monitor("phys 1000x 4"), "usage: monitor phys ADDR LEN\n");
	assert_string_equal(monitor("phys 0x1000 4097"), "phys: at most 4096 bytes at a time\n");
}

static void test_an_unknown_command_points_to_help(void **state)
{
	(void)state;
	assert_string_equal(monitor("frobnicate now"),
			    "unknown monitor command 'frobnicate'; `monitor help` lists them\n");
}

static void test_a_request_that_is_not_hex_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("qRcmd,6"), "E22");
	assert_string_equal(fake_ask("qRcmd,zz"), "E22");
	assert_string_equal(fake_ask("qRcmd,6800"), "E22");	/* a NUL inside */
	assert_string_equal(fake_ask("qRcmd"), "E22");
}

static void test_long_output_is_split_into_packets_that_fit(void **state)
{
	(void)state;
	fake.vmcs_report_lines = 1000;	/* about 50 KB of text */
	size_t len;
	const char *out = monitor("vmcs");
	/* 43 characters and the line number's digits, a thousand times */
	assert_int_equal(strlen(out), 1000 * 43 + 10 * 1 + 90 * 2 + 900 * 3);
	line.out_pos = 0;
	int packets = 0;
	for (const char *r; (r = fake_line_next(&len)) != NULL; packets++)
		assert_true(len <= GDB_PACKET_SIZE);
	assert_true(packets >= 5);
}

static int registered_calls;
static char registered_args[64];

static void cmd_hello(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	assert_ptr_equal(gdb_vcpu(g), &fake.vcpu);
	registered_calls++;
	snprintf(registered_args, sizeof(registered_args), "%s", args);
	out(ctx, "hello from a module");
}

static void test_other_modules_add_commands(void **state)
{
	(void)state;
	static bool once;
	if (!once) {
		assert_int_equal(gdb_monitor_register("hello", "CHUNK  say hello", cmd_hello), 0);
		once = true;
	}
	assert_string_equal(monitor("hello print(1) "), "hello from a module\n");
	assert_int_equal(registered_calls, 1);
	assert_string_equal(registered_args, "print(1) ");
	const char *help = monitor("help");
	assert_non_null(strstr(help, "\n  hello CHUNK "));
	assert_non_null(strstr(help, "  say hello\n"));
	check_help_aligned(help);
}

static void test_registering_a_taken_or_bad_name_fails(void **state)
{
	(void)state;
	assert_int_equal(gdb_monitor_register("vmcs", "", cmd_hello), -EEXIST);
	assert_int_equal(gdb_monitor_register("", "", cmd_hello), -EINVAL);
	assert_int_equal(gdb_monitor_register(NULL, "", cmd_hello), -EINVAL);
	assert_int_equal(gdb_monitor_register("two words", "", cmd_hello), -EINVAL);
	assert_int_equal(gdb_monitor_register("averyveryverylongname", "", cmd_hello), -EINVAL);
	assert_int_equal(gdb_monitor_register("fine", "", NULL), -EINVAL);
}

static void test_the_command_table_fills_up(void **state)
{
	(void)state;
	static char names[GDB_MONITOR_MAX + 1][16];
	int rc = 0, added = 0;
	for (int i = 0; i <= GDB_MONITOR_MAX && rc == 0; i++) {
		snprintf(names[i], sizeof(names[i]), "x%d", i);
		rc = gdb_monitor_register(names[i], NULL, cmd_hello);
		added += rc == 0;
	}
	assert_int_equal(rc, -ENOSPC);
	assert_true(added <= GDB_MONITOR_MAX);
	assert_int_equal(gdb_monitor_register("x0", "", cmd_hello), -EEXIST);
}

/* monitor trace: the newest N oldest first, all vCPUs or one, CSV for the
 * gdb helper, the switches, and what it says to bad or large requests. */
static void test_trace_lists_the_newest_exits_oldest_first(void **state)
{
	(void)state;
	assert_string_equal(monitor("trace 2"), "tsc=3000 vcpu=0 reason=10\ntsc=4000 vcpu=0 reason=0\n");
	fake_set_vcpus(2);
	assert_string_equal(monitor("trace 1 1"), "tsc=2000 vcpu=1 reason=30\n");
	assert_string_equal(monitor("trace 1 csv"),
			    "tsc,vcpu,reason,code,qual,rip,ticks,hook\n4000,0,0\n");
	assert_non_null(strstr(monitor("trace"), "trace: on, 4096 records per vCPU, 4 held\ntsc=1000"));
}

static void test_trace_asked_for_more_than_held_gives_what_there_is(void **state)
{
	(void)state;
	const char *out = monitor("trace 10000 0");
	assert_non_null(strstr(out, "trace: asked for 10000, 3 held for this vCPU (the ring keeps 4096 per vCPU)\n"));
	assert_non_null(strstr(out, "tsc=1000 vcpu=0 reason=10\ntsc=3000"));
}

static void test_trace_refuses_a_count_not_positive(void **state)
{
	(void)state;
	assert_non_null(strstr(monitor("trace 0"), "trace: N must be a positive number of records; usage:"));
	assert_non_null(strstr(monitor("trace -3"), "trace: N must be a positive number of records; usage:"));
	assert_non_null(strstr(monitor("trace lots"), "trace: not a number of records; usage:"));
	assert_non_null(strstr(monitor("trace 5 7"), "trace: no such vCPU; usage:"));
}

static void test_trace_switches_off_on_and_clears(void **state)
{
	(void)state;
	assert_string_equal(monitor("trace off"), "trace: off, 4096 records per vCPU, 4 held\n");
	assert_false(fake_trace_on);
	monitor("trace on");
	assert_true(fake_trace_on);
	assert_string_equal(monitor("trace clear"), "trace: cleared\n");
	assert_true(fake_trace_cleared);
	assert_non_null(strstr(monitor("trace 3"), "trace: asked for 3, 0 held"));
}

/* monitor dirty: start (or refused), list as runs of pages, stop. */
static void test_dirty_lists_runs_of_written_pages(void **state)
{
	(void)state;
	assert_string_equal(monitor("dirty list"), "dirty: tracking never started (monitor dirty start)\n");
	assert_string_equal(monitor("dirty start"), "dirty: tracking with PML\n");
	assert_string_equal(monitor("dirty list"), "dirty: 3 pages written (PML, tracking)\n"
						   "  0x3000-0x4fff  2 pages\n  0x9000-0x9fff  1 page\n"
						   "dirty: and 1 page above the guest's RAM (MMIO)\n");
	assert_non_null(strstr(monitor("dirty stop"), "dirty: stopped"));
	assert_string_equal(monitor("dirty stop"), "dirty: not tracking\n");
	assert_non_null(strstr(monitor("dirty list"), "dirty: 3 pages written (stopped)\n"));
	assert_non_null(strstr(monitor("dirty start scan"), "with scan"));
	assert_string_equal(monitor("dirty sideways"), "usage: monitor dirty start [scan] | stop | list\n");
	fake_dirty_no_ad = true;
	assert_string_equal(monitor("dirty start"), "dirty: refused: no A/D\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_help_lists_every_command, fake_setup),
		cmocka_unit_test_setup(test_bp_mode_switches_shows_and_refuses_a_bad_word, fake_setup),
		cmocka_unit_test_setup(test_vmcs_without_a_field_is_the_decoded_dump, fake_setup),
		cmocka_unit_test_setup(test_vmcs_field_reads_one_field, fake_setup),
		cmocka_unit_test_setup(test_vmcs_field_value_writes_it, fake_setup),
		cmocka_unit_test_setup(test_vmcs_errors_are_the_targets_sentences, fake_setup),
		cmocka_unit_test_setup(test_vmcs_with_a_bad_value_says_so, fake_setup),
		cmocka_unit_test_setup(test_caps_exits_and_info_are_the_targets_reports, fake_setup),
		cmocka_unit_test_setup(test_ept_reports_one_guest_physical_address, fake_setup),
		cmocka_unit_test_setup(test_exit_and_why_are_the_targets_reports, fake_setup),
		cmocka_unit_test_setup(test_phys_dumps_guest_physical_memory, fake_setup),
		cmocka_unit_test_setup(test_phys_says_why_memory_cannot_be_read, fake_setup),
		cmocka_unit_test_setup(test_phys_refuses_bad_or_huge_arguments, fake_setup),
		cmocka_unit_test_setup(test_an_unknown_command_points_to_help, fake_setup),
		cmocka_unit_test_setup(test_a_request_that_is_not_hex_is_E22, fake_setup),
		cmocka_unit_test_setup(test_long_output_is_split_into_packets_that_fit, fake_setup),
		cmocka_unit_test_setup(test_other_modules_add_commands, fake_setup),
		cmocka_unit_test_setup(test_registering_a_taken_or_bad_name_fails, fake_setup),
		cmocka_unit_test_setup(test_the_command_table_fills_up, fake_setup),
		cmocka_unit_test_setup(test_trace_lists_the_newest_exits_oldest_first, fake_setup),
		cmocka_unit_test_setup(test_trace_asked_for_more_than_held_gives_what_there_is, fake_setup),
		cmocka_unit_test_setup(test_trace_refuses_a_count_not_positive, fake_setup),
		cmocka_unit_test_setup(test_trace_switches_off_on_and_clears, fake_setup),
		cmocka_unit_test_setup(test_dirty_lists_runs_of_written_pages, fake_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
