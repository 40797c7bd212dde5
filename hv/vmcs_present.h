/* vmcs_present.h — which VMCS fields this CPU has, from its capability MSRs
 * alone, so a dump never VMREADs a missing field: that read fails with
 * VMfailValid and overwrites VM_INSTRUCTION_ERROR with 12 (SDM Vol. 3C
 * §31.4), destroying the very error the user came to read.  Pure C. */
#ifndef HV_VMCS_PRESENT_H
#define HV_VMCS_PRESENT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx_caps.h"

/* True when the control (a VMX_<group>_<NAME> bit of group) may be 1 on this
 * CPU: its group exists and the allowed 1-settings have the bit (SDM Vol.
 * 3D, A.3-A.5). */
bool vmx_control_available(const struct vmx_caps_raw *caps, enum vmx_control_group group, uint64_t bit);

/* False for a field whose enabling control (or other feature) the CPU
 * lacks, or whose index is beyond IA32_VMX_VMCS_ENUM's highest (SDM Vol. 3D,
 * A.9, Appendix B: each field exists only "on processors that support the
 * 1-setting of" its control). encoding: a full encoding. */
bool vmcs_field_present(const struct vmx_caps_raw *caps, uint32_t encoding);

#endif
