/* inject.c — event injection through the VM-entry interruption-information
 * field (SDM Vol. 3C §25.8.3 format, §27.6 delivery; book ch. 6). */
#include "exits.h"
#include "vmx.h"

#define INTR_INFO_VALID (1u << 31)
#define INTR_INFO_DELIVER_ERROR (1u << 11)
#define INTR_TYPE_EXTERNAL (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)

void inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
	(void)v;
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | (vector & 0xff);
	/* In real mode no error code is pushed (SDM §27.2.1.3 checks this). */
	if (has_error && (vmread(GUEST_CR0) & 1)) {
		info |= INTR_INFO_DELIVER_ERROR;
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmwrite(VM_ENTRY_INTERRUPTION_INFO, info);
}
