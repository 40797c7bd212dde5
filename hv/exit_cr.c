/* exit_cr.c — MOV to CR0/CR4 that touch bits the hypervisor owns (the
 * guest/host masks, SDM Vol. 3C §25.6.6).  The guest reads its own values
 * from the read shadows; the real registers keep the bits VMX requires
 * (CR0.NE, CR4.VMXE — SDM Vol. 3D §A.7-A.8). */
#include "exits.h"
#include "platform/log.h"
#include "vmx.h"
#include "vmx_caps.h"

extern struct vmx_caps_raw vmx_caps;

#define CR4_VMXE (1ull << 13)
#define CR4_PAE (1ull << 5)
#define CR0_PG (1ull << 31)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* Exit qualification for control-register accesses (SDM Table 28-3). */
#define CRQ_CR(q) ((q) & 15)
#define CRQ_TYPE(q) (((q) >> 4) & 3)	/* 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW */
#define CRQ_GPR(q) (((q) >> 8) & 15)
#define CRQ_LMSW_DATA(q) (((q) >> 16) & 0xffff)

/* A MOV to CR0 that exits is finished here, so what the CPU does when
 * paging turns on or off with EFER.LME set is ours to do: IA-32e mode
 * starts or ends (SDM Vol. 3A §10.8.5), EFER.LMA follows, and so does the
 * "IA-32e mode guest" entry control, which must equal it (SDM Vol. 3C
 * §27.3.1.1).  PG and PAE are not in the guest/host masks: the live values
 * are the guest's.  Linux's bzImage decompressor enters long mode this way: its
 * CR0 value sets NE, a bit the guest/host mask owns.  false: #GP. */
static bool switch_long_mode(uint64_t old_cr0, uint64_t new_cr0)
{
	if (!((old_cr0 ^ new_cr0) & CR0_PG))
		return true;
	uint64_t efer = vmread(GUEST_IA32_EFER);
	uint64_t entry = vmread(VM_ENTRY_CONTROLS);
	if (new_cr0 & CR0_PG) {
		if (!(efer & EFER_LME))
			return true;
		if (!(vmread(GUEST_CR4) & CR4_PAE))
			return false;
		efer |= EFER_LMA;
		entry |= VMX_ENTRY_IA32E_MODE_GUEST;
	} else {
		efer &= ~EFER_LMA;
		entry &= ~(uint64_t)VMX_ENTRY_IA32E_MODE_GUEST;
	}
	vmwrite(GUEST_IA32_EFER, efer);
	vmwrite(VM_ENTRY_CONTROLS, entry);
	return true;
}

static enum exit_action write_cr0(struct vcpu *v, uint64_t value)
{
	uint64_t must0 = ~vmx_caps.cr0_fixed1;
	if ((value & must0 & 0xffffffffull) || !switch_long_mode(vmread(GUEST_CR0), value)) {
		inject_gp(v);
		return EXIT_RESUME;
	}
	vmwrite(CR0_READ_SHADOW, value);
	vmwrite(GUEST_CR0, (value | (vmx_caps.cr0_fixed0 & v->cr0_mask)) & vmx_caps.cr0_fixed1);
	return EXIT_ADVANCE;
}

static enum exit_action write_cr4(struct vcpu *v, uint64_t value)
{
	if (value & CR4_VMXE) {
		/* The guest's CPUID says no VMX: the bit is reserved, so #GP. */
		log_info("guest: MOV to CR4 setting VMXE refused with #GP: VMX is hidden");
		inject_gp(v);
		return EXIT_RESUME;
	}
	if (value & ~vmx_caps.cr4_fixed1) {
		inject_gp(v);
		return EXIT_RESUME;
	}
	vmwrite(CR4_READ_SHADOW, value);
	vmwrite(GUEST_CR4, value | vmx_caps.cr4_fixed0);
	return EXIT_ADVANCE;
}

enum exit_action exit_cr_access(struct vcpu *v)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);
	unsigned cr = CRQ_CR(q);

	switch (CRQ_TYPE(q)) {
	case 0:
		if (cr == 0)
			return write_cr0(v, vcpu_gpr(v, CRQ_GPR(q)));
		if (cr == 4)
			return write_cr4(v, vcpu_gpr(v, CRQ_GPR(q)));
		break;
	case 3: {	/* LMSW: only CR0 bits 3:0, and it cannot clear PE */
		uint64_t shadow = vmread(CR0_READ_SHADOW);
		uint64_t bits = CRQ_LMSW_DATA(q) & 0xf;
		return write_cr0(v, (shadow & ~0xeull) | bits | (shadow & 1));
	}
	default:
		break;
	}
	return exit_stop(v, "unexpected control-register access, qualification 0x%llx", (unsigned long long)q);
}
