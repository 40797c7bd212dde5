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

#endif
