/* vmx.h — the VMX instructions, one wrapper each, and checked VMCS access.
 * Every VMX instruction reports through RFLAGS (SDM Vol. 3C §31.2
 * "Conventions"): CF=1 VMfailInvalid (no current VMCS), ZF=1 VMfailValid
 * (the reason is in VM_INSTRUCTION_ERROR). */
#ifndef HV_VMX_H
#define HV_VMX_H

#include <stdint.h>

#include "vmcs_table.h"

enum vmx_status { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };

#define VMX_STATUS_FROM_FLAGS(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_OK)

static inline enum vmx_status vmxon(uint64_t phys)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxon %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(phys) : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

static inline enum vmx_status vmclear(uint64_t phys)
{
	uint8_t cf, zf;
	__asm__ volatile("vmclear %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(phys) : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

static inline enum vmx_status vmptrld(uint64_t phys)
{
	uint8_t cf, zf;
	__asm__ volatile("vmptrld %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(phys) : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

static inline enum vmx_status vmread_checked(uint32_t field, uint64_t *value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmread %3, %0; setc %1; setz %2"
			 : "=rm"(*value), "=r"(cf), "=r"(zf) : "r"((uint64_t)field) : "cc");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

static inline enum vmx_status vmwrite_checked(uint32_t field, uint64_t value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmwrite %2, %3; setc %0; setz %1"
			 : "=r"(cf), "=r"(zf) : "rm"(value), "r"((uint64_t)field) : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

/* The exit path's reads: the fields exist on every VMX CPU, so the status
 * is not checked (a failure would mean no current VMCS: we are not here). */
static inline uint64_t vmread(uint32_t field)
{
	uint64_t v;
	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"((uint64_t)field) : "cc");
	return v;
}

/* Writes during setup: a failure is a bug, reported with its field name. */
void vmwrite(uint32_t field, uint64_t value);

/* The exit path's writes to fields every VMX CPU has (GUEST_RIP...): no
 * status check, like vmread(). */
static inline void vmwrite_hot(uint32_t field, uint64_t value)
{
	__asm__ volatile("vmwrite %0, %1" : : "r"(value), "r"((uint64_t)field) : "cc", "memory");
}

/* INVEPT/INVVPID descriptor types (SDM Vol. 3C §31.3 "INVEPT", "INVVPID"). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXTS 2

static inline enum vmx_status invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, zero; } desc = { eptp, 0 };
	uint8_t cf, zf;
	__asm__ volatile("invept %2, %3; setc %0; setz %1"
			 : "=r"(cf), "=r"(zf) : "m"(desc), "r"(type) : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

static inline enum vmx_status invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
	struct { uint64_t vpid, linear; } desc = { vpid, linear };
	uint8_t cf, zf;
	__asm__ volatile("invvpid %2, %3; setc %0; setz %1"
			 : "=r"(cf), "=r"(zf) : "m"(desc), "r"(type) : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

/* "VMfailValid: error 7 (VM entry with invalid control field(s))" into buf. */
void vmx_describe_failure(enum vmx_status st, char *buf, unsigned len);

#endif
