/* vmx_on.h — VMXON and the regions VMX needs. */
#ifndef HV_VMX_ON_H
#define HV_VMX_ON_H

#include <stdint.h>

#include "vmx_caps.h"

/* IA32_FEATURE_CONTROL, CR0/CR4 fixed bits, VMXON.  0 or -EPERM/-ENOMEM/-EIO. */
int vmx_enable(const struct vmx_caps_raw *caps, uint64_t *vmxon_phys);
/* The same on an AP, for itself, without logging (the BSP reports). */
int vmx_enable_ap(const struct vmx_caps_raw *caps, uint64_t *vmxon_phys);
/* A zeroed 4 KiB page starting with the revision identifier (VMXON region
 * or VMCS, SDM Vol. 3C §25.2); 0 when memory is exhausted. */
uint64_t vmx_alloc_region(uint32_t revision);

#endif
