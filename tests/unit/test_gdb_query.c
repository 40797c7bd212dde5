/* General queries and the small commands: qSupported, the target
 * description and thread list in qXfer pieces, threads by H, T, qC and
 * qfThreadInfo, qAttached, and the empty reply for what we do not support. */
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

static void test_qSupported_offers_what_the_stub_does(void **state)
{
	(void)state;
	const char *r = fake_ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
	assert_non_null(r);
	assert_string_equal(r, "PacketSize=4000;qXfer:features:read+;qXfer:threads:read+;swbreak+;"
			       "hwbreak+;vContSupported+;QStartNoAckMode+");
}

static void test_qSupported_without_features_is_answered_too(void **state)
{
	(void)state;
	assert_non_null(strstr(fake_ask("qSupported"), "PacketSize=4000"));
}

/* Reads a qXfer document in pieces of `chunk` bytes, undoing escapes. */
static size_t xfer_all(const char *object, size_t chunk, char *out, size_t cap)
{
	char pkt[96];
	size_t total = 0;
	for (int rounds = 0; rounds < 1000; rounds++) {
		size_t len;
		snprintf(pkt, sizeof(pkt), "%s%zx,%zx", object, total, chunk);
		fake_line_packet(pkt);
		fake_serve(&gdb_stub0, &(struct target_stop){ .kind = STOP_ATTACH });
		const char *r = fake_line_next(&len);
		assert_non_null(r);
		assert_true(r[0] == 'm' || r[0] == 'l');
		for (size_t i = 1; i < len; i++) {
			char c = r[i] == '}' ? r[++i] ^ 0x20 : r[i];
			assert_true(total < cap);
			out[total++] = c;
		}
		if (r[0] == 'l')
			return total;
	}
	fail_msg("qXfer never ended");
	return 0;
}

static void test_target_xml_arrives_whole_in_pieces(void **state)
{
	(void)state;
	static char doc[16384];
	size_t size;
	const char *xml = gdb_target_xml(&gdb_view_amd64, &size);
	assert_non_null(xml);
	assert_int_equal(xfer_all("qXfer:features:read:target.xml:", 0x100, doc, sizeof(doc)), size);
	assert_memory_equal(doc, xml, size);
	assert_int_equal(xfer_all("qXfer:features:read:target.xml:", 0x4000, doc, sizeof(doc)), size);
}

static void test_qXfer_at_the_end_is_an_empty_last_piece(void **state)
{
	(void)state;
	char pkt[80];
	size_t size;
	gdb_target_xml(&gdb_view_amd64, &size);
	snprintf(pkt, sizeof(pkt), "qXfer:features:read:target.xml:%zx,100", size);
	assert_string_equal(fake_ask(pkt), "l");
	snprintf(pkt, sizeof(pkt), "qXfer:features:read:target.xml:%zx,100", size + 1);
	assert_string_equal(fake_ask(pkt), "E22");
}

static void test_qXfer_of_an_unknown_annex_is_E02(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("qXfer:features:read:i386-64bit.xml:0,100"), "E02");
	assert_string_equal(fake_ask("qXfer:threads:read:x:0,100"), "E02");
}

static void test_malformed_qXfer_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("qXfer:features:read:target.xml:0"), "E22");
	assert_string_equal(fake_ask("qXfer:features:read:target.xml:,10"), "E22");
	assert_string_equal(fake_ask("qXfer:features:read:target.xml:0,10,"), "E22");
	assert_string_equal(fake_ask("qXfer:features:read"), "E22");
}

static void test_qXfer_of_an_object_we_do_not_have_gets_the_empty_reply(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("qXfer:memory-map:read::0,100"), "");
	assert_string_equal(fake_ask("qXfer:features:write:target.xml:0:00"), "");
}

static void test_the_thread_list_names_vcpu_0(void **state)
{
	(void)state;
	static char doc[512];
	size_t n = xfer_all("qXfer:threads:read::", 0x1000, doc, sizeof(doc));
	doc[n] = 0;
	assert_non_null(strstr(doc, "<thread id=\"01\" core=\"0\" name=\"vCPU 0\">APIC id 0</thread>"));
}

static void test_one_thread_per_vcpu(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("qfThreadInfo"), "m01");
	assert_string_equal(fake_ask("qsThreadInfo"), "l");
	assert_string_equal(fake_ask("qC"), "QC01");
	assert_string_equal(fake_ask("qThreadExtraInfo,1"),
			    "7643505520302c20415049432069642030");	/* "vCPU 0, APIC id 0" */
	assert_string_equal(fake_ask("qThreadExtraInfo,2"), "E02");
	assert_string_equal(fake_ask("qThreadExtraInfo"), "E22");
}

static void test_H_selects_our_thread_any_thread_or_all(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("Hg0"), "OK");
	assert_string_equal(fake_ask("Hc-1"), "OK");
	assert_string_equal(fake_ask("Hg1"), "OK");
	assert_string_equal(fake_ask("Hg01"), "OK");
	assert_string_equal(fake_ask("Hg2"), "E02");
	assert_string_equal(fake_ask("Hx1"), "E22");
	assert_string_equal(fake_ask("H"), "E22");
	assert_string_equal(fake_ask("Hgzz"), "E22");
}

static void test_T_says_only_our_thread_is_alive(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("T1"), "OK");
	assert_string_equal(fake_ask("T2"), "E01");
	assert_string_equal(fake_ask("T"), "E22");
}

static void test_qAttached_says_attached_so_quit_detaches(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("qAttached"), "1");
	assert_string_equal(fake_ask("qAttached:1"), "1");
}

static void test_QStartNoAckMode_with_arguments_is_E22(void **state)
{
	(void)state;
	assert_string_equal(fake_ask("QStartNoAckMode:1"), "E22");
}

static void test_unsupported_packets_get_the_empty_reply(void **state)
{
	(void)state;
	static const char *const packets[] = {
		"vMustReplyEmpty", "qOffsets", "qTStatus", "qSymbol::", "x400000,4", "!", "R00",
		"vKill;1", "vRun;", "vFile:open:", "qCRC:400000,4", "vContX", "qSupportedX",
		"QNonStop:1", "i", "\x7f", "\xff",
	};
	for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++)
		assert_string_equal(fake_ask(packets[i]), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_qSupported_offers_what_the_stub_does, fake_setup),
		cmocka_unit_test_setup(test_qSupported_without_features_is_answered_too, fake_setup),
		cmocka_unit_test_setup(test_target_xml_arrives_whole_in_pieces, fake_setup),
		cmocka_unit_test_setup(test_qXfer_at_the_end_is_an_empty_last_piece, fake_setup),
		cmocka_unit_test_setup(test_qXfer_of_an_unknown_annex_is_E02, fake_setup),
		cmocka_unit_test_setup(test_malformed_qXfer_is_E22, fake_setup),
		cmocka_unit_test_setup(test_qXfer_of_an_object_we_do_not_have_gets_the_empty_reply, fake_setup),
		cmocka_unit_test_setup(test_the_thread_list_names_vcpu_0, fake_setup),
		cmocka_unit_test_setup(test_one_thread_per_vcpu, fake_setup),
		cmocka_unit_test_setup(test_H_selects_our_thread_any_thread_or_all, fake_setup),
		cmocka_unit_test_setup(test_T_says_only_our_thread_is_alive, fake_setup),
		cmocka_unit_test_setup(test_qAttached_says_attached_so_quit_detaches, fake_setup),
		cmocka_unit_test_setup(test_QStartNoAckMode_with_arguments_is_E22, fake_setup),
		cmocka_unit_test_setup(test_unsupported_packets_get_the_empty_reply, fake_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
