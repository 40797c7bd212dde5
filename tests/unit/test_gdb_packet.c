/* The RSP wire as the stub speaks it: framing and checksums, acks and naks
 * with retransmission, no-ack mode, escapes and run-length encoding both
 * ways, binary data, noise, overlong packets, break-in and hang-up. */
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
static const struct target_stop attach = { .kind = STOP_ATTACH };

static int setup(void **state)
{
	(void)state;
	fake_target_reset();
	fake_line_reset();
	struct gdb_io io = fake_line_io();
	gdb_init(g, &io, &fake.vcpu);
	return 0;
}

static int serve(void)
{
	return fake_serve(g, &attach);
}

static const char *ask(const char *packet)
{
	fake_line_packet(packet);
	serve();
	return fake_line_next(NULL);
}

/* QStartNoAckMode, and gdb's '+' to our OK. */
static void enter_no_ack(void)
{
	assert_string_equal(ask("QStartNoAckMode"), "OK");
	line.acks = 0;
}

static void test_a_good_packet_is_acknowledged_then_answered(void **state)
{
	(void)state;
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "+$1#31");
}

static void test_a_bad_checksum_gets_a_nak_and_is_not_executed(void **state)
{
	(void)state;
	fake_line_str("$m400000,4#00");
	serve();
	assert_string_equal(fake_line_rest(), "-");
}

static void test_a_retransmission_after_a_nak_is_answered(void **state)
{
	(void)state;
	fake_line_str("$qAttached#00");
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "-+$1#31");
}

static void test_uppercase_checksum_digits_are_accepted(void **state)
{
	(void)state;
	fake_line_str("$vCont?#49");
	fake_line_str("$m400000,1#EE");
	serve();
	assert_string_equal(fake_line_next(NULL), "vCont;c;C;s;S;t");
	assert_non_null(fake_line_next(NULL));
	assert_int_equal(line.naks, 0);
}

static void test_a_nak_from_gdb_makes_the_stub_send_its_last_reply_again(void **state)
{
	(void)state;
	line.auto_ack = false;
	fake_line_packet("qAttached");
	fake_line_str("-");
	serve();
	assert_string_equal(fake_line_rest(), "+$1#31$1#31");
}

static void test_noise_between_packets_is_ignored(void **state)
{
	(void)state;
	fake_line_str("\r\n\x7fgarbage#xx");
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "+$1#31");
}

static void test_a_dollar_inside_a_packet_starts_it_over(void **state)
{
	(void)state;
	fake_line_str("$m4000");
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "+$1#31");
}

static void test_a_gdb_that_vanished_mid_packet_is_replaced_by_the_next(void **state)
{
	(void)state;
	fake_line_str("$m4000");	/* the old gdb's last words */
	fake_line_str("+");		/* a new gdb connects... */
	fake_line_packet("qSupported:swbreak+");
	serve();
	const char *r = fake_line_next(NULL);
	assert_non_null(r);
	assert_memory_equal(r, "PacketSize=", 11);
	assert_int_equal(line.acks, 1);
	assert_int_equal(line.naks, 0);
}

static void test_a_non_hex_checksum_gets_a_nak(void **state)
{
	(void)state;
	fake_line_str("$qAttached#zz");
	serve();
	assert_string_equal(fake_line_rest(), "-");
}

static void test_a_dollar_in_place_of_the_checksum_resynchronises(void **state)
{
	(void)state;
	fake_line_str("$qAttached#");
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "-+$1#31");
}

static void test_an_empty_packet_gets_the_empty_reply(void **state)
{
	(void)state;
	fake_line_str("$#00");
	serve();
	assert_string_equal(fake_line_rest(), "+$#00");
}

static void test_escaped_bytes_are_decoded(void **state)
{
	(void)state;
	/* X of 4 bytes: '#', '$', '}', '*' each escaped as '}' and XOR 0x20. */
	static const char pkt[] = "X400000,4:}\x03}\x04}]}\x0a";
	assert_string_equal(ask(pkt), "OK");
	assert_memory_equal(fake.phys + 0x1000, "#$}*", 4);
}

static void test_run_length_encoding_is_expanded(void **state)
{
	(void)state;
	/* "0*," is '0' and 44 - 29 = 15 more: 16 zero digits, 8 bytes. */
	assert_string_equal(ask("M400000,8:0*,"), "OK");
	for (int i = 0; i < 8; i++)
		assert_int_equal(fake.phys[0x1000 + i], 0);
	assert_int_equal(fake.phys[0x1008], (uint8_t)(0x1008 * 7 + 0x10));
}

static void test_a_run_repeats_the_raw_byte_before_unescaping(void **state)
{
	(void)state;
	/* gdb's order: "}]*!" is "}]" + 4 more ']', then unescaped: '}' and ']' x 4. */
	assert_string_equal(ask("X400000,5:}]*!"), "OK");
	assert_memory_equal(fake.phys + 0x1000, "}]]]]", 5);
}

static void test_a_run_count_out_of_range_is_answered_E22(void **state)
{
	(void)state;
	assert_string_equal(ask("m400000,4\x2a\x7f"), "E22");
}

static void test_a_run_at_the_start_of_a_packet_is_answered_E22(void **state)
{
	(void)state;
	assert_string_equal(ask("*a"), "E22");
}

static void test_a_dangling_escape_is_answered_E22(void **state)
{
	(void)state;
	assert_string_equal(ask("X400000,1:}"), "E22");
}

static void test_an_overlong_packet_is_acknowledged_and_answered_E07(void **state)
{
	(void)state;
	static char big[GDB_PACKET_SIZE + 2];
	memset(big, 'q', sizeof(big) - 1);
	fake_line_packet(big);
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_next(NULL), "E07");
	assert_string_equal(fake_line_next(NULL), "1");
	assert_int_equal(line.naks, 0);
}

static void test_a_run_that_overflows_the_buffer_is_answered_E07(void **state)
{
	(void)state;
	static char pkt[GDB_PACKET_SIZE];
	size_t n = 0;
	n += (size_t)sprintf(pkt, "M400000,1:0");
	while (n + 2 < sizeof(pkt) - 1) {
		pkt[n++] = '*';
		pkt[n++] = '~';
	}
	pkt[n] = 0;
	assert_string_equal(ask(pkt), "E07");
}

static void test_a_packet_of_exactly_packet_size_is_accepted(void **state)
{
	(void)state;
	static char pkt[GDB_PACKET_SIZE + 1];
	int head = sprintf(pkt, "X400000,%x:", GDB_PACKET_SIZE - 13);
	assert_int_equal(head, 13);
	memset(pkt + head, 'A', GDB_PACKET_SIZE - head);
	/* 0x3ff3 bytes from 0x400000: four pages. */
	fake.maps[fake.map_count].gva = FAKE_VA_DATA + 0x2000;
	fake.maps[fake.map_count++].gpa = 0x4000;
	fake.maps[fake.map_count].gva = FAKE_VA_DATA + 0x3000;
	fake.maps[fake.map_count++].gpa = 0x5000;
	assert_string_equal(ask(pkt), "OK");
	assert_int_equal(fake.phys[0x5ff2], 'A');
	assert_int_not_equal(fake.phys[0x5ff3], 'A');
}

static void test_binary_data_carries_every_byte_value(void **state)
{
	(void)state;
	uint8_t pkt[16 + 2 * 256], want[256];
	size_t n = (size_t)sprintf((char *)pkt, "X400000,100:");
	for (int b = 0; b < 256; b++) {
		want[b] = (uint8_t)b;
		if (b == '#' || b == '$' || b == '}' || b == '*') {
			pkt[n++] = '}';
			pkt[n++] = (uint8_t)(b ^ 0x20);
		} else {
			pkt[n++] = (uint8_t)b;
		}
	}
	fake_line_packet_bytes(pkt, n);
	serve();
	assert_string_equal(fake_line_next(NULL), "OK");
	assert_memory_equal(fake.phys + 0x1000, want, 256);
}

static void test_replies_are_run_length_encoded(void **state)
{
	(void)state;
	fake_line_packet("g");
	serve();
	const char *raw = fake_line_rest();
	assert_non_null(strchr(raw, '*'));
	assert_true(strlen(raw) < 600);
	size_t len;
	assert_non_null(fake_line_next(&len));
	assert_int_equal(len, 2 * gdb_view_bytes(&gdb_view_amd64));
}

static void test_run_lengths_never_use_hash_or_dollar_as_count(void **state)
{
	(void)state;
	/* Runs of 7 and 8 zero digits would need counts '#' and '$'. */
	memset(fake.phys + 0x1000, 0x11, 16);
	memset(fake.phys + 0x1001, 0, 3);	/* "11" "000000" "11": 6 zeros */
	memset(fake.phys + 0x1006, 0, 4);	/* 8 zeros: '0' + 7 more */
	fake_line_packet("m400000,10");
	serve();
	const char *raw = fake_line_rest();
	const char *star;
	for (const char *p = raw; (star = strchr(p, '*')) != NULL; p = star + 1)
		assert_true(star[1] != '#' && star[1] != '$');
	assert_string_equal(fake_line_next(NULL), "11000000111100000000111111111111");
}

static void test_no_ack_mode_starts_after_gdb_acknowledges_the_OK(void **state)
{
	(void)state;
	line.auto_ack = false;
	fake_line_packet("QStartNoAckMode");
	fake_line_str("+");
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "+$OK#9a$1#31");
}

static void test_no_ack_mode_waits_while_the_OK_is_unacknowledged(void **state)
{
	(void)state;
	line.auto_ack = false;
	fake_line_packet("QStartNoAckMode");
	fake_line_str("-+");	/* gdb lost our OK: we resend it in ack mode */
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "+$OK#9a$OK#9a$1#31");
}

static void test_no_ack_mode_answers_a_corrupt_packet_E05(void **state)
{
	(void)state;
	enter_no_ack();
	fake_line_str("$qAttached#00");
	serve();
	assert_string_equal(fake_line_next(NULL), "E05");
	assert_int_equal(line.acks + line.naks, 0);
}

static void test_no_ack_mode_ignores_naks(void **state)
{
	(void)state;
	enter_no_ack();
	fake_line_packet("qAttached");
	fake_line_str("-");
	serve();
	assert_string_equal(fake_line_rest(), "$1#31");
}

static void test_qSupported_in_no_ack_mode_means_a_new_gdb_in_ack_mode(void **state)
{
	(void)state;
	enter_no_ack();
	fake_line_str("+");
	fake_line_packet("qSupported:swbreak+");
	serve();
	assert_int_equal(fake_line_rest()[0], '+');
}

/* lldb opens with `+$QStartNoAckMode` (no qSupported first) and waits for
 * the '+' to it: after a gdb that left in no-ack mode it must get one. */
static void test_a_plus_in_no_ack_mode_is_a_new_debugger_in_ack_mode(void **state)
{
	(void)state;
	enter_no_ack();
	fake_line_str("+");
	fake_line_packet("QStartNoAckMode");
	serve();
	assert_string_equal(fake_line_rest(), "+$OK#9a");
	/* lldb acknowledged the OK (auto_ack): no-ack mode again. */
	line.out_pos = line.out_len;
	assert_string_equal(ask("qAttached"), "1");
	assert_string_equal(fake_line_rest(), "");
	assert_int_equal(line.acks, 0);
}

static void test_a_new_debugger_finds_no_breakpoint_of_the_last_one(void **state)
{
	(void)state;
	enter_no_ack();
	assert_string_equal(ask("Z0,400000,1"), "OK");
	assert_string_equal(ask("Z2,400100,4"), "OK");
	fake_line_str("+");
	fake_line_packet("qSupported:swbreak+");
	serve();
	assert_int_equal(fake.bp_clear_calls, 1);
	assert_int_equal(fake_bp_count(BP_SOFTWARE), 0);
	assert_int_equal(fake_bp_count(BP_WRITE), 0);
}

static void test_a_new_packet_counts_as_the_ack_gdb_lost(void **state)
{
	(void)state;
	line.auto_ack = false;
	fake_line_packet("qAttached");	/* its '+' never comes */
	fake_line_packet("qC");
	serve();
	assert_string_equal(fake_line_next(NULL), "1");
	assert_string_equal(fake_line_next(NULL), "QC01");
}

static void test_each_packet_waits_for_the_ack_of_the_one_before(void **state)
{
	(void)state;
	/* monitor output goes as 'O' packets then OK: two packets, one reply. */
	line.auto_ack = false;
	fake_line_packet("qRcmd,6578697473");	/* "exits" */
	fake_line_str("-+");			/* the O packet: lost, then acked */
	fake_line_str("+");			/* the OK */
	serve();
	const char *o = fake_line_next(NULL);
	assert_non_null(o);
	assert_int_equal(o[0], 'O');
	assert_string_equal(fake_line_next(NULL), o);	/* retransmitted */
	assert_string_equal(fake_line_next(NULL), "OK");
	assert_null(fake_line_next(NULL));
}

static void test_break_in_stops_a_running_guest(void **state)
{
	(void)state;
	fake_line_str("\x03");
	assert_true(gdb_poll(g));
}

static void test_acks_and_noise_do_not_stop_a_running_guest(void **state)
{
	(void)state;
	fake_line_str("+++\r\nxyz-");
	assert_false(gdb_poll(g));
	assert_int_equal(line.in_pos, line.in_len);
}

static void test_a_packet_while_running_stops_the_guest_and_is_served(void **state)
{
	(void)state;
	fake_line_str("+");
	fake_line_packet("qAttached");
	assert_true(gdb_poll(g));
	assert_true(line.in_pos < line.in_len);
	struct target_stop in = { .kind = STOP_INTERRUPT };
	assert_int_equal(fake_serve(g, &in), FAKE_IDLE);
	assert_string_equal(fake_line_next(NULL), "1");
}

static void test_polling_again_mid_packet_leaves_it_for_gdb_serve(void **state)
{
	(void)state;
	fake_line_packet("qAttached");
	assert_true(gdb_poll(g));
	size_t at = line.in_pos;
	assert_true(gdb_poll(g));
	assert_int_equal(line.in_pos, at);
	fake_serve(g, &(struct target_stop){ .kind = STOP_INTERRUPT });
	assert_string_equal(fake_line_next(NULL), "1");
}

static void test_a_quiet_line_does_not_stop_the_guest(void **state)
{
	(void)state;
	line.at_end = GDB_IO_NONE;
	assert_false(gdb_poll(g));
}

static void test_a_nak_while_running_resends_the_detach_OK(void **state)
{
	(void)state;
	line.auto_ack = false;
	fake_line_packet("D");
	assert_int_equal(serve(), GDB_DETACHED);
	line.out_pos = line.out_len;
	fake_line_str("-");
	assert_false(gdb_poll(g));
	assert_string_equal(fake_line_rest(), "$OK#9a");
}

static void test_a_line_that_hangs_up_detaches(void **state)
{
	(void)state;
	assert_string_equal(ask("Z0,400000,1"), "OK");
	fake.resumes = 0;
	assert_int_equal(gdb_serve(g, &attach), GDB_DETACHED);
	assert_int_equal(fake.bp_clear_calls, 1);
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(fake.resume_mode, RESUME_DETACH);
}

static void test_a_slow_line_is_polled_until_bytes_arrive(void **state)
{
	(void)state;
	line.none_between = true;
	fake_line_packet("qAttached");
	serve();
	assert_string_equal(fake_line_rest(), "+$1#31");
}

static void test_a_hang_up_while_waiting_for_an_ack_detaches(void **state)
{
	(void)state;
	line.auto_ack = false;
	fake_line_packet("qRcmd,6578697473");
	assert_int_equal(gdb_serve(g, &attach), GDB_DETACHED);
	assert_int_equal(fake.resumes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_a_good_packet_is_acknowledged_then_answered, setup),
		cmocka_unit_test_setup(test_a_bad_checksum_gets_a_nak_and_is_not_executed, setup),
		cmocka_unit_test_setup(test_a_retransmission_after_a_nak_is_answered, setup),
		cmocka_unit_test_setup(test_uppercase_checksum_digits_are_accepted, setup),
		cmocka_unit_test_setup(test_a_nak_from_gdb_makes_the_stub_send_its_last_reply_again, setup),
		cmocka_unit_test_setup(test_noise_between_packets_is_ignored, setup),
		cmocka_unit_test_setup(test_a_dollar_inside_a_packet_starts_it_over, setup),
		cmocka_unit_test_setup(test_a_gdb_that_vanished_mid_packet_is_replaced_by_the_next, setup),
		cmocka_unit_test_setup(test_a_non_hex_checksum_gets_a_nak, setup),
		cmocka_unit_test_setup(test_a_dollar_in_place_of_the_checksum_resynchronises, setup),
		cmocka_unit_test_setup(test_an_empty_packet_gets_the_empty_reply, setup),
		cmocka_unit_test_setup(test_escaped_bytes_are_decoded, setup),
		cmocka_unit_test_setup(test_run_length_encoding_is_expanded, setup),
		cmocka_unit_test_setup(test_a_run_repeats_the_raw_byte_before_unescaping, setup),
		cmocka_unit_test_setup(test_a_run_count_out_of_range_is_answered_E22, setup),
		cmocka_unit_test_setup(test_a_run_at_the_start_of_a_packet_is_answered_E22, setup),
		cmocka_unit_test_setup(test_a_dangling_escape_is_answered_E22, setup),
		cmocka_unit_test_setup(test_an_overlong_packet_is_acknowledged_and_answered_E07, setup),
		cmocka_unit_test_setup(test_a_run_that_overflows_the_buffer_is_answered_E07, setup),
		cmocka_unit_test_setup(test_a_packet_of_exactly_packet_size_is_accepted, setup),
		cmocka_unit_test_setup(test_binary_data_carries_every_byte_value, setup),
		cmocka_unit_test_setup(test_replies_are_run_length_encoded, setup),
		cmocka_unit_test_setup(test_run_lengths_never_use_hash_or_dollar_as_count, setup),
		cmocka_unit_test_setup(test_no_ack_mode_starts_after_gdb_acknowledges_the_OK, setup),
		cmocka_unit_test_setup(test_no_ack_mode_waits_while_the_OK_is_unacknowledged, setup),
		cmocka_unit_test_setup(test_no_ack_mode_answers_a_corrupt_packet_E05, setup),
		cmocka_unit_test_setup(test_no_ack_mode_ignores_naks, setup),
		cmocka_unit_test_setup(test_qSupported_in_no_ack_mode_means_a_new_gdb_in_ack_mode, setup),
		cmocka_unit_test_setup(test_a_plus_in_no_ack_mode_is_a_new_debugger_in_ack_mode, setup),
		cmocka_unit_test_setup(test_a_new_debugger_finds_no_breakpoint_of_the_last_one, setup),
		cmocka_unit_test_setup(test_a_new_packet_counts_as_the_ack_gdb_lost, setup),
		cmocka_unit_test_setup(test_each_packet_waits_for_the_ack_of_the_one_before, setup),
		cmocka_unit_test_setup(test_break_in_stops_a_running_guest, setup),
		cmocka_unit_test_setup(test_acks_and_noise_do_not_stop_a_running_guest, setup),
		cmocka_unit_test_setup(test_a_packet_while_running_stops_the_guest_and_is_served, setup),
		cmocka_unit_test_setup(test_polling_again_mid_packet_leaves_it_for_gdb_serve, setup),
		cmocka_unit_test_setup(test_a_quiet_line_does_not_stop_the_guest, setup),
		cmocka_unit_test_setup(test_a_nak_while_running_resends_the_detach_OK, setup),
		cmocka_unit_test_setup(test_a_line_that_hangs_up_detaches, setup),
		cmocka_unit_test_setup(test_a_slow_line_is_polled_until_bytes_arrive, setup),
		cmocka_unit_test_setup(test_a_hang_up_while_waiting_for_an_ack_detaches, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
