/* vmcs_explain.h — VMCS values put in words for `monitor vmcs` and
 * `monitor exit`: control fields bit by bit (names from vmx_controls.def),
 * interruption information, exit reasons and qualifications, VM-instruction
 * errors.  Pure C over values already read: host-tested as is. */
#ifndef HV_VMCS_EXPLAIN_H
#define HV_VMCS_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

typedef void (*vmcs_emit_fn)(void *ctx, const char *line);

/* "valid, hardware exception, vector 14 (#PF), error code delivered" for an
 * interruption-information field (SDM Vol. 3C §25.8.3, §28.2.2, §28.2.4);
 * "not valid" when bit 31 is clear.  Returns the full length, like ksnprintf. */
int vmcs_describe_intr_info(uint32_t info, char *buf, size_t len);
/* "48 EPT_VIOLATION (EPT violation)", plus "; VM-entry failure" and the
 * other flag bits of VM_EXIT_REASON (SDM Vol. 3C §28.2.1). */
int vmcs_describe_exit_reason(uint32_t reason, char *buf, size_t len);
/* "12: VMREAD/VMWRITE from/to unsupported VMCS component"; "0: no error". */
int vmcs_describe_instruction_error(uint64_t error, char *buf, size_t len);
/* The exit qualification in words for the basic reason (SDM Vol. 3C
 * §28.2.1, Tables 28-1..28-7): CR access, I/O, EPT violation, exceptions
 * (#DB, #PF), INVLPG, task switch; "" (returns 0) for reasons it does not explain. */
int vmcs_describe_exit_qualification(unsigned basic_reason, uint32_t intr_info, uint64_t qual, char *buf,
				     size_t len);

/* VM_EXIT_INSTRUCTION_INFO in words for the reasons that fill it (SDM
 * Vol. 3C §28.2.5, Tables 28-8..28-13): the operand of descriptor-table,
 * VMX, INVEPT/INVVPID/INVPCID and XSAVES/XRSTORS exits, RDRAND/RDSEED's
 * destination, INS/OUTS's address size and segment; "" (returns 0) otherwise. */
int vmcs_describe_instruction_info(unsigned basic_reason, uint64_t qual, uint32_t info, char *buf, size_t len);

/* The lines after a field's raw value in the dump: each set control bit by
 * name (and any set bit the table does not name), the words for the
 * interruption-information fields, the exit reason, the VM-instruction
 * error.  basic_reason and intr_info are the exit's, for EXIT_QUALIFICATION.
 * Nothing for a field it does not explain. */
void vmcs_explain_field(uint32_t encoding, uint64_t value, unsigned basic_reason, uint32_t intr_info,
			vmcs_emit_fn emit, void *ctx);

#endif
