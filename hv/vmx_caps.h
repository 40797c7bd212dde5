/* vmx_caps.h — what this processor's VMX can do: the capability MSRs read
 * once (vmx_caps.c, hardware), then decoded, adjusted against and reported
 * (vmx_caps_decode.c, pure, host-tested). Book ch. 2; SDM Vol. 3D, Appendix A. */
#ifndef HV_VMX_CAPS_H
#define HV_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx_msr.h"
#include "platform/log.h"

/* Which members of struct vmx_caps_raw hold a value read from the CPU. */
enum vmx_caps_have {
	VMX_HAVE_FEATURE_CONTROL = 1u << 0,
	VMX_HAVE_BASIC           = 1u << 1,
	VMX_HAVE_PINBASED        = 1u << 2,
	VMX_HAVE_PROCBASED       = 1u << 3,
	VMX_HAVE_PROCBASED2      = 1u << 4,
	VMX_HAVE_PROCBASED3      = 1u << 5,
	VMX_HAVE_EXIT            = 1u << 6,
	VMX_HAVE_EXIT2           = 1u << 7,
	VMX_HAVE_ENTRY           = 1u << 8,
	VMX_HAVE_TRUE_PINBASED   = 1u << 9,
	VMX_HAVE_TRUE_PROCBASED  = 1u << 10,
	VMX_HAVE_TRUE_EXIT       = 1u << 11,
	VMX_HAVE_TRUE_ENTRY      = 1u << 12,
	VMX_HAVE_MISC            = 1u << 13,
	VMX_HAVE_CR_FIXED        = 1u << 14,	/* all four CR0/CR4 fixed MSRs */
	VMX_HAVE_VMCS_ENUM       = 1u << 15,
	VMX_HAVE_EPT_VPID_CAP    = 1u << 16,
	VMX_HAVE_VMFUNC          = 1u << 17
};

struct vmx_caps_raw {
	uint32_t cpuid1_ecx;
	uint32_t have;			/* enum vmx_caps_have bits */
	uint64_t feature_control;
	uint64_t basic;
	uint64_t pinbased, procbased, procbased2, procbased3;
	uint64_t exit, exit2, entry;
	uint64_t true_pinbased, true_procbased, true_exit, true_entry;
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t vmcs_enum;
	uint64_t ept_vpid_cap;
	uint64_t vmfunc;
};

/* errno-style result (EOPNOTSUPP's number) for a control the CPU cannot set. */
enum { VMX_EOPNOTSUPP = 95 };

/* Chooses a 32-bit control value from a capability MSR (SDM Vol. 3D, A.3.1):
 * bits 31:0 say which bits must be 1 (allowed 0-settings), bits 63:32 which
 * may be 1 (allowed 1-settings). *out gets the must-be-1 bits plus those of
 * wanted | required that may be 1. Returns 0, or -VMX_EOPNOTSUPP when some
 * required bit may not be 1; those bits go to *missing_required (if not NULL). */
int vmx_adjust_controls(uint64_t cap_msr, uint32_t wanted, uint32_t required,
			uint32_t *out, uint32_t *missing_required);
/* The same for the 64-bit tertiary and secondary VM-exit controls, whose
 * MSRs hold only allowed 1-settings (SDM Vol. 3D, A.3.4 and A.4.2). */
int vmx_adjust_controls64(uint64_t allowed1, uint64_t wanted, uint64_t required,
			  uint64_t *out, uint64_t *missing_required);

/* The capability MSR that governs a control group: the TRUE one when
 * IA32_VMX_BASIC[55] says it exists (SDM Vol. 3D, A.2). False when the group
 * is absent (e.g. no secondary controls). *msr gets its number. */
bool vmx_caps_control_msr(const struct vmx_caps_raw *caps, enum vmx_control_group group,
			  uint32_t *msr, uint64_t *value);
/* "ENABLE_EPT" for (VMX_CTL_PROC2, 1); NULL for a reserved bit. */
const char *vmx_control_name(enum vmx_control_group group, unsigned bit);

/* Longest report line, with its NUL. */
#define VMX_CAPS_LINE_MAX 256

/* The decoded capabilities, one line per call of emit (no newline), in the
 * book's order: CPUID, IA32_FEATURE_CONTROL, IA32_VMX_BASIC, the control
 * groups, EPT/VPID, MISC, CR0/CR4 fixed bits, VMFUNC, VMCS_ENUM. */
void vmx_caps_report(const struct vmx_caps_raw *caps,
		     void (*emit)(void *ctx, const char *line), void *ctx);

/* Reads CPUID.1 and every capability MSR this CPU has (the others would
 * #GP). False when there is no VMX at all: then only cpuid1_ecx is set. */
bool vmx_caps_read(struct vmx_caps_raw *caps);
/* The report through log_msg, each line prefixed "vmx: ". */
void vmx_caps_log(const struct vmx_caps_raw *caps, enum log_level level);

#endif
