/* vmcs_setup.h — a VMCS ready for VMLAUNCH. */
#ifndef HV_VMCS_SETUP_H
#define HV_VMCS_SETUP_H

#include "guest.h"
#include "vmx_caps.h"
#include "vmx_on.h"

/* Allocates the VMCS and bitmaps, makes the VMCS current and fills it.
 * debug_uart: the base port to hide from the guest, or 0.
 * v->eptp must already be set (guest_memory_init). */
int vmcs_setup(struct vcpu *v, const struct vmx_caps_raw *caps, const struct guest_entry *e,
	       uint16_t debug_uart);

/* Multiprocessor (issue 11): a vCPU's VMCS and exit stack (on the BSP);
 * an AP's VMCS filled on the AP, sharing the BSP's bitmaps and EPT, in the
 * wait-for-SIPI state; the state a SIPI with this vector starts it in. */
int vmcs_alloc_vcpu(struct vcpu *v, const struct vmx_caps_raw *caps);
int vmcs_setup_ap(struct vcpu *v, const struct vcpu *bsp, const struct vmx_caps_raw *caps);
void vmcs_guest_sipi_state(struct vcpu *v, const struct vmx_caps_raw *caps, uint8_t vector);
/* Writes the vCPU's name into its exit stack; returns HOST_RSP. */
uint64_t vcpu_exit_stack_init(struct vcpu *v);

#endif
