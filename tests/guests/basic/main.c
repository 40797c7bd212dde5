/* main.c — the basic guest: run every check group, the benchmarks asked
 * for, then "GUEST DONE passed=N failed=M checksum=0x........" and power off. */
#include "bench.h"
#include "boot.h"
#include "checks.h"
#include "cmdline.h"
#include "options.h"
#include "poweroff.h"
#include "print.h"
#include "report.h"
#include "trap.h"
#include "work.h"
#include "x86.h"

static const struct check_group {
	const char *name;	/* what skip= names */
	void (*run)(void);
} groups[] = {
	{ "boot", check_boot },
	{ "com1", check_com1 },
	{ "cpuid", check_cpuid },
	{ "msr", check_msr },
	{ "cr", check_cr },
	{ "exceptions", check_exceptions },
	{ "int80", check_int80 },
	{ "paging", check_paging },
	{ "hlt", check_hlt },
	{ "crc32", check_crc32 },
};

void guest_main(void)
{
	report_info("start", "vmxdbg basic test guest, cmdline \"%s\"", cmdline_text());
	options_init();
	for (uint32_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (options_skips(groups[i].name))
			report_skip(groups[i].name);
		else
			groups[i].run();
		/* Every round runs whatever was skipped: the checksum depends on nothing else. */
		work_round(i);
	}
	bench_run_all();
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
