/* check_cpuid.c — CPUID leaf 0 (vendor, highest leaf) and whether leaf 1
 * shows VMX (CPUID.1:ECX bit 5, SDM Vol. 3C §24.6 "Discovering Support for
 * VMX").  vmxdbg hides VMX from its guest; bare hardware may show it. */
#include "checks.h"
#include "options.h"
#include "report.h"
#include "x86.h"

static bool printable(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

void check_cpuid(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	/* The vendor string is EBX, EDX, ECX in that order. */
	char vendor[13];
	uint32_t words[3] = { r.ebx, r.edx, r.ecx };
	for (int i = 0; i < 12; i++)
		vendor[i] = (char)(words[i / 4] >> (8 * (i % 4)));
	vendor[12] = '\0';
	bool vendor_ok = printable(vendor, 12);
	report_info("cpuid-leaf0", "vendor \"%s\" max-leaf=0x%x", vendor_ok ? vendor : "?", r.eax);
	report_expect("cpuid-leaf0", r.eax >= 1 && vendor_ok,
		      "max-leaf=0x%x (want >= 1), vendor %s", r.eax, vendor_ok ? "printable" : "not printable");
	if (r.eax < 1)
		return;

	struct cpuid_regs l1 = cpuid(1, 0);
	bool vmx = l1.ecx & CPUID_1_ECX_VMX;
	report_info("cpuid-vmx", "CPUID.1:ECX.VMX=%d (ecx=0x%08x, hypervisor bit %d)",
		    vmx, l1.ecx, !!(l1.ecx & CPUID_1_ECX_HYPERVISOR));
	switch (options_expect_vmx()) {
	case VMX_HIDDEN:
		report_expect("cpuid-vmx", !vmx, "VMX visible, want hidden (expect-vmx=0)");
		break;
	case VMX_VISIBLE:
		report_expect("cpuid-vmx", vmx, "VMX hidden, want visible (expect-vmx=1)");
		break;
	case VMX_JUST_REPORT:
		break;
	}
}
