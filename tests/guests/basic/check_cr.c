/* check_cr.c — MOV to CR0/CR4 takes effect and reads back (SDM Vol. 3A
 * §2.5 "Control Registers").  Under vmxdbg these writes may exit or be
 * shadowed through the CR guest/host masks: the guest must not tell. */
#include "checks.h"
#include "probe.h"
#include "report.h"
#include "x86.h"

/* CR4 bits safe to flip with paging off, and the CPUID.1:EDX bit that says
 * the CPU has each (SDM Vol. 2A, CPUID, Table 3-11). */
static const struct cr4_bit {
	const char *name;
	uint32_t bit;
	uint32_t cpuid_1_edx;
} cr4_bits[] = {
	{ "TSD", CR4_TSD, 1u << 4 },
	{ "DE", CR4_DE, 1u << 2 },
	{ "PSE", CR4_PSE, 1u << 3 },
	{ "PAE", CR4_PAE, 1u << 6 },
	{ "PGE", CR4_PGE, 1u << 13 },
	{ "OSFXSR", CR4_OSFXSR, 1u << 24 },
	{ "OSXMMEXCPT", CR4_OSXMMEXCPT, 1u << 25 },
};

static void check_cr0_wp(void)
{
	uint32_t saved = read_cr0();
	write_cr0(saved | CR0_WP);
	uint32_t set = read_cr0();
	write_cr0(saved & ~CR0_WP);
	uint32_t clear = read_cr0();
	write_cr0(saved);
	report_expect("cr0-wp-toggle", (set & CR0_WP) && !(clear & CR0_WP) && read_cr0() == saved,
		      "CR0 after set 0x%08x, after clear 0x%08x", set, clear);
}

/* Returns false and reports if writing value to CR4 faulted or did not stick. */
static bool cr4_takes(const struct cr4_bit *b, uint32_t value)
{
	int fault = probe_write_cr4(value);
	uint32_t got = read_cr4();
	if (fault == PROBE_NONE && got == value)
		return true;
	if (fault != PROBE_NONE)
		report_fail("cr4-toggle", "CR4.%s: writing 0x%08x raised %s", b->name, value, trap_name((uint32_t)fault));
	else
		report_fail("cr4-toggle", "CR4.%s: wrote 0x%08x, read 0x%08x", b->name, value, got);
	return false;
}

static void check_cr4_bits(void)
{
	uint32_t edx = cpuid(1, 0).edx;
	uint32_t saved = read_cr4();
	uint32_t toggled = 0;
	for (unsigned i = 0; i < sizeof(cr4_bits) / sizeof(cr4_bits[0]); i++) {
		const struct cr4_bit *b = &cr4_bits[i];
		if (!(edx & b->cpuid_1_edx))
			continue;
		bool ok = cr4_takes(b, saved | b->bit) && cr4_takes(b, saved & ~b->bit);
		write_cr4(saved);
		if (!ok)
			return;
		toggled |= b->bit;
	}
	report_info("cr4-toggle", "CR4 was 0x%08x, toggled bits 0x%08x", saved, toggled);
	report_pass("cr4-toggle");
}

void check_cr(void)
{
	check_cr0_wp();
	check_cr4_bits();
}
