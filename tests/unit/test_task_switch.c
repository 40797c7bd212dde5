/* hv/task_switch.c against an in-memory machine: a GDT, an LDT and 32-bit
 * TSSs in a flat 64 KiB of "linear" memory (SDM Vol. 3A §8.3 for what each
 * source of switch does, and the #TS/#NP/#SS/#GP it raises). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/task_switch.h"

#define MEM 0x10000
#define GDT 0x1000
#define LDT 0x1800
#define TSS_OLD 0x2000
#define TSS_NEW 0x3000
#define STACK_TOP 0x8000
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_OLD 0x18
#define SEL_NEW 0x20
#define SEL_LDT 0x28
#define SEL_ABSENT_DATA 0x30
#define SEL_ABSENT_CODE 0x38
#define SEL_TSS16 0x40
#define SEL_SHORT_TSS 0x48
#define SEL_DPL3_NOT 0x50	/* a DPL-0 TSS, for RPL 3 */
#define GDT_LIMIT 0x57

static uint8_t mem[MEM];
static unsigned writes;

static int fake_read(void *ctx, const struct ts_cpu *c, uint32_t linear, void *buf, size_t len)
{
	(void)ctx;
	(void)c;
	if (linear >= MEM || len > MEM - linear)
		return -1;
	memcpy(buf, mem + linear, len);
	return 0;
}

static int fake_write(void *ctx, const struct ts_cpu *c, uint32_t linear, const void *buf, size_t len)
{
	(void)ctx;
	(void)c;
	if (linear >= MEM || len > MEM - linear)
		return -1;
	memcpy(mem + linear, buf, len);
	writes++;
	return 0;
}

static const struct ts_mem fake = { NULL, fake_read, fake_write };

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
	       (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

static void put_desc(uint16_t sel, uint64_t d)
{
	memcpy(mem + GDT + (sel & ~7u), &d, 8);
}

static uint64_t get_desc(uint16_t sel)
{
	uint64_t d;
	memcpy(&d, mem + GDT + (sel & ~7u), 8);
	return d;
}

static uint32_t rd32(uint32_t a)
{
	uint32_t v;
	memcpy(&v, mem + a, 4);
	return v;
}

static void wr32(uint32_t a, uint32_t v)
{
	memcpy(mem + a, &v, 4);
}

/* The new task: EIP 0x5000, ESP STACK_TOP, flat selectors, EAX..EDI 0xa0+i. */
static void new_tss(uint32_t base)
{
	wr32(base + 0x1c, 0x9000);		/* CR3 */
	wr32(base + 0x20, 0x5000);
	wr32(base + 0x24, 0x2);
	for (unsigned i = 0; i < 8; i++)
		wr32(base + 0x28 + 4 * i, 0xa0 + i);
	wr32(base + 0x38, STACK_TOP);		/* ESP */
	for (unsigned i = 0; i < 6; i++)
		wr32(base + 0x48 + 4 * i, i == 1 ? SEL_CODE : SEL_DATA);
}

static struct ts_cpu machine(void)
{
	memset(mem, 0, sizeof(mem));
	put_desc(SEL_CODE, desc(0, 0xfffff, 0x9a, 0xc));
	put_desc(SEL_DATA, desc(0, 0xfffff, 0x92, 0xc));
	put_desc(SEL_OLD, desc(TSS_OLD, 0x67, 0x8b, 0));	/* busy: the running task */
	put_desc(SEL_NEW, desc(TSS_NEW, 0x67, 0x89, 0));
	put_desc(SEL_LDT, desc(LDT, 0x7, 0x82, 0));
	put_desc(SEL_ABSENT_DATA, desc(0, 0xfffff, 0x12, 0xc));
	put_desc(SEL_ABSENT_CODE, desc(TSS_NEW, 0x67, 0x09, 0));	/* TSS, not present */
	put_desc(SEL_TSS16, desc(TSS_NEW, 0x2b, 0x81, 0));
	put_desc(SEL_SHORT_TSS, desc(TSS_NEW, 0x40, 0x89, 0));
	put_desc(SEL_DPL3_NOT, desc(TSS_NEW, 0x67, 0x89, 0));
	new_tss(TSS_NEW);
	struct ts_cpu c = { .eip = 0x1234, .eflags = 0x202, .gdtr_base = GDT, .gdtr_limit = GDT_LIMIT, .cr0 = 0x11 };
	for (unsigned i = 0; i < 8; i++)
		c.gpr[i] = 0x10 + i;
	for (unsigned i = 0; i < TS_NSEG; i++)
		c.seg[i] = (struct ts_seg){ i == TS_CS ? SEL_CODE : SEL_DATA, 0, 0xffffffff, i == TS_CS ? 0xc09b : 0xc093 };
	c.ldtr = (struct ts_seg){ 0, 0, 0, 0x10000 };
	c.tr = (struct ts_seg){ SEL_OLD, TSS_OLD, 0x67, 0x8b };
	writes = 0;
	return c;
}

static struct ts_result run(struct ts_cpu *c, uint16_t sel, enum ts_source src)
{
	struct ts_request r = { .sel = sel, .source = src, .next_eip = 0x1239 };
	struct ts_result out;
	task_switch(c, &r, &fake, &out);
	return out;
}

static void test_descriptors_decode_to_the_vmx_form(void **state)
{
	(void)state;
	struct ts_seg s;
	ts_desc_decode(0x00cf9a000000ffffull, 8, &s);
	assert_int_equal(s.base, 0);
	assert_int_equal(s.limit, 0xffffffffu);	/* G: 4 KiB units */
	assert_int_equal(s.ar, 0xc09a);
	ts_desc_decode(desc(0x12345678, 0x67, 0x89, 0), 0x20, &s);
	assert_int_equal(s.base, 0x12345678);
	assert_int_equal(s.limit, 0x67);
	assert_int_equal(s.ar, 0x89);
	assert_int_equal(s.sel, 0x20);
}

static void test_call_saves_links_and_loads_the_new_task(void **state)
{
	(void)state;
	struct ts_cpu c = machine();
	struct ts_result r = run(&c, SEL_NEW, TS_SRC_CALL);
	assert_int_equal(r.outcome, TS_DONE);
	/* The old TSS: EIP past the CALL, EFLAGS, registers, selectors. */
	assert_int_equal(rd32(TSS_OLD + 0x20), 0x1239);
	assert_int_equal(rd32(TSS_OLD + 0x24), 0x202);
	assert_int_equal(rd32(TSS_OLD + 0x28), 0x10);
	assert_int_equal(rd32(TSS_OLD + 0x44), 0x17);
	assert_int_equal(rd32(TSS_OLD + 0x4c), SEL_CODE);
	/* Nesting: back link, NT; busy flags: both busy. */
	assert_int_equal(rd32(TSS_NEW) & 0xffff, SEL_OLD);
	assert_true(c.eflags & (1u << 14));
	assert_int_equal((get_desc(SEL_NEW) >> 40) & 0xf, 0xb);
	assert_int_equal((get_desc(SEL_OLD) >> 40) & 0xf, 0xb);
	/* The new state. */
	assert_int_equal(c.eip, 0x5000);
	assert_int_equal(c.gpr[0], 0xa0);
	assert_int_equal(c.gpr[4], STACK_TOP);
	assert_int_equal(c.tr.sel, SEL_NEW);
	assert_int_equal(c.tr.base, TSS_NEW);
	assert_int_equal(c.tr.ar, 0x8b);
	assert_true(c.cr0 & 8);			/* CR0.TS */
	assert_false(r.cr3_loaded);		/* paging off: CR3 stays */
	assert_int_equal(c.seg[TS_CS].ar, 0xc09b);	/* accessed */
	assert_true(get_desc(SEL_CODE) & (1ull << 40));
	assert_true(c.ldtr.ar & 0x10000);
}

static void test_jmp_frees_the_old_task_without_a_link(void **state)
{
	(void)state;
	struct ts_cpu c = machine();
	assert_int_equal(run(&c, SEL_NEW, TS_SRC_JMP).outcome, TS_DONE);
	assert_int_equal((get_desc(SEL_OLD) >> 40) & 0xf, 0x9);
	assert_int_equal((get_desc(SEL_NEW) >> 40) & 0xf, 0xb);
	assert_int_equal(rd32(TSS_NEW), 0);
	assert_false(c.eflags & (1u << 14));
}

static void test_iret_returns_to_a_busy_task_and_clears_nt(void **state)
{
	(void)state;
	struct ts_cpu c = machine();
	c.eflags |= 1u << 14;
	/* IRET to an available TSS: #TS(selector), nothing written. */
	struct ts_result r = run(&c, SEL_NEW, TS_SRC_IRET);
	assert_int_equal(r.outcome, TS_FAULT);
	assert_int_equal(r.fault_vector, TS_VEC_TS);
	assert_int_equal(r.fault_error, SEL_NEW);
	assert_int_equal(writes, 0);
	assert_int_equal(c.eip, 0x1234);
	put_desc(SEL_NEW, desc(TSS_NEW, 0x67, 0x8b, 0));
	r = run(&c, SEL_NEW, TS_SRC_IRET);
	assert_int_equal(r.outcome, TS_DONE);
	assert_int_equal(rd32(TSS_OLD + 0x24), 0x202);	/* NT cleared in the saved image */
	assert_int_equal((get_desc(SEL_OLD) >> 40) & 0xf, 0x9);
	assert_int_equal((get_desc(SEL_NEW) >> 40) & 0xf, 0xb);
}

static void test_a_task_gate_pushes_the_error_code(void **state)
{
	(void)state;
	struct ts_cpu c = machine();
	struct ts_request q = { .sel = SEL_NEW, .source = TS_SRC_GATE, .next_eip = 0x1234, .external = true,
				.push_error = true, .error = 0x7f8 };
	struct ts_result r;
	task_switch(&c, &q, &fake, &r);
	assert_int_equal(r.outcome, TS_DONE);
	assert_int_equal(c.gpr[4], STACK_TOP - 4);
	assert_int_equal(rd32(STACK_TOP - 4), 0x7f8);
	assert_int_equal(rd32(TSS_OLD + 0x20), 0x1234);
	assert_int_equal(rd32(TSS_NEW) & 0xffff, SEL_OLD);
	assert_true(c.eflags & (1u << 14));
}

static void test_paging_loads_the_new_cr3(void **state)
{
	(void)state;
	struct ts_cpu c = machine();
	c.cr0 |= 1u << 31;
	c.cr3 = 0x4000;
	struct ts_result r = run(&c, SEL_NEW, TS_SRC_JMP);
	assert_int_equal(r.outcome, TS_DONE);
	assert_true(r.cr3_loaded);
	assert_int_equal(c.cr3, 0x9000);
}

/* Faults on the new TSS happen in the old task: nothing is written. */
static void expect_early_fault(uint16_t sel, enum ts_source src, bool external, unsigned vector, uint32_t error)
{
	struct ts_cpu c = machine(), before = c;
	uint8_t copy[MEM];
	memcpy(copy, mem, MEM);
	struct ts_request q = { .sel = sel, .source = src, .next_eip = 0x1239, .external = external };
	struct ts_result r;
	task_switch(&c, &q, &fake, &r);
	assert_int_equal(r.outcome, TS_FAULT);
	assert_int_equal(r.fault_vector, vector);
	assert_int_equal(r.fault_error, error);
	assert_memory_equal(copy, mem, MEM);
	assert_memory_equal(&before, &c, sizeof(c));
}

static void test_bad_new_tss_descriptors_fault_in_the_old_task(void **state)
{
	(void)state;
	expect_early_fault(0x80, TS_SRC_JMP, false, TS_VEC_GP, 0x80);		/* past the GDT limit */
	expect_early_fault(0x80, TS_SRC_IRET, false, TS_VEC_TS, 0x80);
	expect_early_fault(SEL_NEW | 4, TS_SRC_CALL, false, TS_VEC_GP, SEL_NEW | 4);	/* in the LDT */
	expect_early_fault(SEL_DATA, TS_SRC_CALL, false, TS_VEC_GP, SEL_DATA);	/* not a TSS */
	expect_early_fault(SEL_OLD, TS_SRC_JMP, false, TS_VEC_GP, SEL_OLD);		/* busy */
	expect_early_fault(SEL_ABSENT_CODE, TS_SRC_CALL, false, TS_VEC_NP, SEL_ABSENT_CODE);
	expect_early_fault(SEL_ABSENT_CODE, TS_SRC_GATE, true, TS_VEC_NP, SEL_ABSENT_CODE | 1);	/* EXT */
	expect_early_fault(SEL_SHORT_TSS, TS_SRC_JMP, false, TS_VEC_TS, SEL_SHORT_TSS);
	expect_early_fault(SEL_DPL3_NOT | 3, TS_SRC_JMP, false, TS_VEC_GP, SEL_DPL3_NOT);	/* RPL > DPL */
}

static void expect_refusal(struct ts_cpu *c, uint16_t sel, const char *why_has)
{
	struct ts_result r = run(c, sel, TS_SRC_JMP);
	assert_int_equal(r.outcome, TS_REFUSED);
	assert_non_null(strstr(r.why, why_has));
	assert_true(strlen(r.why) <= 50);	/* it must fit a stop reason */
	assert_int_equal(writes, 0);
}

static void test_what_is_not_emulated_is_refused_with_a_reason(void **state)
{
	(void)state;
	struct ts_cpu c = machine();
	expect_refusal(&c, SEL_TSS16, "new TSS is 16-bit");
	c = machine();
	c.tr.ar = 0x83;
	expect_refusal(&c, SEL_NEW, "current TSS is 16-bit");
	c = machine();
	wr32(TSS_NEW + 0x24, 0x20002);
	expect_refusal(&c, SEL_NEW, "virtual-8086");
	c = machine();
	wr32(TSS_NEW + 0x64, 1);
	expect_refusal(&c, SEL_NEW, "#DB trap");
	c = machine();
	put_desc(SEL_NEW, desc(MEM - 0x20, 0x67, 0x89, 0));	/* the TSS runs off memory */
	expect_refusal(&c, SEL_NEW, "not in guest memory");
}

/* Faults on the new task's segments come after the commit: TR is the new
 * task's, the fault is raised in it. */
static void expect_late_fault(unsigned field, uint32_t value, unsigned vector, uint32_t error)
{
	struct ts_cpu c = machine();
	wr32(TSS_NEW + field, value);
	struct ts_result r = run(&c, SEL_NEW, TS_SRC_JMP);
	assert_int_equal(r.outcome, TS_FAULT);
	assert_int_equal(r.fault_vector, vector);
	assert_int_equal(r.fault_error, error);
	assert_int_equal(c.tr.sel, SEL_NEW);
	assert_int_equal(c.eip, 0x5000);
}

static void test_bad_new_segments_fault_in_the_new_task(void **state)
{
	(void)state;
	expect_late_fault(0x4c, 0, TS_VEC_TS, 0);				/* null CS */
	expect_late_fault(0x4c, SEL_DATA, TS_VEC_TS, SEL_DATA);			/* CS not code */
	expect_late_fault(0x4c, SEL_CODE | 3, TS_VEC_TS, SEL_CODE);		/* CPL 3, DPL 0 code */
	expect_late_fault(0x50, SEL_CODE, TS_VEC_TS, SEL_CODE);			/* SS not writable data */
	expect_late_fault(0x50, SEL_ABSENT_DATA, TS_VEC_SS, SEL_ABSENT_DATA);
	expect_late_fault(0x54, SEL_ABSENT_DATA, TS_VEC_NP, SEL_ABSENT_DATA);
	expect_late_fault(0x54, 0x400, TS_VEC_TS, 0x400);			/* past the limit */
	expect_late_fault(0x60, SEL_DATA, TS_VEC_TS, SEL_DATA);			/* LDT not an LDT */
	expect_late_fault(0x60, SEL_LDT | 4, TS_VEC_TS, SEL_LDT | 4);
}

static void test_the_new_ldt_is_loaded_and_null_data_selectors_are_unusable(void **state)
{
	(void)state;
	struct ts_cpu c = machine();
	wr32(TSS_NEW + 0x60, SEL_LDT);
	wr32(TSS_NEW + 0x58, 0);	/* FS null */
	assert_int_equal(run(&c, SEL_NEW, TS_SRC_JMP).outcome, TS_DONE);
	assert_int_equal(c.ldtr.base, LDT);
	assert_int_equal(c.ldtr.ar, 0x82);
	assert_true(c.seg[TS_FS].ar & 0x10000);
	assert_int_equal(c.seg[TS_DS].ar, 0xc093);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptors_decode_to_the_vmx_form),
		cmocka_unit_test(test_call_saves_links_and_loads_the_new_task),
		cmocka_unit_test(test_jmp_frees_the_old_task_without_a_link),
		cmocka_unit_test(test_iret_returns_to_a_busy_task_and_clears_nt),
		cmocka_unit_test(test_a_task_gate_pushes_the_error_code),
		cmocka_unit_test(test_paging_loads_the_new_cr3),
		cmocka_unit_test(test_bad_new_tss_descriptors_fault_in_the_old_task),
		cmocka_unit_test(test_what_is_not_emulated_is_refused_with_a_reason),
		cmocka_unit_test(test_bad_new_segments_fault_in_the_new_task),
		cmocka_unit_test(test_the_new_ldt_is_loaded_and_null_data_selectors_are_unusable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
