/* entry_check_impl.h — what the entry_check*.c files share: the state of one
 * run of the checker and the helpers every rule uses. Not for other modules:
 * they use hv/entry_check.h. Internal names carry the prefix ec_. */
#ifndef HV_ENTRY_CHECK_IMPL_H
#define HV_ENTRY_CHECK_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "entry_check.h"
#include "vmcs_table.h"

/* SDM Vol. 3C sections, as the messages cite them. */
#define SDM_EXEC        "27.2.1.1"	/* VM-execution control fields */
#define SDM_EXIT        "27.2.1.2"	/* VM-exit control fields */
#define SDM_ENTRY       "27.2.1.3"	/* VM-entry control fields */
#define SDM_HOST_CR     "27.2.2"	/* host control registers and MSRs */
#define SDM_HOST_SEG    "27.2.3"	/* host segment and descriptor-table registers */
#define SDM_HOST_SIZE   "27.2.4"	/* address-space size */
#define SDM_GUEST_CR    "27.3.1.1"	/* guest control registers, debug registers, MSRs */
#define SDM_GUEST_SEG   "27.3.1.2"	/* guest segment registers */
#define SDM_GUEST_DTR   "27.3.1.3"	/* guest GDTR and IDTR */
#define SDM_GUEST_RIP   "27.3.1.4"	/* guest RIP and RFLAGS */
#define SDM_GUEST_STATE "27.3.1.5"	/* guest non-register state */
#define SDM_GUEST_PDPTE "27.3.1.6"	/* guest PDPTEs */

#define BIT(n) (1ull << (n))

/* CR0, CR4, RFLAGS and IA32_EFER bits the rules name (SDM Vol. 3A ch. 2). */
#define CR0_PE BIT(0)
#define CR0_WP BIT(16)
#define CR0_PG BIT(31)
#define CR4_PAE BIT(5)
#define CR4_PCIDE BIT(17)
#define CR4_CET BIT(23)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_VM BIT(17)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
/* SCE, LME, LMA and NXE: everything else in IA32_EFER is reserved. */
#define EFER_RESERVED (~(BIT(0) | BIT(8) | BIT(10) | BIT(11)))
/* CS.L in a segment access-rights field: 64-bit code (SDM Vol. 3C Table 25-2). */
#define AR_L BIT(13)

/* VM-entry interruption-information field (SDM Vol. 3C §25.8.3). */
#define INTR_INFO_VECTOR(v) ((unsigned)(v) & 0xff)
#define INTR_INFO_TYPE(v) (((unsigned)(v) >> 8) & 7)
#define INTR_INFO_DELIVER_CODE BIT(11)
#define INTR_INFO_RESERVED 0x7ffff000ull	/* bits 30:12 */
#define INTR_INFO_VALID BIT(31)
enum intr_type {
	INTR_EXTERNAL = 0, INTR_RESERVED = 1, INTR_NMI = 2, INTR_HW_EXCEPTION = 3,
	INTR_SW_INTERRUPT = 4, INTR_PRIV_SW_EXCEPTION = 5, INTR_SW_EXCEPTION = 6, INTR_OTHER = 7
};

/* Guest activity state and interruptibility state (SDM Vol. 3C §25.4.2). */
enum activity { ACTIVITY_ACTIVE, ACTIVITY_HLT, ACTIVITY_SHUTDOWN, ACTIVITY_WAIT_SIPI };
#define BLOCK_STI BIT(0)
#define BLOCK_MOV_SS BIT(1)
#define BLOCK_SMI BIT(2)
#define BLOCK_NMI BIT(3)
#define BLOCK_ENCLAVE BIT(4)

/* One run of the checker. The controls are read once: nearly every rule
 * depends on them. proc2/proc3/exit2 read as 0 when not activated, as the
 * processor treats them. */
struct ec {
	const struct vmcs_reader *vmcs;
	const struct vmx_caps_raw *caps;
	struct entry_violation *out;
	int max, found;
	unsigned phys_bits, linear_bits;
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t proc3, exit2;
};

/* Reads the controls; entry_check.c's public functions start here. */
void ec_init(struct ec *c, const struct vmcs_reader *vmcs, const struct vmx_caps_raw *caps,
	     struct entry_violation *out, int max);
/* The field's value, 0 when the processor does not have the field. */
uint64_t ec_read(const struct ec *c, uint32_t field);

/* Records a violation: "FIELD (value): <rule> — SDM <section>". */
void ec_fail(struct ec *c, uint32_t field, uint64_t value, const char *section,
	     const char *rule, ...) __attribute__((format(printf, 5, 6)));

bool ec_canonical(const struct ec *c, uint64_t addr);
bool ec_phys_ok(const struct ec *c, uint64_t addr);	/* no bit at or above MAXPHYADDR */

/* Rules many fields share; each reads the field and reports in its own words. */
void ec_want_canonical(struct ec *c, uint32_t field, const char *section);
/* 4-KByte aligned and within the physical-address width. */
void ec_want_page_address(struct ec *c, uint32_t field, const char *section);
/* A 16-byte aligned MSR area of count entries, last byte within the width. */
void ec_want_msr_area(struct ec *c, uint32_t addr_field, uint32_t count_field, const char *section);
/* The VMX control group of a control field, checked against its capability MSR. */
void ec_want_control_group(struct ec *c, enum vmx_control_group group, uint32_t field,
			   uint64_t value, const char *section);
/* CR0 and CR4 against IA32_VMX_CR0/CR4_FIXED0/1; exempt: FIXED0 bits the rule lets be 0. */
void ec_want_cr_fixed(struct ec *c, uint32_t field, uint64_t value, unsigned cr, uint64_t exempt,
		      const char *section);
/* IA32_PAT: each of the eight entries a memory type that exists (0, 1, 4, 5, 6, 7). */
void ec_want_pat(struct ec *c, uint32_t field, const char *section);

/* The parts of the check, one per SDM section group. */
void ec_check_execution_controls(struct ec *c);	/* entry_check_controls.c */
void ec_check_exit_controls(struct ec *c);
void ec_check_entry_controls(struct ec *c);
void ec_check_host(struct ec *c);			/* entry_check_host.c */
void ec_check_guest_registers(struct ec *c);		/* entry_check_guest.c */
void ec_check_guest_segments(struct ec *c);		/* entry_check_segments.c */
void ec_check_guest_rest(struct ec *c);		/* entry_check_guest.c */

#endif
