/* guest_mode.h — the guest's operating mode in words, for `monitor info`
 * (`vmx info`): "real mode, paging off", "protected mode, paging off",
 * "protected mode, PAE paging", "64-bit mode, 4-level paging", ... */
#ifndef HV_GUEST_MODE_H
#define HV_GUEST_MODE_H

#include <stddef.h>
#include <stdint.h>

#include "guest_walk.h"

/* p: the guest's CR0/CR4/EFER; cs_ar: its CS access rights (VMCS format,
 * L at bit 13); rflags for VM (virtual-8086).  Writes into buf (NUL-terminated). */
void guest_mode_describe(const struct guest_paging *p, uint32_t cs_ar, uint64_t rflags,
			 char *buf, size_t len);

#endif
