/* test_apic_view.c — a local APIC's registers in words (hv/apic_view.c),
 * checked line by line against known register values: a virtual-APIC page
 * with a timer interrupt in service and two requests waiting, and the
 * physical view in xAPIC and x2APIC modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/apic_view.h"

static char out[4096];

static void collect(void *ctx, const char *line)
{
	(void)ctx;
	strncat(out, line, sizeof(out) - strlen(out) - 2);
	strcat(out, "\n");
}

static void set(struct apic_view *a, unsigned offset, uint32_t value)
{
	a->reg[offset / 16] = value;
}

static void set_vector(struct apic_view *a, unsigned offset, unsigned vector)
{
	a->reg[(offset + (vector / 32) * 16) / 16] |= 1u << (vector % 32);
}

/* Linux-like: timer 0xec periodic, LINT0 ExtINT masked, LINT1 NMI. */
static struct apic_view linux_like(enum apic_view_mode mode)
{
	struct apic_view a = { .mode = mode, .vcpu = 1, .have_current = true };
	set(&a, APIC_OFF_ID, mode == APIC_VIEW_X2APIC ? 1 : 0x01000000);
	set(&a, APIC_OFF_VERSION, 0x00050014);
	set(&a, APIC_OFF_TPR, 0x20);
	set(&a, APIC_OFF_PPR, 0xe0);
	set(&a, APIC_OFF_LDR, 0x02000000);
	set(&a, APIC_OFF_DFR, 0xffffffff);
	set(&a, APIC_OFF_SVR, 0x1ff);
	set(&a, APIC_OFF_ICR_LOW, 0x000000fb);
	a.icr_dest = 0;
	set(&a, APIC_OFF_LVT_TIMER, 0x000200ec);
	set(&a, APIC_OFF_LVT_THERMAL, 0x00010000);
	set(&a, APIC_OFF_LVT_PERF, 0x00000400);
	set(&a, APIC_OFF_LVT_LINT0, 0x00010700);
	set(&a, APIC_OFF_LVT_LINT1, 0x00000400);
	set(&a, APIC_OFF_LVT_ERROR, 0x000000fe);
	set(&a, APIC_OFF_TIMER_INITIAL, 100000);
	set(&a, APIC_OFF_TIMER_CURRENT, 41234);
	set(&a, APIC_OFF_TIMER_DIVIDE, 0x3);
	set_vector(&a, APIC_OFF_ISR, 0xec);
	set_vector(&a, APIC_OFF_IRR, 0x31);
	set_vector(&a, APIC_OFF_IRR, 0xef);
	set_vector(&a, APIC_OFF_TMR, 0x31);
	a.rvi = 0xef;
	a.svi = 0xec;
	return a;
}

static const char *report(const struct apic_view *a)
{
	out[0] = 0;
	apic_view_report(a, collect, NULL);
	return out;
}

static void test_the_virtual_apic_page_is_decoded_line_by_line(void **state)
{
	(void)state;
	struct apic_view a = linux_like(APIC_VIEW_VIRTUAL);
	assert_string_equal(report(&a),
		"vCPU 1, virtual-APIC page (apic=virtual)\n"
		"ID   0x01000000 (APIC id 1)   version 0x00050014 (version 0x14, 6 LVT entries)\n"
		"TPR  0x20 (class 2)   PPR 0xe0 (class 14): vectors of class 14 and below wait\n"
		"RVI  0xef (held by PPR)   SVI 0xec (in service)\n"
		"IRR  0x31 0xef\n"
		"ISR  0xec\n"
		"TMR  0x31\n"
		"SVR  0x000001ff: APIC software-enabled, spurious vector 0xff\n"
		"LDR  0x02000000 (logical id 0x02)   DFR 0xffffffff (flat)   ESR 0x00000000\n"
		"ICR  0x00000000_000000fb: vector 0xfb, fixed, physical, de-assert, edge, no shorthand, destination 0x0\n"
		"LVT timer    0x000200ec: vector 0xec, periodic, unmasked\n"
		"LVT thermal  0x00010000: vector 0x00, fixed, masked\n"
		"LVT perfmon  0x00000400: vector 0x00, NMI, unmasked\n"
		"LVT LINT0    0x00010700: vector 0x00, ExtINT, masked, edge, active high\n"
		"LVT LINT1    0x00000400: vector 0x00, NMI, unmasked, edge, active high\n"
		"LVT error    0x000000fe: vector 0xfe, fixed, unmasked\n"
		"timer: initial count 100000, current count 41234, divide by 16 (0x3)\n");
}

static void test_the_physical_views_say_which_and_skip_rvi_svi(void **state)
{
	(void)state;
	struct apic_view a = linux_like(APIC_VIEW_X2APIC);
	set(&a, APIC_OFF_LDR, 0x00010002);
	a.icr_dest = 3;
	set(&a, APIC_OFF_ICR_LOW, 0x000c4500);
	a.have_current = false;
	const char *r = report(&a);
	assert_non_null(strstr(r, "vCPU 1, physical APIC, x2APIC mode\n"));
	assert_non_null(strstr(r, "ID   0x00000001 (APIC id 1)"));
	assert_null(strstr(r, "RVI"));
	assert_non_null(strstr(r, "LDR  0x00010002 (cluster 1, bits 0x0002)   ESR 0x00000000\n"));
	assert_non_null(strstr(r, "ICR  0x00000003_000c4500: vector 0x00, INIT, physical, assert, edge, "
				  "all excluding self, destination 0x3\n"));
	assert_non_null(strstr(r, "current count (not readable here)"));
	a = linux_like(APIC_VIEW_XAPIC);
	assert_non_null(strstr(report(&a), "vCPU 1, physical APIC, xAPIC mode\n"));
}

static void test_vectors_are_listed_lowest_first_and_the_highest_found(void **state)
{
	(void)state;
	struct apic_view a = { 0 };
	uint8_t v[4];
	assert_int_equal(apic_view_highest(&a, APIC_OFF_IRR), -1);
	assert_int_equal(apic_view_vectors(&a, APIC_OFF_IRR, v, 4), 0);
	set_vector(&a, APIC_OFF_IRR, 0);
	set_vector(&a, APIC_OFF_IRR, 32);
	set_vector(&a, APIC_OFF_IRR, 255);
	assert_int_equal(apic_view_vectors(&a, APIC_OFF_IRR, v, 4), 3);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[1], 32);
	assert_int_equal(v[2], 255);
	assert_int_equal(apic_view_vectors(&a, APIC_OFF_IRR, v, 1), 3);	/* counts past max */
	assert_int_equal(apic_view_highest(&a, APIC_OFF_IRR), 255);
	assert_int_equal(apic_view_highest(&a, APIC_OFF_ISR), -1);
}

static void test_divisors_timer_modes_and_delivery_modes_follow_the_sdm(void **state)
{
	(void)state;
	assert_int_equal(apic_view_divisor(0x0), 2);
	assert_int_equal(apic_view_divisor(0x3), 16);
	assert_int_equal(apic_view_divisor(0x8), 32);
	assert_int_equal(apic_view_divisor(0xa), 128);
	assert_int_equal(apic_view_divisor(0xb), 1);
	assert_string_equal(apic_view_timer_mode(0x00000), "one-shot");
	assert_string_equal(apic_view_timer_mode(0x20000), "periodic");
	assert_string_equal(apic_view_timer_mode(0x40000), "TSC-deadline");
	assert_string_equal(apic_view_delivery(0x500), "INIT");
	assert_string_equal(apic_view_delivery(0x600), "start-up");
	assert_string_equal(apic_view_delivery(0x100), "lowest-priority");
}

static void test_an_rvi_above_ppr_is_deliverable_and_an_empty_page_says_so(void **state)
{
	(void)state;
	struct apic_view a = { .mode = APIC_VIEW_VIRTUAL };
	const char *r = report(&a);
	assert_non_null(strstr(r, "RVI  0x00 (nothing requested)   SVI 0x00 (nothing in service)\n"));
	assert_non_null(strstr(r, "IRR  none\n"));
	a.rvi = 0x31;
	set(&a, APIC_OFF_PPR, 0x20);
	assert_non_null(strstr(report(&a), "RVI  0x31 (deliverable when IF=1)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_virtual_apic_page_is_decoded_line_by_line),
		cmocka_unit_test(test_the_physical_views_say_which_and_skip_rvi_svi),
		cmocka_unit_test(test_vectors_are_listed_lowest_first_and_the_highest_found),
		cmocka_unit_test(test_divisors_timer_modes_and_delivery_modes_follow_the_sdm),
		cmocka_unit_test(test_an_rvi_above_ppr_is_deliverable_and_an_empty_page_says_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
