/* entry_failure.c — explaining a failed VM entry on the machine itself (book
 * ch. 4). The processor says little: a VM-instruction error (SDM 31.4) when
 * the controls or host state are wrong, or exit reason 33/34/41 with an
 * exit qualification when guest state or MSR loading is (SDM 27.7). So we
 * read the VMCS back through VMREAD and let hv/entry_check.c name the field
 * and the rule. This runs once, when the guest is already lost: clarity
 * over speed. */
#include "entry_failure.h"

#include <stdarg.h>

#include "entry_check.h"
#include "platform/cpu.h"
#include "platform/fmt.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "vmcs_present.h"
#include "vmx.h"

/* Static, not on the stack: the exit path's stack is small. One CPU at a time
 * reports a failed entry. */
#define REPORT_MAX 32
static struct entry_violation found[REPORT_MAX];

/* What the last report said, line by line, for the debugger: gdb shows it
 * when the guest stops and when it refuses to resume (target_report_dead). */
static char notes[2048];
static size_t notes_len;

static void notes_clear(void)
{
	notes_len = 0;
	notes[0] = 0;
}

/* One line to the log and to the notes (cut short if they are full). */
static __attribute__((format(printf, 1, 2))) void note(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_error("%s", line);
	size_t n = strlen(line);
	if (notes_len + n + 2 <= sizeof(notes)) {
		memcpy(notes + notes_len, line, n);
		notes_len += n;
		notes[notes_len++] = '\n';
		notes[notes_len] = 0;
	}
}

const char *entry_failure_notes(void)
{
	return notes;
}

typedef int (*entry_checker)(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			     struct entry_violation *out, int max);

/* A field this processor lacks is not read at all (VMREAD would fail with
 * error 12 and overwrite VM_INSTRUCTION_ERROR, SDM Vol. 3C §31.4); the
 * checker reads it as 0. */
static int vmcs_read(void *ctx, uint32_t encoding, uint64_t *value)
{
	(void)ctx;
	if (!vmcs_field_present(&vmx_caps, encoding))
		return -1;
	return vmread_checked(encoding, value) == VMX_OK ? 0 : -1;
}

/* MAXPHYADDR and the linear-address width: CPUID.80000008H:EAX[7:0], [15:8]. */
static void address_widths(struct vmcs_reader *r)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000u, 0, &a, &b, &c, &d);
	if (a < 0x80000008u)
		return;
	cpuid(0x80000008u, 0, &a, &b, &c, &d);
	r->phys_addr_bits = a & 0xff;
	r->linear_addr_bits = (a >> 8) & 0xff;
}

#define NOT_MODELLED "the checker found no broken rule; the CPU checked something the checker does not model"

/* none: what to say when the checker finds nothing.  Returns the number
 * of broken rules. */
static int run_checker(entry_checker check, const char *none)
{
	struct vmcs_reader r = { .ctx = NULL, .read = vmcs_read };

	address_widths(&r);
	int n = check(&r, &vmx_caps, found, REPORT_MAX);
	if (n == 0) {
		if (none)
			note("vmentry: %s", none);
		return 0;
	}
	note("vmentry: the checker found %d broken rule%s:", n, n == 1 ? "" : "s");
	for (int i = 0; i < n && i < REPORT_MAX; i++)
		note("vmentry:   %s", found[i].message);
	if (n > REPORT_MAX)
		note("vmentry:   ... and %d more", n - REPORT_MAX);
	return n;
}

/* Exit qualification of exit reason 33 (SDM 27.7); 0 says nothing more. */
static const char *const guest_state_qualifications[] = {
	[2] = "loading the PDPTEs failed: a present PDPTE sets reserved bits (SDM 27.3.1.6)",
	[3] = "an NMI was injected while blocking by STI was in effect, which this processor "
	      "refuses (SDM 27.3.1.5)",
	[4] = "the VMCS link pointer is bad: it must be FFFFFFFF_FFFFFFFFH, or the address of a "
	      "VMCS with this revision and a shadow bit equal to VMCS_SHADOWING (SDM 27.3.1.5)",
};

static void explain_guest_state(uint64_t qual)
{
	const char *why = qual < 5 ? guest_state_qualifications[qual] : NULL;

	if (why)
		note("vmentry: exit qualification %llu: %s", (unsigned long long)qual, why);
	else
		note("vmentry: exit qualification %llu: no detail; any guest-state check may have "
			  "failed (SDM 27.3.1)", (unsigned long long)qual);
}

/* Exit reason 34: the qualification counts MSR-load entries from 1 (SDM 27.7).
 * The area is in the VMM's memory, identity-mapped below 4 GiB. */
static void explain_msr_loading(uint64_t qual)
{
	uint64_t count = vmread(VM_ENTRY_MSR_LOAD_COUNT), area = vmread(VM_ENTRY_MSR_LOAD_ADDRESS);
	uint64_t at = area + (qual - 1) * 16;

	note("vmentry: exit qualification %llu: entry %llu of the %llu in the VM-entry MSR-load area "
		  "at 0x%llx could not be loaded (SDM 27.4)", (unsigned long long)qual,
		  (unsigned long long)qual, (unsigned long long)count, (unsigned long long)area);
	if (qual == 0 || qual > count || at + 16 > IDENTITY_MAP_LIMIT)
		return;
	const volatile uint64_t *entry = (const volatile uint64_t *)(uintptr_t)at;
	uint64_t index = entry[0], value = entry[1];
	const char *why = entry_check_msr_load_entry(index);

	note("vmentry: entry %llu: MSR 0x%x, value 0x%llx", (unsigned long long)qual,
		  (unsigned)index, (unsigned long long)value);
	note("vmentry:   %s", why ? why : "no rule about the entry itself is broken: WRMSR of this "
			      "value would fault (reserved bits, or an MSR this CPU lacks) — SDM 27.4");
}

void entry_failure_report(struct vcpu *v, uint32_t exit_reason)
{
	unsigned basic = exit_reason & 0xffff;
	const char *name = exit_reason_name(basic);
	uint64_t qual = vmread(EXIT_QUALIFICATION);

	(void)v;
	notes_clear();
	note("vmentry: VM entry failed: exit reason %u (%s: %s) with bit 31 set", basic,
		  name ? name : "unassigned", name ? exit_reason_description(basic) : "not in the SDM's table");
	if (basic == EXIT_REASON_INVALID_GUEST_STATE) {
		explain_guest_state(qual);
		run_checker(entry_check_all, NOT_MODELLED);
	} else if (basic == EXIT_REASON_MSR_LOADING) {
		explain_msr_loading(qual);
		run_checker(entry_check_all, "the checker found no broken rule in the VMCS, as expected: "
			    "the CPU's checks passed before it loaded MSRs");
	} else if (basic == EXIT_REASON_MACHINE_CHECK) {
		note("vmentry: a machine-check event arrived during VM entry (SDM 27.8): the hardware, "
			  "not the VMCS, is the suspect; see IA32_MCG_STATUS and the MCi banks");
		run_checker(entry_check_all, "the checker found no broken rule in the VMCS either");
	} else {
		run_checker(entry_check_all, NOT_MODELLED);
	}
}

/* What to do about the errors that have one simple cause (SDM 31.4). */
static const char *vmfail_hint(uint64_t error)
{
	switch (error) {
	case VMX_ERROR_VMLAUNCH_NONCLEAR_VMCS:
		return "VMLAUNCH takes a VMCS in the clear state: VMCLEAR it first, or VMRESUME it";
	case VMX_ERROR_VMRESUME_NONLAUNCHED_VMCS:
		return "VMRESUME takes a VMCS that VMLAUNCH has launched";
	case VMX_ERROR_ENTRY_BLOCKED_BY_MOV_SS:
		return "the VM-entry instruction came straight after a MOV SS or POP SS";
	default:
		return NULL;
	}
}

void entry_failure_report_vmfail(struct vcpu *v, int status)
{
	uint64_t error = 0;

	(void)v;
	notes_clear();
	if (status == VMX_FAIL_INVALID) {
		note("vmentry: VM entry failed with VMfailInvalid: there is no current VMCS "
			  "(VMPTRLD missing or failed), so no error number either (SDM 31.2)");
		return;
	}
	if (status != VMX_FAIL_VALID || vmread_checked(VM_INSTRUCTION_ERROR, &error) != VMX_OK) {
		note("vmentry: VM entry failed with status %d and no readable VM-instruction error", status);
		return;
	}
	const char *name = vm_instruction_error_name((unsigned)error);
	const char *hint = vmfail_hint(error);

	note("vmentry: VM entry failed with VMfailValid: VM-instruction error %llu (%s): %s (SDM 31.4)",
		  (unsigned long long)error, name ? name : "unassigned",
		  name ? vm_instruction_error_text((unsigned)error) : "not a number the SDM assigns");
	if (hint)
		note("vmentry: %s", hint);
	if (error == VMX_ERROR_ENTRY_INVALID_CONTROL_FIELD)
		run_checker(entry_check_controls, NOT_MODELLED);
	else if (error == VMX_ERROR_ENTRY_INVALID_HOST_STATE)
		run_checker(entry_check_host_state, NOT_MODELLED);
}

int entry_failure_recheck(struct vcpu *v)
{
	(void)v;
	notes_clear();
	return run_checker(entry_check_all, NULL);
}

int entry_failure_check_now(void (*emit)(void *ctx, const char *line), void *ctx)
{
	struct vmcs_reader r = { .ctx = NULL, .read = vmcs_read };
	char line[ENTRY_MESSAGE_MAX + 16];

	address_widths(&r);
	int n = entry_check_all(&r, &vmx_caps, found, REPORT_MAX);
	for (int i = 0; i < n && i < REPORT_MAX; i++) {
		ksnprintf(line, sizeof(line), "  %s", found[i].message);
		emit(ctx, line);
	}
	if (n > REPORT_MAX) {
		ksnprintf(line, sizeof(line), "  ... and %d more", n - REPORT_MAX);
		emit(ctx, line);
	}
	return n;
}
