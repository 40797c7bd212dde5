/* The guest's ICR writes (hv/apic_icr.c) over fakes of the vCPU set and of
 * the real APIC: INIT and SIPI reach the vCPUs the destination names, every
 * other IPI reaches the hardware unchanged, and bad input (to itself, to no
 * vCPU, logical, a storm) is reported, rate-limited, and survives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/apic_icr.h"
#include "platform/log.h"

#define INIT_ASSERT 0x00004500u		/* INIT, level assert, edge */
#define INIT_DEASSERT 0x00008500u	/* INIT, level de-assert, level-triggered (Linux sends it) */
#define INIT_ASSERT_LEVEL 0x0000c500u	/* Linux's INIT: assert, level-triggered */
#define STARTUP(v) (0x00004600u | (v))
#define FIXED(v) (0x00004000u | (v))
#define NMI 0x00004400u

/* The vCPU set: three CPUs, APIC ids 0, 1 and 4 (ids need not be dense). */
struct vcpu vcpus[VCPU_MAX];
unsigned vcpu_count;
bool vcpu_sipi_native;	/* the software path: INIT/SIPI reach the vCPUs, not the hardware */

struct vcpu *vcpu_by_apic_id(uint32_t apic_id)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].state != VCPU_ABSENT && vcpus[i].apic_id == apic_id)
			return &vcpus[i];
	return NULL;
}

/* What reached whom, in order: "init 1", "sipi 4 0x08", "hw 0x1 0x40f1". */
static char calls[64][48];
static unsigned ncalls;
static uint64_t now;

static void record(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (ncalls < 64)
		vsnprintf(calls[ncalls++], sizeof(calls[0]), fmt, ap);
	va_end(ap);
}

void vcpu_guest_init(struct vcpu *v) { record("init %u", v->apic_id); }
void vcpu_guest_sipi(struct vcpu *v, uint8_t vector) { record("sipi %u 0x%02x", v->apic_id, vector); }
void apic_hw_send_ipi(uint32_t dest, uint32_t low) { record("hw 0x%x 0x%x", dest, low); }
uint64_t apic_hw_now(void) { return now; }

static char logs[16384];
static unsigned nlogs;

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	size_t used = strlen(logs);
	int n = snprintf(logs + used, sizeof(logs) - used, "%s: ", names[level]);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && used + n < sizeof(logs))
		vsnprintf(logs + used + n, sizeof(logs) - used - n, fmt, ap);
	va_end(ap);
	used = strlen(logs);
	if (used + 1 < sizeof(logs))
		strcat(logs, "\n");
	nlogs++;
}

static int setup(void **state)
{
	(void)state;
	memset(vcpus, 0, sizeof(vcpus));
	static const uint32_t ids[] = { 0, 1, 4 };
	for (unsigned i = 0; i < 3; i++) {
		vcpus[i].index = i;
		vcpus[i].apic_id = ids[i];
		vcpus[i].state = i ? VCPU_WAIT_SIPI : VCPU_RUNNING;
	}
	vcpu_count = 3;
	ncalls = 0;
	logs[0] = 0;
	nlogs = 0;
	now += 1000000000ull;	/* a fresh storm window */
	return 0;
}

static void expect_calls(const char *const *want, unsigned n)
{
	for (unsigned i = 0; i < n && i < ncalls; i++)
		assert_string_equal(calls[i], want[i]);
	if (ncalls != n)
		fail_msg("%u calls, expected %u (first: %s)", ncalls, n, ncalls ? calls[0] : "none");
}

static void expect_log(const char *text)
{
	if (!strstr(logs, text))
		fail_msg("no log line with \"%s\" in:\n%s", text, logs);
}

static void test_init_sipi_sipi_to_a_physical_id_starts_that_vcpu(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[0], 1, INIT_ASSERT_LEVEL);
	apic_icr_write(&vcpus[0], 1, INIT_DEASSERT);
	apic_icr_write(&vcpus[0], 1, STARTUP(0x08));
	apic_icr_write(&vcpus[0], 1, STARTUP(0x08));
	static const char *const want[] = { "init 1", "sipi 1 0x08", "sipi 1 0x08" };
	expect_calls(want, 3);
	expect_log("debug: apic: vCPU 0 sent INIT to APIC id 1\n");
	expect_log("debug: apic: vCPU 0 sent SIPI vector 0x08 to APIC id 1\n");
	expect_log("debug: apic: vCPU 0 sent INIT level de-assert: ignored");
}

/* sipi=native: the processor takes INIT and SIPI itself (wait-for-SIPI,
 * INIT/SIPI exits), so they go to the hardware like every other IPI. */
static void test_the_native_path_sends_init_and_sipi_to_the_hardware(void **state)
{
	(void)state;
	vcpu_sipi_native = true;
	apic_icr_write(&vcpus[0], 1, INIT_ASSERT_LEVEL);
	apic_icr_write(&vcpus[0], 1, STARTUP(0x08));
	vcpu_sipi_native = false;
	char init[32], sipi[32];
	snprintf(init, sizeof(init), "hw 0x1 0x%x", INIT_ASSERT_LEVEL);
	snprintf(sipi, sizeof(sipi), "hw 0x1 0x%x", STARTUP(0x08));
	const char *const want[] = { init, sipi };
	expect_calls(want, 2);
}

static void test_an_ap_may_start_another_by_sparse_apic_id(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[1], 4, INIT_ASSERT);
	apic_icr_write(&vcpus[1], 4, STARTUP(0x9f));
	static const char *const want[] = { "init 4", "sipi 4 0x9f" };
	expect_calls(want, 2);
}

static void test_all_excluding_self_names_every_other_vcpu(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[0], 0, INIT_ASSERT | ICR_SHORTHAND_OTHERS);
	apic_icr_write(&vcpus[0], 0, STARTUP(0x10) | ICR_SHORTHAND_OTHERS);
	static const char *const want[] = { "init 1", "init 4", "sipi 1 0x10", "sipi 4 0x10" };
	expect_calls(want, 4);
}

static void test_absent_vcpus_are_skipped_by_shorthands(void **state)
{
	(void)state;
	vcpus[1].state = VCPU_ABSENT;
	apic_icr_write(&vcpus[0], 0, INIT_ASSERT | ICR_SHORTHAND_OTHERS);
	static const char *const want[] = { "init 4" };
	expect_calls(want, 1);
}

static void test_all_including_self_and_broadcast_spare_the_sender_and_say_so(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[1], 0, INIT_ASSERT | ICR_SHORTHAND_ALL);
	apic_icr_write(&vcpus[1], APIC_DEST_BROADCAST, STARTUP(0x20));
	static const char *const want[] = { "init 0", "init 4", "sipi 0 0x20", "sipi 4 0x20" };
	expect_calls(want, 4);
	expect_log("warn: apic: vCPU 1 sent INIT to itself (APIC id 1): ignored");
	expect_log("warn: apic: vCPU 1 sent SIPI vector 0x20 to itself (APIC id 1): ignored");
}

static void test_init_to_itself_is_reported_and_ignored(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[0], 0, INIT_ASSERT);
	apic_icr_write(&vcpus[0], 0, INIT_ASSERT | ICR_SHORTHAND_SELF);
	expect_calls(NULL, 0);
	expect_log("warn: apic: vCPU 0 sent INIT to itself (APIC id 0): ignored");
}

static void test_logical_destinations_are_reported_unsupported(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[0], 0x02, INIT_ASSERT | ICR_DEST_LOGICAL);
	apic_icr_write(&vcpus[0], 0x02, STARTUP(0x08) | ICR_DEST_LOGICAL);
	expect_calls(NULL, 0);
	expect_log("warn: apic: vCPU 0 sent INIT with logical destination 0x2: not supported, ignored");
	expect_log("warn: apic: vCPU 0 sent SIPI vector 0x08 with logical destination 0x2: not supported");
}

/* The one test that sends to missing ids: it owns that report's count. */
static void test_sipi_to_a_missing_id_is_reported_and_rate_limited(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[0], 7, STARTUP(0x08));
	expect_calls(NULL, 0);
	expect_log("warn: apic: vCPU 0 sent SIPI vector 0x08 to APIC id 7: no vCPU has that id, ignored\n");
	for (unsigned i = 1; i < 1000; i++) {
		apic_icr_write(&vcpus[0], 7 + i % 3, STARTUP(0x08));
		now += APIC_STORM_TICKS / 10;	/* slowly: no storm */
	}
	/* 4 in full, then the 10th, 100th and 1000th with the count. */
	assert_int_equal(nlogs, 7);
	expect_log("no vCPU has that id, ignored (1000 times so far; lines in between suppressed)");
	assert_int_equal(ncalls, 0);
}

static void test_other_ipis_reach_the_hardware_unchanged(void **state)
{
	(void)state;
	apic_icr_write(&vcpus[0], 1, FIXED(0xf1));
	apic_icr_write(&vcpus[0], 0, FIXED(0x30) | ICR_SHORTHAND_SELF);
	apic_icr_write(&vcpus[1], APIC_DEST_BROADCAST, NMI);
	apic_icr_write(&vcpus[0], 0x0f, FIXED(0x41) | ICR_DEST_LOGICAL);
	apic_icr_write(&vcpus[0], 7, FIXED(0x42));	/* no vCPU: the hardware decides */
	static const char *const want[] = { "hw 0x1 0x40f1", "hw 0x0 0x44030", "hw 0xffffffff 0x4400",
					    "hw 0xf 0x4841", "hw 0x7 0x4042" };
	expect_calls(want, 5);
	assert_int_equal(nlogs, 0);
}

static void test_an_ipi_storm_is_reported_and_still_delivered(void **state)
{
	(void)state;
	for (unsigned i = 0; i < APIC_STORM_IPIS - 1; i++) {
		apic_icr_write(&vcpus[0], 0, FIXED(0x30) | ICR_SHORTHAND_SELF);
		now += 1;
	}
	assert_int_equal(nlogs, 0);
	apic_icr_write(&vcpus[0], 0, FIXED(0x30) | ICR_SHORTHAND_SELF);
	expect_log("warn: apic: IPI storm: vCPU 0 sent 1000 IPIs within 10000000 TSC ticks (the last: ICR 0x44030");
	for (unsigned i = 0; i < 5000; i++)
		apic_icr_write(&vcpus[0], 0, FIXED(0x30) | ICR_SHORTHAND_SELF);
	assert_int_equal(nlogs, 1);	/* once per window */
	assert_int_equal(ncalls, 64);	/* the recorder is full: every one was sent */
}

static void test_ipis_spread_over_time_are_no_storm(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3 * APIC_STORM_IPIS; i++) {
		apic_icr_write(&vcpus[1], 0, FIXED(0x30));
		now += APIC_STORM_TICKS / (APIC_STORM_IPIS - 10);
	}
	assert_int_equal(nlogs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_the_native_path_sends_init_and_sipi_to_the_hardware, setup),
		cmocka_unit_test_setup(test_init_sipi_sipi_to_a_physical_id_starts_that_vcpu, setup),
		cmocka_unit_test_setup(test_an_ap_may_start_another_by_sparse_apic_id, setup),
		cmocka_unit_test_setup(test_all_excluding_self_names_every_other_vcpu, setup),
		cmocka_unit_test_setup(test_absent_vcpus_are_skipped_by_shorthands, setup),
		cmocka_unit_test_setup(test_all_including_self_and_broadcast_spare_the_sender_and_say_so, setup),
		cmocka_unit_test_setup(test_init_to_itself_is_reported_and_ignored, setup),
		cmocka_unit_test_setup(test_logical_destinations_are_reported_unsupported, setup),
		cmocka_unit_test_setup(test_sipi_to_a_missing_id_is_reported_and_rate_limited, setup),
		cmocka_unit_test_setup(test_other_ipis_reach_the_hardware_unchanged, setup),
		cmocka_unit_test_setup(test_an_ipi_storm_is_reported_and_still_delivered, setup),
		cmocka_unit_test_setup(test_ipis_spread_over_time_are_no_storm, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
