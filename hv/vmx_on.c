/* vmx_on.c — entering VMX operation (book ch. 2; SDM Vol. 3C §24.7-24.8):
 * IA32_FEATURE_CONTROL must allow VMXON, CR0 and CR4 must respect the fixed
 * bits the capability MSRs report, then VMXON on a region tagged with the
 * VMCS revision identifier. */
#include "vmx_on.h"

#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "vmx.h"
#include "vmx_msr.h"

#define CR4_VMXE (1ull << 13)

/* 0, or -EPERM when the firmware locked VMX off; *fc: the value found.
 * Each CPU has its own IA32_FEATURE_CONTROL. */
static int feature_control_allow_vmx(uint64_t *fc)
{
	*fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (*fc & FEATURE_CONTROL_LOCKED)
		return (*fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? 0 : -EPERM;
	/* Unlocked (firmware left it to us): enable VMX outside SMX and lock. */
	wrmsr(MSR_IA32_FEATURE_CONTROL, *fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED);
	return 0;
}

/* SDM Vol. 3D §A.7-A.8: bits set in FIXED0 must be 1, bits clear in FIXED1 must be 0. */
static uint64_t apply_fixed(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (value | fixed0) & fixed1;
}

uint64_t vmx_alloc_region(uint32_t revision)
{
	uint64_t phys = pmm_alloc(&phys_pages);
	if (!phys)
		return 0;
	memset((void *)(uintptr_t)phys, 0, PAGE_SIZE);
	*(uint32_t *)(uintptr_t)phys = revision;	/* bit 31 clear: not a shadow VMCS */
	return phys;
}

/* CR0/CR4 fixed bits with CR4.VMXE, a VMXON region, VMXON: what every CPU
 * does for itself (SDM Vol. 3C §24.7).  Silent: 0, -ENOMEM, or -EIO with *st. */
static int enter_root(const struct vmx_caps_raw *caps, uint64_t *vmxon_phys, enum vmx_status *st)
{
	write_cr0(apply_fixed(read_cr0(), caps->cr0_fixed0, caps->cr0_fixed1));
	write_cr4(apply_fixed(read_cr4() | CR4_VMXE, caps->cr4_fixed0, caps->cr4_fixed1));

	*vmxon_phys = vmx_alloc_region((uint32_t)(caps->basic & VMX_BASIC_REVISION_MASK));
	if (!*vmxon_phys)
		return -ENOMEM;
	*st = vmxon(*vmxon_phys);
	return *st == VMX_OK ? 0 : -EIO;
}

int vmx_enable_ap(const struct vmx_caps_raw *caps, uint64_t *vmxon_phys)
{
	uint64_t fc;
	enum vmx_status st;
	int rc = feature_control_allow_vmx(&fc);
	return rc ? rc : enter_root(caps, vmxon_phys, &st);
}

int vmx_enable(const struct vmx_caps_raw *caps, uint64_t *vmxon_phys)
{
	uint64_t fc;
	enum vmx_status st = VMX_OK;
	uint32_t revision = (uint32_t)(caps->basic & VMX_BASIC_REVISION_MASK);
	int rc = feature_control_allow_vmx(&fc);
	if (rc) {
		log_error("vmx: IA32_FEATURE_CONTROL=0x%llx is locked with VMX outside SMX disabled: "
			  "enable VT-x in the firmware setup", (unsigned long long)fc);
		return rc;
	}
	if (!(fc & FEATURE_CONTROL_LOCKED))
		log_info("vmx: IA32_FEATURE_CONTROL was unlocked; set VMX outside SMX and locked it");

	rc = enter_root(caps, vmxon_phys, &st);
	if (rc == -ENOMEM) {
		log_error("vmx: no page for the VMXON region");
		return rc;
	}
	if (rc) {
		log_error("vmx: VMXON failed (%s) on region 0x%llx",
			  st == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid",
			  (unsigned long long)*vmxon_phys);
		return -EIO;
	}
	log_info("vmx: VMXON done, region at 0x%llx, revision 0x%x", (unsigned long long)*vmxon_phys, revision);
	return 0;
}
