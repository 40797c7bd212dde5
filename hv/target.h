/* target.h — the debug target API: the one door through which the gdb
 * stub and the Lua bindings see and change the guest (DESIGN.md).  Neither
 * front end executes a VMX instruction itself.  Valid while the guest is
 * stopped in root mode (on a VM exit); every call returns 0 or a negative
 * errno-style code and never faults the hypervisor. */
#ifndef HV_TARGET_H
#define HV_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ept.h"
#include "vcpu.h"

enum target_reg {
	/* 0-15: the GPRs by number (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15). */
	TREG_RIP = 16, TREG_RFLAGS,
	TREG_CS, TREG_SS, TREG_DS, TREG_ES, TREG_FS, TREG_GS,
	TREG_FS_BASE, TREG_GS_BASE,
	TREG_CR0, TREG_CR2, TREG_CR3, TREG_CR4, TREG_CR8, TREG_EFER,
	TREG_COUNT
};

const char *target_reg_name(enum target_reg r);
int target_reg_by_name(const char *name);	/* case-insensitive; -ENOENT */
int target_reg_read(struct vcpu *v, enum target_reg r, uint64_t *value);
int target_reg_write(struct vcpu *v, enum target_reg r, uint64_t value);

/* Guest-physical memory: guest RAM (and firmware tables for reads) only;
 * -EFAULT outside it, -EPERM for the hypervisor's region. */
int target_read_phys(uint64_t gpa, void *buf, size_t len);
int target_write_phys(uint64_t gpa, const void *buf, size_t len);
/* Guest-virtual memory through the guest's own paging (real, 32-bit, PAE,
 * 4- and 5-level), page by page. */
int target_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa);
int target_read_virt(struct vcpu *v, uint64_t gva, void *buf, size_t len);
int target_write_virt(struct vcpu *v, uint64_t gva, const void *buf, size_t len);

/* VMCS fields by name ("GUEST_RIP", any case) or number ("0x681e", "26654").
 * err gets a sentence for the user on failure (unknown name with close
 * matches, read-only field, unsupported on this CPU). */
int target_vmcs_read(const char *field, uint64_t *value, char *err, size_t errlen);
int target_vmcs_write(const char *field, uint64_t value, char *err, size_t errlen);

/* EPT: query a guest-physical address; change the rights of a range (never
 * over the hypervisor's region: -EPERM); TLBs are flushed (INVEPT). */
int target_ept_query(struct vcpu *v, uint64_t gpa, struct ept_mapping *out);
int target_ept_protect(struct vcpu *v, uint64_t gpa, uint64_t len, unsigned perms);

/* Events for the next VM entry (SDM Vol. 3C §27.6). */
int target_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error);

#endif
