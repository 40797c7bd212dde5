/* vmx_caps_decode.c — the capability MSRs decoded: the control-adjust rule,
 * the choice of TRUE MSRs, and a one-line-per-feature report (book ch. 2,
 * example 2-1). Pure: the values come in a struct vmx_caps_raw. */
#include "vmx_caps.h"

#include <stdarg.h>
#include <stddef.h>

#include "platform/cpu.h"
#include "platform/fmt.h"

static const struct control_name {
	uint8_t group;
	uint8_t bit;
	const char *name;
} controls[] = {
#define CONTROL(group, name, bit) { VMX_CTL_##group, bit, #name },
#include "vmx_controls.def"
#undef CONTROL
};

static const struct msr_name {
	uint32_t msr;
	const char *name;
} msr_names[] = {
#define VMX_MSR_NAME(name, number) { number, #name },
	VMX_CAPABILITY_MSR_LIST(VMX_MSR_NAME)
#undef VMX_MSR_NAME
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define RAW(member) offsetof(struct vmx_caps_raw, member)

/* Where each control group's capability lives. PROC2 has no TRUE MSR; PROC3
 * and EXIT2 are 64-bit and list allowed 1-settings only. */
static const struct group_info {
	const char *title;
	bool wide;
	uint32_t have, msr;
	size_t raw;
	uint32_t true_have, true_msr;
	size_t true_raw;
} groups[VMX_CTL_GROUPS] = {
	[VMX_CTL_PIN] = { "pin-based", false, VMX_HAVE_PINBASED, MSR_IA32_VMX_PINBASED_CTLS,
		RAW(pinbased), VMX_HAVE_TRUE_PINBASED, MSR_IA32_VMX_TRUE_PINBASED_CTLS, RAW(true_pinbased) },
	[VMX_CTL_PROC] = { "primary processor-based", false, VMX_HAVE_PROCBASED, MSR_IA32_VMX_PROCBASED_CTLS,
		RAW(procbased), VMX_HAVE_TRUE_PROCBASED, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, RAW(true_procbased) },
	[VMX_CTL_PROC2] = { "secondary processor-based", false, VMX_HAVE_PROCBASED2, MSR_IA32_VMX_PROCBASED_CTLS2,
		RAW(procbased2), 0, 0, 0 },
	[VMX_CTL_PROC3] = { "tertiary processor-based", true, VMX_HAVE_PROCBASED3, MSR_IA32_VMX_PROCBASED_CTLS3,
		RAW(procbased3), 0, 0, 0 },
	[VMX_CTL_EXIT] = { "primary VM-exit", false, VMX_HAVE_EXIT, MSR_IA32_VMX_EXIT_CTLS,
		RAW(exit), VMX_HAVE_TRUE_EXIT, MSR_IA32_VMX_TRUE_EXIT_CTLS, RAW(true_exit) },
	[VMX_CTL_EXIT2] = { "secondary VM-exit", true, VMX_HAVE_EXIT2, MSR_IA32_VMX_EXIT_CTLS2,
		RAW(exit2), 0, 0, 0 },
	[VMX_CTL_ENTRY] = { "VM-entry", false, VMX_HAVE_ENTRY, MSR_IA32_VMX_ENTRY_CTLS,
		RAW(entry), VMX_HAVE_TRUE_ENTRY, MSR_IA32_VMX_TRUE_ENTRY_CTLS, RAW(true_entry) },
};

int vmx_adjust_controls(uint64_t cap_msr, uint32_t wanted, uint32_t required,
			uint32_t *out, uint32_t *missing_required)
{
	uint32_t must_be_1 = (uint32_t)cap_msr;
	uint32_t may_be_1 = (uint32_t)(cap_msr >> 32);
	uint32_t missing = required & ~may_be_1;

	*out = ((wanted | required) & may_be_1) | must_be_1;
	if (missing_required)
		*missing_required = missing;
	return missing ? -VMX_EOPNOTSUPP : 0;
}

int vmx_adjust_controls64(uint64_t allowed1, uint64_t wanted, uint64_t required,
			  uint64_t *out, uint64_t *missing_required)
{
	uint64_t missing = required & ~allowed1;

	*out = (wanted | required) & allowed1;
	if (missing_required)
		*missing_required = missing;
	return missing ? -VMX_EOPNOTSUPP : 0;
}

static uint64_t raw_at(const struct vmx_caps_raw *caps, size_t offset)
{
	return *(const uint64_t *)((const char *)caps + offset);
}

bool vmx_caps_control_msr(const struct vmx_caps_raw *caps, enum vmx_control_group group,
			  uint32_t *msr, uint64_t *value)
{
	if ((unsigned)group >= VMX_CTL_GROUPS)
		return false;
	const struct group_info *g = &groups[group];
	bool use_true = (caps->have & VMX_HAVE_BASIC) && (caps->basic & VMX_BASIC_TRUE_CTLS) &&
			g->true_have && (caps->have & g->true_have);

	if (use_true) {
		*msr = g->true_msr;
		*value = raw_at(caps, g->true_raw);
		return true;
	}
	if (!(caps->have & g->have))
		return false;
	*msr = g->msr;
	*value = raw_at(caps, g->raw);
	return true;
}

const char *vmx_control_name(enum vmx_control_group group, unsigned bit)
{
	for (size_t i = 0; i < COUNT(controls); i++)
		if (controls[i].group == group && controls[i].bit == bit)
			return controls[i].name;
	return NULL;
}

const char *vmx_msr_name(uint32_t msr)
{
	for (size_t i = 0; i < COUNT(msr_names); i++)
		if (msr_names[i].msr == msr)
			return msr_names[i].name;
	return NULL;
}

/* A line under construction, and where finished lines go. */
struct report {
	void (*emit)(void *ctx, const char *line);
	void *ctx;
	size_t len;
	char line[VMX_CAPS_LINE_MAX];
};

static void add(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct report *r, const char *fmt, ...)
{
	size_t room = sizeof(r->line) - r->len;
	va_list ap;

	va_start(ap, fmt);
	size_t n = (size_t)kvsnprintf(r->line + r->len, room, fmt, ap);
	va_end(ap);
	r->len += n < room ? n : room - 1;
}

static void flush(struct report *r)
{
	r->emit(r->ctx, r->line);
	r->len = 0;
	r->line[0] = '\0';
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void report_feature_control(struct report *r, uint64_t fc)
{
	add(r, "IA32_FEATURE_CONTROL=0x%llx: %s", (unsigned long long)fc,
	    (fc & FEATURE_CONTROL_LOCKED) ? "locked" : "unlocked");
	if (fc & FEATURE_CONTROL_VMX_INSIDE_SMX)
		add(r, ", VMX inside SMX enabled");
	if (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)
		add(r, ", VMX outside SMX enabled");
	if (!(fc & (FEATURE_CONTROL_VMX_INSIDE_SMX | FEATURE_CONTROL_VMX_OUTSIDE_SMX)))
		add(r, ", VMX disabled");
	flush(r);
}

static const char *memtype_name(unsigned type)
{
	return type == VMX_MEMTYPE_WB ? "WB" : type == VMX_MEMTYPE_UC ? "UC" : "reserved";
}

static void report_basic(struct report *r, uint64_t b)
{
	unsigned type = (unsigned)((b >> VMX_BASIC_MEMTYPE_SHIFT) & VMX_BASIC_MEMTYPE_MASK);

	add(r, "IA32_VMX_BASIC=0x%016llx: revision 0x%llx, VMCS region %llu bytes, memory type %s (%u)",
	    (unsigned long long)b, (unsigned long long)(b & VMX_BASIC_REVISION_MASK),
	    (unsigned long long)((b >> VMX_BASIC_VMCS_SIZE_SHIFT) & VMX_BASIC_VMCS_SIZE_MASK),
	    memtype_name(type), type);
	if (b & VMX_BASIC_32BIT_ADDRESSES)
		add(r, ", 32-bit physical addresses");
	if (b & VMX_BASIC_DUAL_MONITOR)
		add(r, ", dual-monitor SMM");
	if (b & VMX_BASIC_TRUE_CTLS)
		add(r, ", TRUE controls");
	if (b & VMX_BASIC_INS_OUTS_INFO)
		add(r, ", INS/OUTS exit info");
	if (b & VMX_BASIC_NO_ERROR_CODE_CHECK)
		add(r, ", error codes with any vector");
	flush(r);
}

/* The group's MSR, its must-be-1 and may-be-1 masks, then one line per named
 * control that can be 1 (SDM Vol. 3D, A.3-A.5). */
static void report_group(struct report *r, const struct vmx_caps_raw *caps, enum vmx_control_group group)
{
	const struct group_info *g = &groups[group];
	uint32_t msr;
	uint64_t v;

	if (!vmx_caps_control_msr(caps, group, &msr, &v)) {
		add(r, "%s controls: not available", g->title);
		flush(r);
		return;
	}
	uint64_t must_be_1 = g->wide ? 0 : (uint32_t)v;
	uint64_t may_be_1 = g->wide ? v : v >> 32;

	add(r, "%s controls: %s=0x%016llx", g->title, vmx_msr_name(msr), (unsigned long long)v);
	if (!g->wide)
		add(r, ", must be 1 0x%08llx", (unsigned long long)must_be_1);
	add(r, ", may be 1 0x%0*llx", g->wide ? 16 : 8, (unsigned long long)may_be_1);
	flush(r);
	for (size_t i = 0; i < COUNT(controls); i++) {
		const struct control_name *c = &controls[i];
		uint64_t bit = 1ull << c->bit;
		if (c->group != group || !(may_be_1 & bit))
			continue;
		add(r, "  bit %u %s: %s", c->bit, c->name, (must_be_1 & bit) ? "must be 1" : "can be 0 or 1");
		flush(r);
	}
}

static const struct cap_bit {
	uint64_t mask;
	const char *what;
} ept_vpid_bits[] = {
	{ VMX_EPT_EXECUTE_ONLY,           "EPT execute-only translations" },
	{ VMX_EPT_WALK_4,                 "EPT 4-level page walk" },
	{ VMX_EPT_WALK_5,                 "EPT 5-level page walk" },
	{ VMX_EPT_MEMTYPE_UC,             "EPT paging structures uncacheable (UC)" },
	{ VMX_EPT_MEMTYPE_WB,             "EPT paging structures write-back (WB)" },
	{ VMX_EPT_PAGE_2M,                "EPT 2-MByte pages" },
	{ VMX_EPT_PAGE_1G,                "EPT 1-GByte pages" },
	{ VMX_EPT_ACCESSED_DIRTY,         "EPT accessed and dirty flags" },
	{ VMX_EPT_ADVANCED_EXIT_INFO,     "EPT-violation advanced exit information" },
	{ VMX_EPT_INVEPT,                 "INVEPT" },
	{ VMX_EPT_INVEPT_SINGLE,          "INVEPT single-context" },
	{ VMX_EPT_INVEPT_ALL,             "INVEPT all-context" },
	{ VMX_VPID_INVVPID,               "INVVPID" },
	{ VMX_VPID_INVVPID_ADDRESS,       "INVVPID individual-address" },
	{ VMX_VPID_INVVPID_SINGLE,        "INVVPID single-context" },
	{ VMX_VPID_INVVPID_ALL,           "INVVPID all-context" },
	{ VMX_VPID_INVVPID_SINGLE_GLOBAL, "INVVPID single-context-retaining-globals" },
}, misc_bits[] = {
	{ VMX_MISC_STORES_LMA,            "EFER.LMA saved into the IA-32e mode guest control on exit" },
	{ VMX_MISC_PT_IN_VMX,             "Intel PT in VMX operation" },
	{ VMX_MISC_RDMSR_SMBASE,          "RDMSR of IA32_SMBASE in SMM" },
	{ VMX_MISC_SMM_BLOCK_SMI,         "SMM monitor may block SMIs" },
	{ VMX_MISC_VMWRITE_ANY_FIELD,     "VMWRITE to VM-exit information fields" },
	{ VMX_MISC_ZERO_LENGTH_INJECTION, "software-event injection with instruction length 0" },
};

static void report_bits(struct report *r, const struct cap_bit *bits, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++) {
		add(r, "  %s: %s", bits[i].what, yes_no(v & bits[i].mask));
		flush(r);
	}
}

static void report_ept_vpid(struct report *r, uint64_t cap)
{
	add(r, "IA32_VMX_EPT_VPID_CAP=0x%016llx", (unsigned long long)cap);
	flush(r);
	report_bits(r, ept_vpid_bits, COUNT(ept_vpid_bits), cap);
}

static void report_misc(struct report *r, uint64_t m)
{
	unsigned shift = (unsigned)(m & VMX_MISC_PREEMPTION_SHIFT_MASK);
	unsigned list = (unsigned)((m >> VMX_MISC_MSR_LIST_SHIFT) & VMX_MISC_MSR_LIST_MASK);

	add(r, "IA32_VMX_MISC=0x%016llx", (unsigned long long)m);
	flush(r);
	add(r, "  preemption-timer rate shift: %u (one tick every %llu TSC cycles)",
	    shift, 1ull << shift);
	flush(r);
	add(r, "  activity states:");
	if (m & VMX_MISC_ACTIVITY_HLT)
		add(r, " HLT");
	if (m & VMX_MISC_ACTIVITY_SHUTDOWN)
		add(r, " shutdown");
	if (m & VMX_MISC_ACTIVITY_WAIT_SIPI)
		add(r, " wait-for-SIPI");
	if (!(m & (VMX_MISC_ACTIVITY_HLT | VMX_MISC_ACTIVITY_SHUTDOWN | VMX_MISC_ACTIVITY_WAIT_SIPI)))
		add(r, " active only");
	flush(r);
	add(r, "  CR3-target values: %u",
	    (unsigned)((m >> VMX_MISC_CR3_TARGETS_SHIFT) & VMX_MISC_CR3_TARGETS_MASK));
	flush(r);
	add(r, "  MSR-list limit: %u entries", 512 * (list + 1));
	flush(r);
	report_bits(r, misc_bits, COUNT(misc_bits), m);
	add(r, "  MSEG revision identifier: 0x%x", (unsigned)(m >> VMX_MISC_MSEG_REVISION_SHIFT));
	flush(r);
}

static const char *const cr0_bits[32] = {
	[0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET", [5] = "NE",
	[16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG",
};

static const char *const cr4_bits[32] = {
	[0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE", [5] = "PAE",
	[6] = "MCE", [7] = "PGE", [8] = "PCE", [9] = "OSFXSR", [10] = "OSXMMEXCPT",
	[11] = "UMIP", [12] = "LA57", [13] = "VMXE", [14] = "SMXE", [16] = "FSGSBASE",
	[17] = "PCIDE", [18] = "OSXSAVE", [19] = "KL", [20] = "SMEP", [21] = "SMAP",
	[22] = "PKE", [23] = "CET", [24] = "PKS", [25] = "UINTR",
};

/* A bit set in FIXED0 must be 1; a bit clear in FIXED1 must be 0 (SDM Vol. 3D, A.7-A.8). */
static void report_cr_fixed(struct report *r, unsigned cr, uint64_t fixed0, uint64_t fixed1)
{
	const char *const *names = cr == 0 ? cr0_bits : cr4_bits;
	uint64_t must_be_1 = fixed0 & fixed1;

	add(r, "IA32_VMX_CR%u_FIXED0=0x%016llx, IA32_VMX_CR%u_FIXED1=0x%016llx",
	    cr, (unsigned long long)fixed0, cr, (unsigned long long)fixed1);
	flush(r);
	add(r, "  CR%u must be 1:", cr);
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(must_be_1 & (1ull << bit)))
			continue;
		if (bit < 32 && names[bit])
			add(r, " %s", names[bit]);
		else
			add(r, " bit%u", bit);
	}
	if (!must_be_1)
		add(r, " none");
	flush(r);
	add(r, "  CR%u must be 0: 0x%016llx", cr, (unsigned long long)~fixed1);
	flush(r);
}

static void report_tail(struct report *r, const struct vmx_caps_raw *caps)
{
	if (caps->have & VMX_HAVE_EPT_VPID_CAP)
		report_ept_vpid(r, caps->ept_vpid_cap);
	if (caps->have & VMX_HAVE_MISC)
		report_misc(r, caps->misc);
	if (caps->have & VMX_HAVE_CR_FIXED) {
		report_cr_fixed(r, 0, caps->cr0_fixed0, caps->cr0_fixed1);
		report_cr_fixed(r, 4, caps->cr4_fixed0, caps->cr4_fixed1);
	}
	if (caps->have & VMX_HAVE_VMFUNC) {
		add(r, "IA32_VMX_VMFUNC=0x%llx: EPTP switching %s", (unsigned long long)caps->vmfunc,
		    yes_no(caps->vmfunc & VMX_VMFUNC_EPTP_SWITCHING));
		flush(r);
	}
	if (caps->have & VMX_HAVE_VMCS_ENUM) {
		add(r, "IA32_VMX_VMCS_ENUM=0x%llx: highest field index %u",
		    (unsigned long long)caps->vmcs_enum, VMX_VMCS_ENUM_MAX_INDEX(caps->vmcs_enum));
		flush(r);
	}
}

void vmx_caps_report(const struct vmx_caps_raw *caps,
		     void (*emit)(void *ctx, const char *line), void *ctx)
{
	struct report r = { .emit = emit, .ctx = ctx };
	bool vmx = caps->cpuid1_ecx & CPUID_1_ECX_VMX;

	add(&r, "CPUID.1:ECX.VMX=%d", vmx);
	flush(&r);
	if (!vmx) {
		add(&r, "no VMX: this processor (or emulator) does not offer VT-x");
		flush(&r);
		return;
	}
	if (caps->have & VMX_HAVE_FEATURE_CONTROL)
		report_feature_control(&r, caps->feature_control);
	if (caps->have & VMX_HAVE_BASIC)
		report_basic(&r, caps->basic);
	for (unsigned g = 0; g < VMX_CTL_GROUPS; g++)
		report_group(&r, caps, (enum vmx_control_group)g);
	report_tail(&r, caps);
}
