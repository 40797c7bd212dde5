/* options.c — parse and validate the basic guest's options once. */
#include "cmdline.h"
#include "options.h"
#include "report.h"

static enum vmx_expectation expect_vmx = VMX_JUST_REPORT;

void options_init(void)
{
	struct cmdline_value v;
	if (!cmdline_find("expect-vmx", &v))
		return;
	if (value_is(v, "0"))
		expect_vmx = VMX_HIDDEN;
	else if (value_is(v, "1"))
		expect_vmx = VMX_VISIBLE;
	else
		report_fail("options", "\"expect-vmx=%.*s\": want 0 or 1", (int)v.len, v.text);
}

enum vmx_expectation options_expect_vmx(void)
{
	return expect_vmx;
}

bool options_skips(const char *check)
{
	return cmdline_lists("skip", check);
}
