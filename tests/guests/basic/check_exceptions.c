/* check_exceptions.c — exceptions the guest raises and handles itself.
 * Each runs as a probe (probe.h): the handler resumes after the
 * instruction.  Faults must save the faulting instruction's EIP, traps the
 * next one's (SDM Vol. 3A §7.5 "Exception Classifications"); vmxdbg must
 * deliver them to the guest unchanged, with the right error code. */
#include "checks.h"
#include "probe.h"
#include "report.h"
#include "x86.h"

#define SELECTOR_PAST_GDT	0x18	/* our GDT has three entries: 0x00, 0x08, 0x10 */

enum saved_eip { AT_INSN, AFTER_INSN };

/* PASS if the last probe raised vector with error code and saved EIP as expected. */
static void expect_probe(const char *name, int vector, uint32_t error, enum saved_eip where)
{
	const struct probe_result *r = &probe_result;
	uint32_t want_eip = where == AT_INSN ? r->insn : r->next;
	if (r->vector != vector) {
		report_fail(name, "want %s, got %s", trap_name((uint32_t)vector),
			    r->vector == PROBE_NONE ? "no exception" : trap_name((uint32_t)r->vector));
		return;
	}
	report_expect(name, r->error == error && r->eip == want_eip,
		      "error=0x%x (want 0x%x), saved eip=0x%x (want 0x%x)", r->error, error, r->eip, want_eip);
}

static void check_divide_error(void)
{
	uint32_t eax = 1, edx = 0;
	probe_begin();
	__asm__ volatile(PROBE_ASM("divl %2") : "+a"(eax), "+d"(edx) : "r"(0) : "memory");
	probe_end();
	expect_probe("exc-de", VEC_DE, 0, AT_INSN);
}

static void check_invalid_opcode(void)
{
	probe_begin();
	__asm__ volatile(PROBE_ASM("ud2") : : : "memory");
	probe_end();
	expect_probe("exc-ud", VEC_UD, 0, AT_INSN);
}

static void check_breakpoint(void)
{
	probe_begin();
	__asm__ volatile(PROBE_ASM("int3") : : : "memory");
	probe_end();
	expect_probe("exc-bp", VEC_BP, 0, AFTER_INSN);
}

/* Loading a selector beyond the GDT limit: #GP with the selector as error
 * code (SDM Vol. 2B, MOV, "Protected Mode Exceptions"). */
static void check_general_protection(void)
{
	probe_begin();
	__asm__ volatile(PROBE_ASM("movw %w0, %%fs") : : "r"(SELECTOR_PAST_GDT) : "memory");
	probe_end();
	expect_probe("exc-gp", VEC_GP, SELECTOR_PAST_GDT, AT_INSN);
}

void check_exceptions(void)
{
	check_divide_error();
	check_invalid_opcode();
	check_breakpoint();
	check_general_protection();
}
