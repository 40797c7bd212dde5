/* vmcs_table.h — the VMCS field table (hv/vmcs_fields.def), basic exit
 * reasons (hv/exit_reasons.def) and VM-instruction errors
 * (hv/vm_instruction_errors.def): names, encodings and look-ups.
 * Pure C: no VMX instruction here, so the host unit tests use it as is. */
#ifndef HV_VMCS_TABLE_H
#define HV_VMCS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A VMCS field encoding (SDM Vol. 3C, 25.11.2; book ch. 3):
 *   bit 0       access type: 0 full, 1 high (bits 63:32 of a 64-bit field)
 *   bits 9:1    index
 *   bits 11:10  type: 0 control, 1 VM-exit information, 2 guest state, 3 host state
 *   bit 12      reserved, 0
 *   bits 14:13  width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 *   bits 31:15  reserved, 0 */
enum vmcs_width {
	VMCS_WIDTH_16 = 0,
	VMCS_WIDTH_64 = 1,
	VMCS_WIDTH_32 = 2,
	VMCS_WIDTH_NATURAL = 3
};

enum vmcs_group {
	VMCS_GROUP_CONTROL = 0,
	VMCS_GROUP_EXIT_INFO = 1,	/* read-only unless IA32_VMX_MISC[29] */
	VMCS_GROUP_GUEST = 2,
	VMCS_GROUP_HOST = 3
};

#define VMCS_ENC_ACCESS_HIGH 1u
#define VMCS_ENC_INDEX_SHIFT 1
#define VMCS_ENC_INDEX_MASK  0x1ffu
#define VMCS_ENC_TYPE_SHIFT  10
#define VMCS_ENC_WIDTH_SHIFT 13
#define VMCS_ENC_RESERVED    0xffff9000u	/* bit 12 and bits 31:15 */

/* VMCS_ENC(NATURAL, GUEST, 15) is GUEST_RIP, 0x681e. */
#define VMCS_ENC(width, group, index) \
	(((uint32_t)VMCS_WIDTH_##width << VMCS_ENC_WIDTH_SHIFT) | \
	 ((uint32_t)VMCS_GROUP_##group << VMCS_ENC_TYPE_SHIFT) | \
	 ((uint32_t)(index) << VMCS_ENC_INDEX_SHIFT))

static inline enum vmcs_width vmcs_enc_width(uint32_t enc)
{
	return (enum vmcs_width)((enc >> VMCS_ENC_WIDTH_SHIFT) & 3);
}

static inline enum vmcs_group vmcs_enc_group(uint32_t enc)
{
	return (enum vmcs_group)((enc >> VMCS_ENC_TYPE_SHIFT) & 3);
}

static inline unsigned vmcs_enc_index(uint32_t enc)
{
	return (enc >> VMCS_ENC_INDEX_SHIFT) & VMCS_ENC_INDEX_MASK;
}

static inline bool vmcs_enc_is_high(uint32_t enc)
{
	return enc & VMCS_ENC_ACCESS_HIGH;
}

/* Only 64-bit fields have a high half of their own; VMREAD/VMWRITE of any
 * other odd encoding fails with error 12 (SDM Vol. 3C, 25.11.2). */
static inline bool vmcs_enc_well_formed(uint32_t enc)
{
	if (enc & VMCS_ENC_RESERVED)
		return false;
	return !vmcs_enc_is_high(enc) || vmcs_enc_width(enc) == VMCS_WIDTH_64;
}

/* The encoding of bits 63:32 of a 64-bit field, for 32-bit accesses. */
static inline uint32_t vmcs_enc_high(uint32_t full)
{
	return full | VMCS_ENC_ACCESS_HIGH;
}

/* What an access through encoding enc reads from a field whose full
 * value is full: a high access (bit 0 = 1, 64-bit fields only) reads bits
 * 63:32 into bits 31:0 (SDM Vol. 3C, 25.11.2). */
static inline uint64_t vmcs_access_read(uint32_t enc, uint64_t full)
{
	return vmcs_enc_is_high(enc) ? full >> 32 : full;
}

/* The field's new full value after writing value through encoding enc: a
 * high access replaces bits 63:32 and keeps bits 31:0.  false when value
 * does not fit what the access reaches (32 bits for a high access, the
 * field's width otherwise), which VMWRITE would cut silently. */
bool vmcs_access_write(uint32_t enc, uint64_t full, uint64_t value, uint64_t *new_full);

/* GUEST_RIP, EPT_POINTER, ...: each field's full encoding. */
enum vmcs_field {
#define VMCS_FIELD(name, encoding, width, group) name = (encoding),
#include "vmcs_fields.def"
#undef VMCS_FIELD
};

struct vmcs_field_info {
	const char *name;
	uint32_t encoding;	/* full access */
	enum vmcs_width width;
	enum vmcs_group group;
};

size_t vmcs_field_count(void);
/* Table order (the SDM's); NULL past the end. */
const struct vmcs_field_info *vmcs_field_at(size_t i);
/* Case-insensitive; NULL when no field has that name. */
const struct vmcs_field_info *vmcs_field_by_name(const char *name);
/* The field a full or (for 64-bit fields) high encoding reaches; NULL if none. */
const struct vmcs_field_info *vmcs_field_by_encoding(uint32_t encoding);
/* Up to max (at most VMCS_SUGGEST_MAX) field names close to an unknown name,
 * best first: edit distance up to 2 (1 for short names), then names that
 * start with it, then names that contain it. Returns how many. */
#define VMCS_SUGGEST_MAX 8
size_t vmcs_field_suggest(const char *name, const struct vmcs_field_info **out, size_t max);
/* "unknown VMCS field "GEST_RIP"; did you mean GUEST_RIP?" into buf, like
 * snprintf: returns the length the whole message needs. */
int vmcs_field_unknown_message(char *buf, size_t n, const char *name);

unsigned vmcs_width_bits(enum vmcs_width width);	/* natural width is 64 on x86-64 */
const char *vmcs_group_name(enum vmcs_group group);	/* "control", "exit-info", "guest", "host" */

/* EXIT_REASON_CPUID, EXIT_REASON_EPT_VIOLATION, ... (SDM Vol. 3D, Appendix C). */
enum exit_reason {
#define EXIT_REASON(name, number, description) EXIT_REASON_##name = (number),
#include "exit_reasons.def"
#undef EXIT_REASON
};

/* One past the highest basic exit reason: a union is as large as its
 * largest member, so this is the maximum of (number + 1) over the table. */
union exit_reason_span {
#define EXIT_REASON(name, number, description) char name[(number) + 1];
#include "exit_reasons.def"
#undef EXIT_REASON
};
#define EXIT_REASON_LIMIT (sizeof(union exit_reason_span))

/* By basic exit reason (bits 15:0 of VM_EXIT_REASON); NULL when unassigned. */
const char *exit_reason_name(unsigned basic);		/* "CPUID" */
const char *exit_reason_description(unsigned basic);
/* "CPUID", "cpuid" or "EXIT_REASON_CPUID"; the number, or -1 when unknown. */
int exit_reason_by_name(const char *name);
size_t exit_reason_suggest(const char *name, unsigned *out, size_t max);
int exit_reason_unknown_message(char *buf, size_t n, const char *name);

/* VMX_ERROR_ENTRY_INVALID_CONTROL_FIELD, ... (SDM Vol. 3C, 31.4). */
enum vm_instruction_error {
#define VM_INSTRUCTION_ERROR(number, name, meaning) VMX_ERROR_##name = (number),
#include "vm_instruction_errors.def"
#undef VM_INSTRUCTION_ERROR
};

/* NULL for numbers the SDM does not assign (0 means "no error"). */
const char *vm_instruction_error_name(unsigned number);
const char *vm_instruction_error_text(unsigned number);

#endif
