/* options.c — parse and validate the basic guest's options once. */
#include "cmdline.h"
#include "options.h"
#include "report.h"

static enum vmx_expectation expect_vmx = VMX_JUST_REPORT;
static bool has_hv_reserved, has_expect_modules;
static uint32_t hv_reserved, expect_modules;

/* The first key=N word, if any; a FAIL line if it is not a number. */
static bool number_option(const char *key, uint32_t *out)
{
	struct cmdline_value v;
	if (!cmdline_find(key, &v))
		return false;
	if (parse_u32(v.text, v.len, out))
		return true;
	report_fail("options", "\"%s=%.*s\": want a number (decimal or 0x-hex)", key, (int)v.len, v.text);
	return false;
}

void options_init(void)
{
	struct cmdline_value v;
	has_hv_reserved = number_option("hv-reserved", &hv_reserved);
	has_expect_modules = number_option("expect-modules", &expect_modules);
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

bool options_hv_reserved(uint32_t *addr)
{
	*addr = hv_reserved;
	return has_hv_reserved;
}

bool options_expect_modules(uint32_t *n)
{
	*n = expect_modules;
	return has_expect_modules;
}
