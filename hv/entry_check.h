/* entry_check.h — "why did VM entry fail?": a software model of the checks
 * VMLAUNCH/VMRESUME make on the VMCS (book ch. 4; SDM Vol. 3C §27.2 "Checks
 * on VMX Controls and Host-State Area", §27.3.1 "Checks on the Guest State
 * Area"). Each broken rule comes back as the field, its value and one line
 * that names the rule and its SDM section, e.g.
 *   GUEST_CS_ACCESS_RIGHTS (0x0000c093): CS must be an accessed code segment
 *   (type 9, 11, 13 or 15) — SDM 27.3.1.2
 * Pure: the VMCS is read through a callback, so host tests use a fake one
 * and the hypervisor uses VMREAD (hv/entry_failure.c). */
#ifndef HV_ENTRY_CHECK_H
#define HV_ENTRY_CHECK_H

#include <stdint.h>

#include "vmx_caps.h"

/* How the checker sees the processor: the VMCS, plus the two widths CPUID
 * leaf 80000008H reports, which many rules measure addresses against. */
struct vmcs_reader {
	void *ctx;
	/* The value of a field by its full encoding; <0: field unsupported
	 * (the checker then treats the value as 0). */
	int (*read)(void *ctx, uint32_t encoding, uint64_t *value);
	unsigned phys_addr_bits;	/* MAXPHYADDR; 0: assume 52, the architectural limit */
	unsigned linear_addr_bits;	/* 0: assume 48 (4-level paging) */
};

#define ENTRY_MESSAGE_MAX 200

struct entry_violation {
	/* The field that breaks the rule (for a rule between fields, the one
	 * the rule is about). Every rule names one; 0 is VIRTUAL_PROCESSOR_ID. */
	uint32_t field;
	uint64_t value;		/* its value */
	char message[ENTRY_MESSAGE_MAX];
};

/* Each runs its checks in the SDM's order, fills out[0..max) with the first
 * violations found and returns how many it found in all (possibly > max).
 * The VMM that calls them runs in 64-bit mode: the rules for a processor
 * in IA-32e mode at VM entry apply. */
/* §27.2.1: VM-execution, VM-exit and VM-entry controls (VM-instruction error 7). */
int entry_check_controls(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			 struct entry_violation *out, int max);
/* §27.2.2-27.2.4: host-state area and address-space size (error 8). */
int entry_check_host_state(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			   struct entry_violation *out, int max);
/* §27.3.1: guest-state area (exit reason 33, "invalid guest state"). */
int entry_check_guest_state(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
			    struct entry_violation *out, int max);
/* All three, in the order the processor checks them. */
int entry_check_all(const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
		    struct entry_violation *out, int max);

/* The rule a VM-entry MSR-load entry breaks (SDM 27.4, exit reason 34),
 * judged from its first quadword (bits 31:0 the MSR, bits 63:32 reserved):
 * a sentence, or NULL when it breaks none the checker knows — then the
 * value would make WRMSR fault, which only the processor can tell. */
const char *entry_check_msr_load_entry(uint64_t index_quadword);

#endif
