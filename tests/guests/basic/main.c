/* main.c — the basic guest: run every check group, the benchmarks asked
 * for, then "GUEST DONE passed=N failed=M checksum=0x........" and power off. */
#include "bench.h"
#include "dirty.h"
#include "boot.h"
#include "checks.h"
#include "cross_page.h"
#include "cmdline.h"
#include "injected.h"
#include "options.h"
#include "poweroff.h"
#include "print.h"
#include "report.h"
#include "selfsum.h"
#include "trap.h"
#include "work.h"
#include "x86.h"

static const struct check_group {
	const char *name;	/* what skip= names */
	void (*run)(void);
	bool stirs;		/* followed by a round of the checksum's work */
} groups[] = {
	{ "boot", check_boot, true },
	{ "com1", check_com1, true },
	{ "cpuid", check_cpuid, true },
	{ "msr", check_msr, true },
	{ "cr", check_cr, true },
	{ "exceptions", check_exceptions, true },
	{ "int80", check_int80, true },
	{ "paging", check_paging, true },
	{ "hlt", check_hlt, true },
	{ "crc32", check_crc32, true },
	/* Groups added later leave the checksum as every test knows it. */
	{ "fpu", check_fpu, false },
	{ "events", check_events, false },
};

/* For debuggers' tests to write into (Lua's mem.write, gdb's `set var`):
 * printed as "GUEST INFO note" before DONE. */
char guest_note[32] = "nobody wrote here";

void guest_main(void)
{
	report_info("start", "vmxdbg basic test guest, cmdline \"%s\"", cmdline_text());
	options_init();
	injected_init();
	for (uint32_t i = 0, round = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (options_skips(groups[i].name))
			report_skip(groups[i].name);
		else
			groups[i].run();
		/* Every round runs whatever was skipped: the checksum depends on nothing else. */
		if (groups[i].stirs)
			work_round(round++);
	}
	cross_page_run();
	selfsum_run();
	bench_run_all();
	dirty_run_all();
	injected_finish();
	report_info("note", "\"%.*s\"", (int)sizeof(guest_note), guest_note);
	kprintf("GUEST DONE passed=%u failed=%u checksum=0x%08x\n",
		report_passed(), report_failed(), work_checksum());
	poweroff(report_failed() ? 1 : 0);
}

/* No handler and no probe wanted this: the guest's state is suspect, so
 * stop without a DONE line. */
void guest_unexpected_trap(const struct trap_frame *f)
{
	kprintf("GUEST FAIL unexpected-trap: %s (vector %u) error=0x%x eip=0x%x cr2=0x%x\n",
		trap_name(f->vector), f->vector, f->error, f->eip, read_cr2());
	poweroff(1);
}
