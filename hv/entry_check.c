/* entry_check.c — the VM-entry checker's frame: the public entry points, how
 * a violation is worded, and the rules many fields share (fixed bits,
 * canonical and physical addresses, MSR areas, PAT). The rules themselves
 * live in entry_check_controls.c, _host.c, _guest.c and _segments.c, each
 * in the order of SDM Vol. 3C §27.2-27.3. */
#include "entry_check_impl.h"

#include <stdarg.h>
#include <stddef.h>

#include "platform/fmt.h"

void ec_init(struct ec *c, const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
	     struct entry_violation *out, int max)
{
	*c = (struct ec){ .vmcs = vmcs, .caps = caps, .out = out, .max = out ? max : 0 };
	c->phys_bits = vmcs->phys_addr_bits ? vmcs->phys_addr_bits : 52;
	c->linear_bits = vmcs->linear_addr_bits ? vmcs->linear_addr_bits : 48;
	c->pin = (uint32_t)ec_read(c, PIN_BASED_VM_EXEC_CONTROL);
	c->proc = (uint32_t)ec_read(c, PRIMARY_VM_EXEC_CONTROL);
	c->exit = (uint32_t)ec_read(c, PRIMARY_VM_EXIT_CONTROLS);
	c->entry = (uint32_t)ec_read(c, VM_ENTRY_CONTROLS);
	/* Not activated: the processor acts as if they were all 0 (SDM 25.6.2, 25.7.1). */
	if (c->proc & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS)
		c->proc2 = (uint32_t)ec_read(c, SECONDARY_VM_EXEC_CONTROL);
	if (c->proc & VMX_PROC_ACTIVATE_TERTIARY_CONTROLS)
		c->proc3 = ec_read(c, TERTIARY_VM_EXEC_CONTROL);
	if (c->exit & VMX_EXIT_ACTIVATE_SECONDARY_CONTROLS)
		c->exit2 = ec_read(c, SECONDARY_VM_EXIT_CONTROLS);
}

uint64_t ec_read(const struct ec *c, uint32_t field)
{
	uint64_t v = 0;

	if (c->vmcs->read(c->vmcs->ctx, field, &v) < 0)
		return 0;
	switch (vmcs_enc_width(field)) {
	case VMCS_WIDTH_16: return v & 0xffff;
	case VMCS_WIDTH_32: return v & 0xffffffffull;
	default: return v;
	}
}

/* Hex digits that show a field's whole width: 0x0010, 0x0000c093, ... */
static int value_digits(uint32_t field)
{
	switch (vmcs_enc_width(field)) {
	case VMCS_WIDTH_16: return 4;
	case VMCS_WIDTH_32: return 8;
	default: return 16;
	}
}

static void append(char *buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;

	if (*len >= ENTRY_MESSAGE_MAX - 1)
		return;
	va_start(ap, fmt);
	*len += (size_t)kvsnprintf(buf + *len, ENTRY_MESSAGE_MAX - *len, fmt, ap);
	va_end(ap);
}

void ec_fail(struct ec *c, uint32_t field, uint64_t value, const char *section, const char *rule, ...)
{
	int i = c->found++;

	if (i >= c->max)
		return;
	struct entry_violation *v = &c->out[i];
	const struct vmcs_field_info *f = vmcs_field_by_encoding(field);
	size_t len = 0;
	va_list ap;

	v->field = field;
	v->value = value;
	v->message[0] = '\0';
	append(v->message, &len, "%s (0x%0*llx): ", f ? f->name : "unknown field", value_digits(field),
	       (unsigned long long)value);
	if (len < ENTRY_MESSAGE_MAX - 1) {
		va_start(ap, rule);
		len += (size_t)kvsnprintf(v->message + len, ENTRY_MESSAGE_MAX - len, rule, ap);
		va_end(ap);
	}
	append(v->message, &len, " — SDM %s", section);
}

/* Bits 63:N-1 all equal, N the linear-address width (SDM Vol. 1 §3.3.7.1). */
bool ec_canonical(const struct ec *c, uint64_t addr)
{
	unsigned shift = 64 - c->linear_bits;

	return (uint64_t)((int64_t)(addr << shift) >> shift) == addr;
}

bool ec_phys_ok(const struct ec *c, uint64_t addr)
{
	return c->phys_bits >= 64 || (addr >> c->phys_bits) == 0;
}

void ec_want_canonical(struct ec *c, uint32_t field, const char *section)
{
	uint64_t v = ec_read(c, field);

	if (!ec_canonical(c, v))
		ec_fail(c, field, v, section, "must be a canonical address (bits 63:%u all equal)",
			c->linear_bits - 1);
}

void ec_want_page_address(struct ec *c, uint32_t field, const char *section)
{
	uint64_t v = ec_read(c, field);

	if (v & 0xfff)
		ec_fail(c, field, v, section, "must be 4-KByte aligned (bits 11:0 zero)");
	if (!ec_phys_ok(c, v))
		ec_fail(c, field, v, section, "must not set bits beyond the %u-bit physical-address width",
			c->phys_bits);
}

void ec_want_msr_area(struct ec *c, uint32_t addr_field, uint32_t count_field, const char *section)
{
	uint64_t count = ec_read(c, count_field) & 0xffffffffull;

	if (count == 0)
		return;
	uint64_t a = ec_read(c, addr_field);
	uint64_t last = a + count * 16 - 1;	/* wider than MAXPHYADDR: no wrap to care about */

	if (a & 0xf)
		ec_fail(c, addr_field, a, section, "must be 16-byte aligned (bits 3:0 zero) while the count is %llu",
			(unsigned long long)count);
	if (!ec_phys_ok(c, a))
		ec_fail(c, addr_field, a, section, "must not set bits beyond the %u-bit physical-address width",
			c->phys_bits);
	else if (!ec_phys_ok(c, last))
		ec_fail(c, addr_field, a, section,
			"the last byte of its %llu entries (0x%llx) lies beyond the %u-bit physical-address width",
			(unsigned long long)count, (unsigned long long)last, c->phys_bits);
}

static const char *const cr0_names[32] = {
	[0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET", [5] = "NE",
	[16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG",
};

static const char *const cr4_names[32] = {
	[0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE", [5] = "PAE",
	[6] = "MCE", [7] = "PGE", [8] = "PCE", [9] = "OSFXSR", [10] = "OSXMMEXCPT",
	[11] = "UMIP", [12] = "LA57", [13] = "VMXE", [14] = "SMXE", [16] = "FSGSBASE",
	[17] = "PCIDE", [18] = "OSXSAVE", [19] = "KL", [20] = "SMEP", [21] = "SMAP",
	[22] = "PKE", [23] = "CET", [24] = "PKS", [25] = "UINTR",
};

/* What a bit is called: a control's name from hv/vmx_controls.def, or a
 * CR0/CR4 flag; NULL for a bit without a name. */
enum { NAMES_CR0 = VMX_CTL_GROUPS, NAMES_CR4 };

static const char *bit_name(int names, unsigned bit)
{
	if (names < VMX_CTL_GROUPS)
		return vmx_control_name((enum vmx_control_group)names, bit);
	if (bit >= 32)
		return NULL;
	return names == NAMES_CR0 ? cr0_names[bit] : cr4_names[bit];
}

/* One violation per wrong bit, so each names its control or flag. */
static void want_fixed_bits(struct ec *c, uint32_t field, uint64_t value, uint64_t must_be_1,
			    uint64_t may_be_1, const char *msr, const char *kind0, const char *kind1,
			    int names, const char *section)
{
	for (unsigned bit = 0; bit < 64; bit++) {
		bool is_1 = value & BIT(bit);
		bool wrong0 = !is_1 && (must_be_1 & BIT(bit));
		bool wrong1 = is_1 && !(may_be_1 & BIT(bit));

		if (!wrong0 && !wrong1)
			continue;
		const char *name = bit_name(names, bit);
		ec_fail(c, field, value, section, "bit %u%s%s%s must be %d (%s%s)", bit,
			name ? " (" : "", name ? name : "", name ? ")" : "", wrong0,
			msr, wrong0 ? kind0 : kind1);
	}
}

void ec_want_control_group(struct ec *c, enum vmx_control_group group, uint32_t field,
			   uint64_t value, const char *section)
{
	uint32_t msr;
	uint64_t cap;

	if (!vmx_caps_control_msr(c->caps, group, &msr, &cap))
		return;
	/* The 64-bit groups' MSRs list allowed 1-settings only (SDM Vol. 3D A.3.4, A.4.2). */
	bool wide = group == VMX_CTL_PROC3 || group == VMX_CTL_EXIT2;
	uint64_t must_be_1 = wide ? 0 : (uint32_t)cap;
	uint64_t may_be_1 = wide ? cap : cap >> 32;

	want_fixed_bits(c, field, value, must_be_1, may_be_1, vmx_msr_name(msr), " allowed-0",
			" allowed-1", group, section);
}

void ec_want_cr_fixed(struct ec *c, uint32_t field, uint64_t value, unsigned cr, uint64_t exempt,
		      const char *section)
{
	const struct vmx_caps_raw *k = c->caps;

	if (!(k->have & VMX_HAVE_CR_FIXED))
		return;
	uint64_t fixed0 = cr == 0 ? k->cr0_fixed0 : k->cr4_fixed0;
	uint64_t fixed1 = cr == 0 ? k->cr0_fixed1 : k->cr4_fixed1;

	want_fixed_bits(c, field, value, fixed0 & ~exempt, fixed1,
			cr == 0 ? "IA32_VMX_CR0" : "IA32_VMX_CR4", "_FIXED0", "_FIXED1",
			cr == 0 ? NAMES_CR0 : NAMES_CR4, section);
}

void ec_want_pat(struct ec *c, uint32_t field, const char *section)
{
	uint64_t pat = ec_read(c, field);

	for (unsigned i = 0; i < 8; i++) {
		unsigned type = (unsigned)(pat >> (8 * i)) & 0xff;
		/* UC, WC, WT, WP, WB, UC-: 2, 3 and 8-255 are reserved (SDM Vol. 3A §13.12.2). */
		if (type > 7 || type == 2 || type == 3)
			ec_fail(c, field, pat, section,
				"PA%u is 0x%02x, not a memory type (0, 1, 4, 5, 6 or 7)", i, type);
	}
}

int entry_check_controls(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			 struct entry_violation *out, int max)
{
	struct ec c;

	ec_init(&c, vmcs, caps, out, max);
	ec_check_execution_controls(&c);
	ec_check_exit_controls(&c);
	ec_check_entry_controls(&c);
	return c.found;
}

int entry_check_host_state(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			   struct entry_violation *out, int max)
{
	struct ec c;

	ec_init(&c, vmcs, caps, out, max);
	ec_check_host(&c);
	return c.found;
}

int entry_check_guest_state(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			    struct entry_violation *out, int max)
{
	struct ec c;

	ec_init(&c, vmcs, caps, out, max);
	ec_check_guest_registers(&c);
	ec_check_guest_segments(&c);
	ec_check_guest_rest(&c);
	return c.found;
}

int entry_check_all(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
		    struct entry_violation *out, int max)
{
	int n = entry_check_controls(vmcs, caps, out, max);
	int rest = max > n ? max - n : 0;

	n += entry_check_host_state(vmcs, caps, rest ? out + n : NULL, rest);
	rest = max > n ? max - n : 0;
	n += entry_check_guest_state(vmcs, caps, rest ? out + n : NULL, rest);
	return n;
}

/* SDM 27.4: the cases in which processing of an MSR-load entry fails that can
 * be told from the entry alone. */
const char *entry_check_msr_load_entry(uint64_t q)
{
	uint32_t msr = (uint32_t)q;

	if (q >> 32)
		return "bits 63:32 of the entry's first quadword are reserved and must be 0 — SDM 27.4";
	if (msr == 0xc0000100u || msr == 0xc0000101u)
		return "IA32_FS_BASE and IA32_GS_BASE cannot be loaded from the area: VM entry "
		       "takes them from GUEST_FS_BASE and GUEST_GS_BASE — SDM 27.4";
	if ((msr >> 8) == 0x8)
		return "MSRs 800H-8FFH are x2APIC registers and cannot be loaded from the area "
		       "while the local APIC is in x2APIC mode — SDM 27.4";
	if (msr == 0x9b)
		return "IA32_SMM_MONITOR_CTL can be written only in SMM — SDM 27.4";
	if (msr == 0x79)
		return "IA32_BIOS_UPDT_TRIG (microcode update) is refused in MSR-load areas "
		       "for model-specific reasons — SDM 27.4 and Vol. 4";
	return NULL;
}
