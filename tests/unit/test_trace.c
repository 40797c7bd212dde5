/* The exit trace's reader (hv/trace_read.c) over rings filled as the exit
 * path fills them: oldest first, the open exit last, a wrapped ring, two
 * vCPUs merged by TSC, and the record as text and as CSV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/hooks.h"
#include "hv/trace.h"

struct vcpu vcpus[VCPU_MAX];
unsigned vcpu_count;

static struct trace_rec rings[2][TRACE_RECORDS];

/* What the exit path does for one exit (trace_exit_begin/end, the
 * VMREADs by hand); resume < 0 leaves it open. */
static void exit_at(struct vcpu *v, uint64_t tsc, uint32_t reason, uint64_t rip, long resume)
{
	struct trace_rec *t = v->trace_cur;
	t->tsc = tsc;
	t->reason_word = reason;
	t->rip = rip;
	t->qual = rip ^ 0xff;
	if (resume < 0)
		return;
	t->resume = (uint32_t)resume;
	v->trace_cur = t + 1 == rings[v->index] + TRACE_RECORDS ? rings[v->index] : t + 1;
}

static int setup(void **state)
{
	(void)state;
	memset(rings, 0, sizeof(rings));
	vcpu_count = 2;
	for (unsigned i = 0; i < 2; i++) {
		vcpus[i].index = i;
		vcpus[i].trace_ring = vcpus[i].trace_cur = rings[i];
	}
	return 0;
}

struct got {
	struct trace_entry e[8];
	unsigned n;
};

static void keep(void *p, const struct trace_entry *e)
{
	struct got *g = p;
	if (g->n < 8)
		g->e[g->n] = *e;
	g->n++;
}

static void test_records_come_oldest_first_with_the_open_exit_last(void **state)
{
	(void)state;
	exit_at(&vcpus[0], 1000, 10, 0x100, 1106);
	exit_at(&vcpus[0], 2000, 30, 0x200, 2128);
	exit_at(&vcpus[0], 3000, 0, 0x300, -1);
	struct got g = { .n = 0 };
	assert_int_equal(trace_count(0), 3);
	assert_int_equal(trace_walk(0, 2, keep, &g), 2);
	assert_int_equal(g.e[0].tsc, 2000);
	assert_int_equal(g.e[0].ticks, 128);
	assert_int_equal(g.e[0].reason, 30);
	assert_int_equal(g.e[0].qual, 0x200 ^ 0xff);
	assert_int_equal(g.e[1].tsc, 3000);
	assert_true(g.e[1].ticks == TRACE_TICKS_OPEN);
}

static void test_a_wrapped_ring_holds_one_less_than_its_size(void **state)
{
	(void)state;
	for (unsigned i = 0; i < TRACE_RECORDS + 5; i++)
		exit_at(&vcpus[1], 100 + 10ull * i, 10, i, 104 + 10 * (long)i);
	assert_int_equal(trace_count(1), TRACE_RECORDS - 1);
	struct got g = { .n = 0 };
	trace_walk(1, 1, keep, &g);
	assert_int_equal(g.e[0].tsc, 100 + 10ull * (TRACE_RECORDS + 4));
	assert_int_equal(g.e[0].ticks, 4);
}

static void test_all_vcpus_merge_by_tsc(void **state)
{
	(void)state;
	exit_at(&vcpus[0], 1000, 10, 1, 1010);
	exit_at(&vcpus[1], 1500, 12, 2, 1520);
	exit_at(&vcpus[0], 2000, 10, 3, 2010);
	exit_at(&vcpus[1], 2500, 48, 4, 2600);
	exit_at(&vcpus[1], 2700, 1, 5, -1);
	struct got g = { .n = 0 };
	assert_int_equal(trace_count(-1), 5);
	assert_int_equal(trace_walk(-1, 4, keep, &g), 4);
	assert_int_equal(g.e[0].tsc, 1500);
	assert_int_equal(g.e[0].vcpu, 1);
	assert_int_equal(g.e[1].tsc, 2000);
	assert_int_equal(g.e[1].vcpu, 0);
	assert_int_equal(g.e[2].tsc, 2500);
	assert_int_equal(g.e[3].tsc, 2700);
	assert_true(g.e[3].ticks == TRACE_TICKS_OPEN);
}

static void test_ticks_survive_the_low_half_of_the_tsc_wrapping(void **state)
{
	(void)state;
	exit_at(&vcpus[0], 0x1fffffff0ull, 10, 1, 0x10);
	struct got g = { .n = 0 };
	trace_walk(0, 1, keep, &g);
	assert_int_equal(g.e[0].ticks, 0x20);
}

static void test_a_record_reads_as_text_and_as_csv(void **state)
{
	(void)state;
	char line[200];
	struct trace_entry e = { .tsc = 1234, .vcpu = 1, .reason = 10, .qual = 0, .rip = 0x100a, .ticks = 106,
				 .verdict = HOOK_SKIP + 1 };
	trace_format(line, sizeof(line), &e);
	assert_string_equal(line, "tsc=1234 vcpu=1 reason=CPUID(10) qual=0x0 rip=0x100a ticks=106 hook=skip");
	trace_format_csv(line, sizeof(line), &e);
	assert_string_equal(line, "1234,1,CPUID,10,0x0,0x100a,106,skip");
	e.ticks = TRACE_TICKS_OPEN;
	e.reason = 33u | 1u << 31;
	e.verdict = 0;
	trace_format(line, sizeof(line), &e);
	assert_string_equal(line, "tsc=1234 vcpu=1 reason=INVALID_GUEST_STATE(33),entry-failed qual=0x0 rip=0x100a "
				  "ticks=open hook=-");
	trace_format_csv(line, sizeof(line), &e);
	assert_string_equal(line, "1234,1,INVALID_GUEST_STATE,2147483681,0x0,0x100a,,-");
}

static void test_no_ring_no_records(void **state)
{
	(void)state;
	vcpus[1].trace_ring = NULL;
	assert_int_equal(trace_count(1), 0);
	assert_int_equal(trace_walk(7, 3, keep, &(struct got){ .n = 0 }), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_records_come_oldest_first_with_the_open_exit_last, setup),
		cmocka_unit_test_setup(test_a_wrapped_ring_holds_one_less_than_its_size, setup),
		cmocka_unit_test_setup(test_all_vcpus_merge_by_tsc, setup),
		cmocka_unit_test_setup(test_ticks_survive_the_low_half_of_the_tsc_wrapping, setup),
		cmocka_unit_test_setup(test_a_record_reads_as_text_and_as_csv, setup),
		cmocka_unit_test_setup(test_no_ring_no_records, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
