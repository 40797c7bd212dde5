/* The shared console keeps whole lines: the hypervisor's lines wait for the
 * guest's newline while the guest writes, and the guest's line is cut with
 * marks (never silently) when the guest goes quiet, too much waits, or a
 * flush comes; the guest's bytes always go out at once, in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "serial/console_lines.h"

/* What reached the UART: hypervisor text and guest bytes, in order. */
static char wire[4 * CONSOLE_HOLD_BYTES];
static size_t wire_len;

static void fake_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	assert_true(wire_len + n < sizeof(wire));
	memcpy(wire + wire_len, s, n);
	wire_len += n;
	wire[wire_len] = 0;
}

static void fake_forward(void *ctx, uint8_t byte)
{
	(void)ctx;
	assert_true(wire_len + 1 < sizeof(wire));
	wire[wire_len++] = (char)byte;
	wire[wire_len] = 0;
}

static struct console_lines c;

static int setup(void **state)
{
	(void)state;
	wire_len = 0;
	wire[0] = 0;
	console_lines_init(&c, fake_write, fake_forward, NULL);
	return 0;
}

static void guest(const char *s)
{
	while (*s)
		console_lines_guest_byte(&c, (uint8_t)*s++);
}

static void hv(const char *line)
{
	console_lines_log(&c, line, strlen(line));
}

static void test_hypervisor_lines_go_out_at_once_between_guest_lines(void **state)
{
	(void)state;
	hv("[I] before the guest\n");
	guest("GUEST one\r\n");
	hv("[I] between\n");
	guest("GUEST two\r\n");
	assert_string_equal(wire, "[I] before the guest\nGUEST one\r\n[I] between\nGUEST two\r\n");
}

static void test_a_line_logged_mid_guest_line_waits_for_the_guest_newline(void **state)
{
	(void)state;
	guest("GUEST PASS multiboot-entry-stat");
	hv("[I] lua: exit CPUID\n");
	hv("[I] lua: exit IO\n");
	assert_string_equal(wire, "GUEST PASS multiboot-entry-stat");
	guest("e\r\n");
	assert_string_equal(wire, "GUEST PASS multiboot-entry-state\r\n[I] lua: exit CPUID\n[I] lua: exit IO\n");
}

static void test_too_much_waiting_text_cuts_the_guest_line_with_marks(void **state)
{
	(void)state;
	char big[CONSOLE_HOLD_BYTES / 2 + 2];	/* two do not fit */
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = 0;

	guest("GUEST abc");
	hv(big);
	hv(big);	/* does not fit beside the first: cut, release both */
	assert_int_equal(wire_len, strlen("GUEST abc" CONSOLE_CUT_MARK) + 2 * strlen(big));
	assert_memory_equal(wire, "GUEST abc >>\n", 13);
	guest("def\r\n");
	assert_string_equal(wire + wire_len - strlen(">> def\r\n"), ">> def\r\n");
}

static void test_a_quiet_guest_releases_the_log_after_some_ticks(void **state)
{
	(void)state;
	guest("login: ");
	hv("[I] held\n");
	for (int i = 0; i < CONSOLE_QUIET_TICKS - 1; i++)
		console_lines_tick(&c);
	assert_string_equal(wire, "login: ");
	console_lines_tick(&c);
	assert_string_equal(wire, "login:  >>\n[I] held\n");
	hv("[I] later, still quiet\n");	/* no holding for a quiet guest */
	guest("root\r\n");
	assert_string_equal(wire, "login:  >>\n[I] held\n[I] later, still quiet\n>> root\r\n");
}

static void test_a_writing_guest_is_not_cut_by_ticks(void **state)
{
	(void)state;
	guest("GUEST ");
	hv("[I] held\n");
	for (int i = 0; i < 3 * CONSOLE_QUIET_TICKS; i++) {
		console_lines_tick(&c);
		guest("x");
	}
	guest("\r\n");
	assert_null(strstr(wire, ">>"));
	assert_string_equal(wire + wire_len - strlen("\r\n[I] held\n"), "\r\n[I] held\n");
}

static void test_flush_cuts_and_releases_then_holds_nothing_until_the_guest_writes(void **state)
{
	(void)state;
	guest("GUEST stopped in the middle");
	hv("[I] gdb: stopped\n");
	console_lines_flush(&c);
	assert_string_equal(wire, "GUEST stopped in the middle >>\n[I] gdb: stopped\n");
	hv("[I] lua: typed at the gdb prompt\n");
	assert_string_equal(wire + wire_len - strlen("[I] lua: typed at the gdb prompt\n"),
			    "[I] lua: typed at the gdb prompt\n");
	guest(" of a line\r\n");
	assert_string_equal(wire + wire_len - strlen(">>  of a line\r\n"), ">>  of a line\r\n");
}

static void test_flush_with_nothing_held_leaves_the_guest_line_alone(void **state)
{
	(void)state;
	guest("GUEST abc");
	console_lines_flush(&c);
	guest("def\r\n");
	assert_string_equal(wire, "GUEST abcdef\r\n");
}

static void test_a_cut_line_ending_at_once_gets_no_resume_mark(void **state)
{
	(void)state;
	guest("GUEST done");
	hv("[I] held\n");
	console_lines_flush(&c);
	guest("\r\n");
	assert_string_equal(wire, "GUEST done >>\n[I] held\n\r\n");
	guest("GUEST next\r\n");
	assert_string_equal(wire + wire_len - strlen("GUEST next\r\n") - 1, "\nGUEST next\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_hypervisor_lines_go_out_at_once_between_guest_lines, setup),
		cmocka_unit_test_setup(test_a_line_logged_mid_guest_line_waits_for_the_guest_newline, setup),
		cmocka_unit_test_setup(test_too_much_waiting_text_cuts_the_guest_line_with_marks, setup),
		cmocka_unit_test_setup(test_a_quiet_guest_releases_the_log_after_some_ticks, setup),
		cmocka_unit_test_setup(test_a_writing_guest_is_not_cut_by_ticks, setup),
		cmocka_unit_test_setup(test_flush_cuts_and_releases_then_holds_nothing_until_the_guest_writes, setup),
		cmocka_unit_test_setup(test_flush_with_nothing_held_leaves_the_guest_line_alone, setup),
		cmocka_unit_test_setup(test_a_cut_line_ending_at_once_gets_no_resume_mark, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
