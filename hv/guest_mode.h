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

/* The code segment's default operand/address size in bits (16, 32 or 64):
 * 64 in IA-32e mode with CS.L, 16 in virtual-8086 mode, else CS.D (SDM
 * Vol. 3A §5.2.1; real mode too: unrestricted guest keeps CS.D as loaded). */
unsigned guest_code_bits(uint64_t efer, uint32_t cs_ar, uint64_t rflags);

#endif
