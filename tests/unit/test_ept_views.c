/* Pages with two views (hv/ept_views.c) over a real EPT (hv/ept.c) whose
 * guest-physical addresses are host pointers (the hypervisor's identity
 * map, here): the execute view holds the int3, the data view the guest's
 * bytes; each violation swaps; an instruction that needs both runs once on
 * the original; guest writes reach the shadow; a stale TLB only flushes;
 * the refusals name their cause; the last int3 out gives the page back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/ept_views.h"
#include "hv/guest.h"
#include "platform/errno.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "platform/pmm.h"

#define PAGE 4096u
#define Q_READ 0x181u	/* SDM Vol. 3C Table 28-7: read, linear address valid, translated */
#define Q_WRITE 0x182u
#define Q_FETCH 0x184u
#define RIP_ELSEWHERE 0x7000u
#define RIP_ON_PAGE 0x1234u

/* ---- fakes: the platform below ept_views.c */

struct pmm phys_pages;
struct vcpu vcpus[VCPU_MAX];	/* which vCPUs must flush before a shadow is reused */
unsigned vcpu_count = 2;
struct guest_memory guest_mem;
static int shadows_live, invepts, rearm_steps;
static bool no_shadow;
static char last_log[300];

uint64_t pmm_alloc(struct pmm *p)
{
	(void)p;
	if (no_shadow)
		return 0;
	shadows_live++;
	return (uint64_t)(uintptr_t)aligned_alloc(PAGE, PAGE);
}

void pmm_free(struct pmm *p, uint64_t addr, uint64_t count)
{
	(void)p;
	assert_int_equal(count, 1);
	shadows_live--;
	free((void *)(uintptr_t)addr);
}

static uint8_t *ram;		/* 4 pages of "guest RAM" */
static uint8_t *mmio;		/* a page EPT maps uncached */

bool guest_phys_reachable(uint64_t gpa, uint64_t len)
{
	uint64_t r = (uint64_t)(uintptr_t)ram;
	return gpa >= r && gpa + len <= r + 4 * PAGE;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	(void)level;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
}

void debugger_arm_rearm_step(struct vcpu *v)
{
	(void)v;
	rearm_steps++;
}

void ept_views_invept(struct vcpu *v)
{
	(void)v;
	invepts++;
}

static void *table_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	void *p = aligned_alloc(PAGE, PAGE);
	*phys = (uint64_t)(uintptr_t)p;
	return p;
}

static void table_free(void *ctx, void *page, uint64_t phys)
{
	(void)ctx;
	(void)phys;
	free(page);
}

static void *table_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)(uintptr_t)phys;
}

static struct vcpu vcpu;

static uint64_t at(unsigned page, unsigned offset)
{
	return (uint64_t)(uintptr_t)ram + page * PAGE + offset;
}

static struct ept_mapping query(uint64_t gpa)
{
	struct ept_mapping m;
	assert_int_equal(ept_query(&vcpu.ept, gpa, &m), 0);
	assert_true(m.present);
	return m;
}

static const uint8_t *view_bytes(uint64_t gpa)
{
	return (const uint8_t *)(uintptr_t)query(gpa).hpa;
}

static int setup(void **state)
{
	static const struct ept_ops ops = { NULL, table_alloc, table_free, table_virt };
	(void)state;
	ram = aligned_alloc(PAGE, 4 * PAGE);
	mmio = aligned_alloc(PAGE, PAGE);
	for (unsigned i = 0; i < 4 * PAGE; i++)
		ram[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(ept_init(&vcpu.ept, &ops, true, true), 0);
	vcpu.ept.exec_only = true;
	assert_int_equal(ept_map(&vcpu.ept, at(0, 0), at(0, 0), 4 * PAGE, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&vcpu.ept, (uintptr_t)mmio, (uintptr_t)mmio, PAGE, EPT_RWX, EPT_MT_UC), 0);
	guest_mem.hv_start = at(3, 0);	/* the last page plays the hypervisor's region */
	guest_mem.hv_end = at(4, 0);
	invepts = rearm_steps = 0;
	no_shadow = false;
	last_log[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct ept_views_stats s;
	ept_views_stats(&s);
	assert_int_equal(s.pages, 0);	/* each test removes what it added */
	assert_true(shadows_live >= 0 && shadows_live <= (int)EPT_VIEW_PAGES);	/* spares kept */
	vcpus[1].state = VCPU_ABSENT;
	ept_destroy(&vcpu.ept);
	free(ram);
	free(mmio);
	return 0;
}

static void test_an_int3_goes_to_an_execute_only_shadow_and_the_guest_page_keeps_its_byte(void **state)
{
	(void)state;
	uint8_t orig = ram[0x10];
	assert_int_equal(ept_views_add_int3(&vcpu, at(0, 0x10)), 0);
	struct ept_mapping m = query(at(0, 0));
	assert_int_equal(m.perms, EPT_X);
	assert_true(m.hpa != at(0, 0));
	assert_int_equal(view_bytes(at(0, 0))[0x10], 0xcc);
	assert_int_equal(view_bytes(at(0, 0))[0x11], ram[0x11]);
	assert_int_equal(ram[0x10], orig);
	assert_int_equal(query(at(1, 0)).perms, EPT_RWX);	/* the next page is untouched */
	assert_true(ept_views_owns(at(0, 0xff0), 0x20));
	assert_false(ept_views_owns(at(1, 0), PAGE));
	assert_int_equal(ept_views_remove_int3(&vcpu, at(0, 0x10)), 0);
	m = query(at(0, 0));
	assert_int_equal(m.perms, EPT_RWX);
	assert_int_equal(m.hpa, at(0, 0));
	assert_int_equal(ept_views_remove_int3(&vcpu, at(0, 0x10)), -ENOENT);
}

static void test_a_read_swaps_to_the_guests_bytes_and_a_fetch_back_without_a_copy(void **state)
{
	(void)state;
	struct ept_views_stats before, after;
	assert_int_equal(ept_views_add_int3(&vcpu, at(1, 0x20)), 0);
	ept_views_stats(&before);
	int flushes = invepts;
	assert_true(ept_views_on_violation(&vcpu, at(1, 0x800), Q_READ, RIP_ELSEWHERE));
	struct ept_mapping m = query(at(1, 0));
	assert_int_equal(m.perms, EPT_R);
	assert_int_equal(m.hpa, at(1, 0));
	assert_int_equal(m.memtype, EPT_MT_WB);
	assert_true(ept_views_on_violation(&vcpu, at(1, 0x20), Q_FETCH, at(1, 0x20)));
	assert_int_equal(query(at(1, 0)).perms, EPT_X);
	assert_int_equal(view_bytes(at(1, 0))[0x20], 0xcc);
	ept_views_stats(&after);
	assert_int_equal(after.to_data - before.to_data, 1);
	assert_int_equal(after.to_exec - before.to_exec, 1);
	assert_int_equal(after.copies, before.copies);	/* only read: the shadow stands */
	assert_int_equal(invepts - flushes, 2);
	assert_int_equal(rearm_steps, 0);
	assert_false(ept_views_on_violation(&vcpu, at(2, 0), Q_READ, RIP_ELSEWHERE));	/* not a view page */
	assert_int_equal(ept_views_remove_int3(&vcpu, at(1, 0x20)), 0);
}

static void test_a_guest_write_reaches_the_shadow_with_the_int3_put_back(void **state)
{
	(void)state;
	assert_int_equal(ept_views_add_int3(&vcpu, at(0, 0x40)), 0);
	assert_true(ept_views_on_violation(&vcpu, at(0, 0x41), Q_WRITE, RIP_ELSEWHERE));
	assert_int_equal(query(at(0, 0)).perms, EPT_R | EPT_W);
	ram[0x41] = 0x5a;	/* the guest's store, through the data view */
	ram[0x40] = 0x90;	/* ... even over the breakpoint's byte */
	assert_true(ept_views_on_violation(&vcpu, at(0, 0x40), Q_FETCH, at(0, 0x40)));
	assert_int_equal(view_bytes(at(0, 0))[0x41], 0x5a);
	assert_int_equal(view_bytes(at(0, 0))[0x40], 0xcc);
	assert_int_equal(ram[0x40], 0x90);
	/* A debugger's write lands at once in the execute view. */
	ram[0x42] = 0xa5;
	ept_views_wrote(at(0, 0x42), 1);
	assert_int_equal(view_bytes(at(0, 0))[0x42], 0xa5);
	assert_int_equal(ept_views_remove_int3(&vcpu, at(0, 0x40)), 0);
}

static void test_an_instruction_that_runs_from_the_page_and_reads_it_steps_once_on_the_original(void **state)
{
	(void)state;
	struct ept_views_stats before, after;
	assert_int_equal(ept_views_add_int3(&vcpu, at(2, 0x10)), 0);
	ept_views_stats(&before);
	assert_true(ept_views_on_violation(&vcpu, at(2, 0x900), Q_READ, at(2, 0x30)));
	assert_true(ept_views_on_violation(&vcpu, at(2, 0x30), Q_FETCH, at(2, 0x30)));
	struct ept_mapping m = query(at(2, 0));
	assert_int_equal(m.perms, EPT_R | EPT_X);
	assert_int_equal(m.hpa, at(2, 0));
	assert_int_equal(rearm_steps, 1);
	/* It writes too: the write faults once more and the page opens. */
	assert_true(ept_views_on_violation(&vcpu, at(2, 0x904), Q_WRITE, at(2, 0x30)));
	assert_int_equal(query(at(2, 0)).perms, EPT_RWX);
	ram[2 * PAGE + 0x904] = 0x77;
	ept_views_rearm(&vcpu);
	m = query(at(2, 0));
	assert_int_equal(m.perms, EPT_X);
	assert_int_equal(view_bytes(at(2, 0))[0x904], 0x77);
	assert_int_equal(view_bytes(at(2, 0))[0x10], 0xcc);
	ept_views_stats(&after);
	assert_int_equal(after.steps - before.steps, 1);
	/* A script's hit runs the instruction under the int3 the same way. */
	assert_true(ept_views_step_original(&vcpu, at(2, 0x10)));
	assert_int_equal(query(at(2, 0)).perms, EPT_R | EPT_X);
	assert_int_equal(rearm_steps, 2);
	ept_views_rearm(&vcpu);
	assert_int_equal(query(at(2, 0)).perms, EPT_X);
	assert_false(ept_views_step_original(&vcpu, at(1, 0)));
	assert_int_equal(ept_views_remove_int3(&vcpu, at(2, 0x10)), 0);
}

static void test_an_access_the_view_already_allows_is_a_stale_tlb_flushed_and_nothing_more(void **state)
{
	(void)state;
	struct ept_views_stats before, after;
	assert_int_equal(ept_views_add_int3(&vcpu, at(0, 0x8)), 0);
	ept_views_stats(&before);
	int flushes = invepts;
	assert_true(ept_views_on_violation(&vcpu, at(0, 0x8), Q_FETCH, at(0, 0x8)));
	ept_views_stats(&after);
	assert_int_equal(after.stale - before.stale, 1);
	assert_int_equal(after.to_exec, before.to_exec);
	assert_int_equal(invepts - flushes, 1);
	assert_int_equal(query(at(0, 0)).perms, EPT_X);
	/* Another vCPU flushes at its next poll, once. */
	struct vcpu other = vcpu;
	other.index = 1;
	assert_true(ept_views_sync(&other));
	assert_false(ept_views_sync(&other));
	assert_int_equal(ept_views_remove_int3(&vcpu, at(0, 0x8)), 0);
}

static void test_a_joined_shadow_is_reused_only_after_every_running_vcpu_flushed(void **state)
{
	(void)state;
	vcpus[1].index = 1;
	vcpus[1].state = VCPU_RUNNING;
	ept_views_sync(&vcpus[1]);
	assert_int_equal(ept_views_add_int3(&vcpu, at(0, 0x10)), 0);
	uint64_t old_shadow = query(at(0, 0)).hpa & ~0xfffull;
	assert_int_equal(ept_views_remove_int3(&vcpu, at(0, 0x10)), 0);
	/* vCPU 1 may still run the old shadow: page 1 gets another. */
	int live = shadows_live;
	assert_int_equal(ept_views_add_int3(&vcpu, at(1, 0x10)), 0);
	assert_true((query(at(1, 0)).hpa & ~0xfffull) != old_shadow);
	assert_int_equal(shadows_live, live + 1);
	/* The old one held the page's bytes, int3 gone, for such a vCPU. */
	assert_int_equal(((const uint8_t *)(uintptr_t)old_shadow)[0x10], ram[0x10]);
	assert_true(ept_views_sync(&vcpus[1]));
	assert_int_equal(ept_views_add_int3(&vcpu, at(2, 0x10)), 0);
	assert_int_equal(query(at(2, 0)).hpa & ~0xfffull, old_shadow);
	assert_int_equal(shadows_live, live + 1);
	assert_int_equal(ept_views_remove_int3(&vcpu, at(1, 0x10)), 0);
	assert_int_equal(ept_views_remove_int3(&vcpu, at(2, 0x10)), 0);
}

static void test_refusals_name_their_cause(void **state)
{
	(void)state;
	assert_int_equal(ept_views_add_int3(&vcpu, at(3, 0x10)), -EPERM);
	assert_non_null(strstr(last_log, "in the hypervisor's region"));
	assert_int_equal(ept_views_add_int3(&vcpu, (uintptr_t)mmio + 0x300), -EFAULT);
	assert_non_null(strstr(last_log, "is not guest RAM (MMIO such as the xAPIC page"));
	assert_int_equal(ept_protect(&vcpu.ept, at(1, 0), PAGE, EPT_R | EPT_X), 0);
	assert_int_equal(ept_views_add_int3(&vcpu, at(1, 0x10)), -EBUSY);
	assert_non_null(strstr(last_log, "other EPT rights"));
	assert_int_equal(ept_protect(&vcpu.ept, at(1, 0), PAGE, EPT_RWX), 0);
	vcpu.ept.exec_only = false;
	assert_int_equal(ept_views_add_int3(&vcpu, at(1, 0x10)), -ENODEV);
	assert_non_null(strstr(last_log, "no execute-only EPT"));
	vcpu.ept.exec_only = true;
	vcpus[1].index = 5;	/* a running vCPU that never flushed: no spare shadow is free */
	vcpus[1].state = VCPU_RUNNING;
	no_shadow = true;
	assert_int_equal(ept_views_add_int3(&vcpu, at(1, 0x10)), -ENOMEM);
	no_shadow = false;
	assert_int_equal(query(at(1, 0)).perms, EPT_RWX);
}

static void test_a_page_holds_32_int3s_and_two_on_one_byte_are_one(void **state)
{
	(void)state;
	for (unsigned i = 0; i < EPT_VIEW_INT3S; i++)
		assert_int_equal(ept_views_add_int3(&vcpu, at(0, i * 4)), 0);
	assert_int_equal(ept_views_add_int3(&vcpu, at(0, 0)), 0);	/* again: the same */
	assert_int_equal(ept_views_add_int3(&vcpu, at(0, 0x800)), -ENOSPC);
	assert_non_null(strstr(last_log, "all 32 hidden breakpoints of page"));
	struct ept_views_stats s;
	ept_views_stats(&s);
	assert_int_equal(s.int3s, EPT_VIEW_INT3S);
	for (unsigned i = 0; i < EPT_VIEW_INT3S; i++) {
		assert_int_equal(view_bytes(at(0, 0))[i * 4], 0xcc);
		assert_int_equal(ept_views_remove_int3(&vcpu, at(0, i * 4)), 0);
	}
	assert_int_equal(query(at(0, 0)).hpa, at(0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_an_int3_goes_to_an_execute_only_shadow_and_the_guest_page_keeps_its_byte),
		T(test_a_read_swaps_to_the_guests_bytes_and_a_fetch_back_without_a_copy),
		T(test_a_guest_write_reaches_the_shadow_with_the_int3_put_back),
		T(test_an_instruction_that_runs_from_the_page_and_reads_it_steps_once_on_the_original),
		T(test_an_access_the_view_already_allows_is_a_stale_tlb_flushed_and_nothing_more),
		T(test_a_joined_shadow_is_reused_only_after_every_running_vcpu_flushed),
		T(test_refusals_name_their_cause),
		T(test_a_page_holds_32_int3s_and_two_on_one_byte_are_one),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
