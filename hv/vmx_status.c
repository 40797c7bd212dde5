/* vmx_status.c — turning a failed VMX instruction into words: VMfailInvalid
 * (no current VMCS) or VMfailValid with the VM-instruction error number and
 * its meaning (SDM Vol. 3C §31.4). */
#include "platform/fmt.h"
#include "vmx.h"

void vmx_describe_failure(enum vmx_status st, char *buf, unsigned len)
{
	if (st == VMX_FAIL_INVALID) {
		ksnprintf(buf, len, "VMfailInvalid (no current VMCS)");
		return;
	}
	if (st != VMX_FAIL_VALID) {
		ksnprintf(buf, len, "success");
		return;
	}
	uint64_t err = 0;
	if (vmread_checked(VM_INSTRUCTION_ERROR, &err) != VMX_OK) {
		ksnprintf(buf, len, "VMfailValid (VM_INSTRUCTION_ERROR unreadable)");
		return;
	}
	const char *text = vm_instruction_error_text((unsigned)err);
	ksnprintf(buf, len, "VMfailValid: error %llu (%s)", (unsigned long long)err,
		  text ? text : "not an error number the SDM assigns");
}
