/* vmcs_write_policy.c — the one VMCS write policy (vmcs_write_policy.h):
 * which fields and bits a user may change, then the VM-entry checker on
 * the VMCS as it would be.  The writable control bits are data: the table
 * below, mirrored in the README ("What vmcs.write and monitor vmcs may
 * change"). */
#include "vmcs_write_policy.h"

#include <stdbool.h>

#include "platform/errno.h"
#include "platform/fmt.h"
#include "vmcs_table.h"
#include "vmx_msr.h"

#define EXC_DB (1u << 1)
#define EXC_BP (1u << 3)
#define EXC_PF (1u << 14)

/* How a writable field's bits are found. */
enum writable_kind {
	BITS_LISTED,	/* the bits below */
	BITS_CR0_FREE,	/* CR0 bits VMX does not fix (IA32_VMX_CR0_FIXED0/1) */
	BITS_CR4_FREE,
};

struct writable {
	uint32_t field;
	enum writable_kind kind;
	uint64_t bits;
	int names;	/* the vmx_controls.def group naming the bits, or -1 */
};

/* Each bit here can only add VM exits vmxdbg handles, or change what the
 * guest reads or is given, never what it can reach (SDM Vol. 3C §25.6-25.8):
 * - the window exits end at the first window (inject_pending_events);
 *   HLT exits halt in non-root either way; TSC offsetting and the offset
 *   change the guest's RDTSC only.  Not RDTSC, RDPMC, PAUSE, MWAIT,
 *   MONITOR, INVLPG, CR3 or CR8 exiting: vmxdbg has no handler for those
 *   exits, and an unhandled exit stops the guest;
 * - the exception bitmap without #DB and #BP (the debugger's) and #PF (a
 *   #PF that exits leaves CR2 unwritten, SDM Vol. 3C §28.1, and
 *   exit_exception_nmi() re-injects it as it came);
 * - the CR0/CR4 guest/host masks outside the bits VMX fixes (they stay
 *   vmxdbg's: CR0.NE, PE, PG, CR4.VMXE...), and the read shadows;
 * - an event to inject, judged by the checker (§27.2.1.3) and below. */
static const struct writable writable[] = {
	{ PRIMARY_VM_EXEC_CONTROL, BITS_LISTED,
	  VMX_PROC_INTERRUPT_WINDOW_EXITING | VMX_PROC_USE_TSC_OFFSETTING | VMX_PROC_HLT_EXITING |
	  VMX_PROC_NMI_WINDOW_EXITING, VMX_CTL_PROC },
	{ EXCEPTION_BITMAP, BITS_LISTED, 0xffffffffu & ~(EXC_DB | EXC_BP | EXC_PF), -1 },
	{ TSC_OFFSET, BITS_LISTED, ~0ull, -1 },
	{ CR0_GUEST_HOST_MASK, BITS_CR0_FREE, 0, -1 },
	{ CR4_GUEST_HOST_MASK, BITS_CR4_FREE, 0, -1 },
	{ CR0_READ_SHADOW, BITS_LISTED, ~0ull, -1 },
	{ CR4_READ_SHADOW, BITS_LISTED, ~0ull, -1 },
	{ VM_ENTRY_INTERRUPTION_INFO, BITS_LISTED, ~0ull, -1 },
	{ VM_ENTRY_EXCEPTION_ERROR_CODE, BITS_LISTED, ~0ull, -1 },
	{ VM_ENTRY_INSTRUCTION_LENGTH, BITS_LISTED, ~0ull, -1 },
};

#define WRITABLE_COUNT (sizeof(writable) / sizeof(writable[0]))

/* Guest-state fields that are vmxdbg's all the same. */
static const struct {
	uint32_t field;
	const char *why;
} guest_kept[] = {
	{ VMCS_LINK_POINTER, "an address the CPU reads a VMCS from" },
	{ PML_INDEX, "an index into vmxdbg's page-modification log" },
	{ VMX_PREEMPTION_TIMER_VALUE, "the clock on which vmxdbg polls gdb's line (break-in)" },
};

/* Control fields outside the table, by what their names say. */
static const struct {
	const char *part;
	const char *why;
} control_kept[] = {
	{ "ADDRESS", "an address the CPU reads or writes on its own: a wrong one hands the guest "
		     "vmxdbg's memory" },
	{ "POINTER", "an address the CPU reads or writes on its own: a wrong one hands the guest "
		     "vmxdbg's memory" },
	{ "BITMAP", "a bitmap address: the I/O and MSR bitmaps hide the debug UART and the VMX MSRs" },
	{ "COUNT", "the size of an MSR area or the CR3-target list vmxdbg keeps" },
};

/* The exceptions that push an error code in protected mode: #DF, #TS, #NP,
 * #SS, #GP, #PF, #AC, #CP (SDM Vol. 3A Table 6-1). */
#define EXC_WITH_ERROR_CODE 0x00227d00u

static const struct writable *writable_entry(uint32_t field)
{
	for (size_t i = 0; i < WRITABLE_COUNT; i++)
		if (writable[i].field == field)
			return &writable[i];
	return NULL;
}

static uint64_t writable_bits(const struct writable *e, const struct vmx_caps_raw *caps)
{
	if (e->kind == BITS_CR0_FREE)
		return ~(caps->cr0_fixed0 | ~caps->cr0_fixed1) & 0xffffffffull;
	if (e->kind == BITS_CR4_FREE)
		return ~(caps->cr4_fixed0 | ~caps->cr4_fixed1) & 0xffffffffull;
	return e->bits;
}

static bool name_has(const char *name, const char *part)
{
	for (; *name; name++) {
		const char *a = name, *b = part;
		while (*b && *a == *b)
			a++, b++;
		if (!*b)
			return true;
	}
	return false;
}

static int refuse_control(const struct vmcs_field_info *f, char *why, size_t len)
{
	for (size_t i = 0; i < sizeof(control_kept) / sizeof(control_kept[0]); i++)
		if (name_has(f->name, control_kept[i].part)) {
			ksnprintf(why, len, "%s is %s", f->name, control_kept[i].why);
			return -EPERM;
		}
	ksnprintf(why, len, "%s is one of vmxdbg's own controls (the README lists what may be written)",
		  f->name);
	return -EPERM;
}

/* "bits 23 (MOV_DR_EXITING), 25 (USE_IO_BITMAPS)" into buf at *at. */
static void append_bits(char *buf, size_t len, size_t *at, uint64_t bits, int names)
{
	for (unsigned bit = 0; bit < 64 && *at < len; bit++) {
		if (!(bits >> bit & 1))
			continue;
		const char *name = names >= 0 ? vmx_control_name((enum vmx_control_group)names, bit) : NULL;
		bits &= ~(1ull << bit);
		*at += (size_t)ksnprintf(buf + *at, len - *at, "%u%s%s%s%s", bit, name ? " (" : "", name ? name : "",
					 name ? ")" : "", bits ? ", " : "");
	}
}

static int check_bits(const struct writable *e, const struct vmcs_field_info *f, uint64_t old,
		      uint64_t value, const struct vmx_caps_raw *caps, char *why, size_t len)
{
	uint64_t may = writable_bits(e, caps), kept = (old ^ value) & ~may;
	size_t at;

	if (!kept)
		return 0;
	at = (size_t)ksnprintf(why, len, "%s bit%s ", f->name, kept & (kept - 1) ? "s" : "");
	append_bits(why, len, &at, kept, e->names);
	if (at < len)
		at += (size_t)ksnprintf(why + at, len - at, " %s vmxdbg's; ", kept & (kept - 1) ? "are" : "is");
	if (e->names < 0 && at < len)
		ksnprintf(why + at, len - at, "only the bits in 0x%llx may change", (unsigned long long)may);
	else if (at < len) {
		at += (size_t)ksnprintf(why + at, len - at, "only bits ");
		append_bits(why, len, &at, may, e->names);
		if (at < len)
			ksnprintf(why + at, len - at, " may change");
	}
	return -EPERM;
}

/* The field may be written at all, and only in the bits it may change. */
static int check_ownership(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			   const struct vmcs_write *w, char *why, size_t len)
{
	const struct vmcs_field_info *f = vmcs_field_by_encoding(w->field);
	uint64_t old = 0;

	if (!f || vmcs_enc_is_high(w->field)) {
		ksnprintf(why, len, "0x%x is not the full encoding of a VMCS field", w->field);
		return -EINVAL;
	}
	switch (f->group) {
	case VMCS_GROUP_EXIT_INFO:
		ksnprintf(why, len, "%s is a read-only VM-exit information field", f->name);
		return -EPERM;
	case VMCS_GROUP_HOST:
		ksnprintf(why, len, "%s belongs to the hypervisor: host state, what the CPU loads on every VM exit",
			  f->name);
		return -EPERM;
	case VMCS_GROUP_GUEST:
		for (size_t i = 0; i < sizeof(guest_kept) / sizeof(guest_kept[0]); i++)
			if (guest_kept[i].field == w->field) {
				ksnprintf(why, len, "%s is %s: vmxdbg keeps it", f->name, guest_kept[i].why);
				return -EPERM;
			}
		/* Shutdown and wait-for-SIPI stop the preemption timer under
		 * Bochs (PLATFORM-NOTES): gdb could never break in again. */
		if (w->field == GUEST_ACTIVITY_STATE && w->value > 1) {
			ksnprintf(why, len, "GUEST_ACTIVITY_STATE may be 0 (active) or 1 (HLT): in shutdown "
				  "or wait-for-SIPI the debugger could not break in");
			return -EPERM;
		}
		return 0;
	case VMCS_GROUP_CONTROL:
		break;
	}
	const struct writable *e = writable_entry(w->field);
	if (!e)
		return refuse_control(f, why, len);
	vmcs->read(vmcs->ctx, w->field, &old);
	return check_bits(e, f, old, w->value, caps, why, len);
}

/* ---- the VMCS as it would be */

struct proposed {
	const struct vmcs_reader *live;
	const struct vmcs_write *w;
	int n;
};

static int proposed_read(void *ctx, uint32_t field, uint64_t *value)
{
	const struct proposed *p = ctx;

	for (int i = p->n - 1; i >= 0; i--)
		if (p->w[i].field == field) {
			*value = p->w[i].value;
			return 0;
		}
	return p->live->read(p->live->ctx, field, value);
}

/* Stricter than the CPU where the CPU's leniency would break the guest
 * (SDM Vol. 3C §27.2.1.3, §27.6.1.1): an error code only where protected
 * mode pushes one, whatever IA32_VMX_BASIC[56] lets through (a handler that
 * pops none would return through it), and a software event's length 1-15
 * even where zero-length injection is allowed (the guest's IRET would come
 * back to the INT and run it again). */
static int check_event(const struct vmcs_reader *proposed, const struct vmcs_write *w, int n,
		       char *why, size_t len)
{
	uint64_t info = 0, length = 0;
	bool event = false;

	for (int i = 0; i < n; i++)
		event |= w[i].field == VM_ENTRY_INTERRUPTION_INFO || w[i].field == VM_ENTRY_EXCEPTION_ERROR_CODE ||
			 w[i].field == VM_ENTRY_INSTRUCTION_LENGTH;
	proposed->read(proposed->ctx, VM_ENTRY_INTERRUPTION_INFO, &info);
	proposed->read(proposed->ctx, VM_ENTRY_INSTRUCTION_LENGTH, &length);
	unsigned vector = info & 0xff, type = (info >> 8) & 7;
	if (!event || !(info & (1u << 31)))
		return 0;
	if (type == 3 && (info & (1u << 11)) && !(EXC_WITH_ERROR_CODE >> vector & 1)) {
		ksnprintf(why, len, "exception %u pushes no error code (only 8, 10-14, 17 and 21 do): inject "
			  "it without one — SDM 27.2.1.3", vector);
		return -EINVAL;
	}
	if (type >= 4 && type <= 6 && (length < 1 || length > 15)) {
		ksnprintf(why, len, "a software interrupt or exception (type %u) needs the length of its "
			  "instruction, 1-15, in VM_ENTRY_INSTRUCTION_LENGTH (it is %llu) — SDM 27.2.1.3", type,
			  (unsigned long long)length);
		return -EINVAL;
	}
	return 0;
}

/* Static: the exit path's stack is small, and one caller at a time writes. */
#define FOUND_MAX 32
static struct entry_violation before[FOUND_MAX], after[FOUND_MAX];

/* The rule without the "FIELD (value): " that starts every message. */
static const char *rule_of(const struct entry_violation *v)
{
	for (const char *p = v->message; p[0]; p++)
		if (p[0] == ')' && p[1] == ':' && p[2] == ' ')
			return p + 3;
	return v->message;
}

static bool same_text(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static bool known_before(const struct entry_violation *v, int n)
{
	for (int i = 0; i < n && i < FOUND_MAX; i++)
		if (before[i].field == v->field && same_text(rule_of(&before[i]), rule_of(v)))
			return true;
	return false;
}

int vmcs_policy_new_violation(const struct vmcs_reader *live, const struct vmcs_reader *proposed,
			      const struct vmx_caps_raw *caps, char *why, size_t len)
{
	int n_after = entry_check_all(proposed, caps, after, FOUND_MAX);

	if (!n_after)
		return 0;
	int n_before = entry_check_all(live, caps, before, FOUND_MAX);
	for (int i = 0; i < n_after && i < FOUND_MAX; i++)
		if (!known_before(&after[i], n_before)) {
			ksnprintf(why, len, "VM entry would fail: %s", after[i].message);
			return -EINVAL;
		}
	return 0;
}

int vmcs_policy_check(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
		      const struct vmcs_write *w, int n, char *why, size_t len)
{
	for (int i = 0; i < n; i++) {
		int rc = check_ownership(vmcs, caps, &w[i], why, len);
		if (rc)
			return rc;
	}
	struct proposed p = { vmcs, w, n };
	struct vmcs_reader proposed = *vmcs;

	proposed.ctx = &p;
	proposed.read = proposed_read;
	int rc = check_event(&proposed, w, n, why, len);
	return rc ? rc : vmcs_policy_new_violation(vmcs, &proposed, caps, why, len);
}
