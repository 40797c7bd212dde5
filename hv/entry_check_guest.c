/* entry_check_guest.c — checks on the guest-state area other than the
 * segment registers (SDM Vol. 3C §27.3.1.1 and §27.3.1.3-27.3.1.6; book
 * ch. 4): control and debug registers, MSRs, GDTR/IDTR, RIP and RFLAGS,
 * activity and interruptibility state, pending debug exceptions, the VMCS
 * link pointer and the PDPTEs. A violation makes VM entry fail with exit
 * reason 33 (invalid guest state). */
#include "entry_check_impl.h"

/* Bits 5:2 and 63:16 of IA32_DEBUGCTL are reserved (SDM Vol. 4, MSR 1D9H). */
#define DEBUGCTL_RESERVED 0xffffffffffff003cull
#define DEBUGCTL_BTF BIT(1)
/* RFLAGS bits 63:22, 15, 5 and 3 are reserved; bit 1 reads as 1. */
#define RFLAGS_RESERVED 0xffffffffffc08028ull
#define RFLAGS_FIXED1 BIT(1)
/* Pending debug exceptions (SDM Vol. 3C Table 25-4). */
#define PENDING_RESERVED (0xff0ull | BIT(13) | BIT(15) | ~0x1ffffull)
#define PENDING_ENABLED_BP BIT(12)
#define PENDING_BS BIT(14)
#define PENDING_RTM BIT(16)

static bool ia32e_guest(const struct ec *c)
{
	return c->entry & VMX_ENTRY_IA32E_MODE_GUEST;
}

/* The event VM entry will inject, or -1 (the type) when none. */
static int injected_type(const struct ec *c, unsigned *vector)
{
	uint64_t info = ec_read(c, VM_ENTRY_INTERRUPTION_INFO);

	*vector = INTR_INFO_VECTOR(info);
	return (info & INTR_INFO_VALID) ? (int)INTR_INFO_TYPE(info) : -1;
}

static void check_guest_efer(struct ec *c, uint64_t cr0)
{
	uint64_t efer = ec_read(c, GUEST_IA32_EFER);
	bool want = ia32e_guest(c);

	if (efer & EFER_RESERVED)
		ec_fail(c, GUEST_IA32_EFER, efer, SDM_GUEST_CR,
			"reserved bits (0x%llx) must be 0: only SCE, LME, LMA and NXE exist",
			(unsigned long long)(efer & EFER_RESERVED));
	if (((efer & EFER_LMA) != 0) != want)
		ec_fail(c, GUEST_IA32_EFER, efer, SDM_GUEST_CR,
			"LMA (bit 10) must equal IA32E_MODE_GUEST (%d)", want);
	if ((cr0 & CR0_PG) && ((efer & EFER_LME) != 0) != want)
		ec_fail(c, GUEST_IA32_EFER, efer, SDM_GUEST_CR,
			"LME (bit 8) must equal IA32E_MODE_GUEST (%d) while CR0.PG is 1", want);
}

/* The MSR fields VM entry loads under the "load ..." VM-entry controls. */
static void check_guest_msrs(struct ec *c, uint64_t cr0)
{
	ec_want_canonical(c, GUEST_IA32_SYSENTER_ESP, SDM_GUEST_CR);
	ec_want_canonical(c, GUEST_IA32_SYSENTER_EIP, SDM_GUEST_CR);
	if (c->entry & VMX_ENTRY_LOAD_IA32_PAT)
		ec_want_pat(c, GUEST_IA32_PAT, SDM_GUEST_CR);
	if (c->entry & VMX_ENTRY_LOAD_IA32_EFER)
		check_guest_efer(c, cr0);
	if (c->entry & VMX_ENTRY_LOAD_IA32_BNDCFGS) {
		uint64_t bnd = ec_read(c, GUEST_IA32_BNDCFGS);
		if (bnd & 0xffc)
			ec_fail(c, GUEST_IA32_BNDCFGS, bnd, SDM_GUEST_CR, "bits 11:2 are reserved and must be 0");
		if (!ec_canonical(c, bnd & ~0xfffull))
			ec_fail(c, GUEST_IA32_BNDCFGS, bnd, SDM_GUEST_CR,
				"the bound-directory base (bits 63:12) must be canonical");
	}
	if (c->entry & VMX_ENTRY_LOAD_CET_STATE) {
		uint64_t s_cet = ec_read(c, GUEST_IA32_S_CET);
		ec_want_canonical(c, GUEST_IA32_S_CET, SDM_GUEST_CR);
		if (s_cet & 0x3c0)
			ec_fail(c, GUEST_IA32_S_CET, s_cet, SDM_GUEST_CR, "bits 9:6 are reserved and must be 0");
		ec_want_canonical(c, GUEST_IA32_INTERRUPT_SSP_TABLE_ADDR, SDM_GUEST_CR);
	}
	if (c->entry & VMX_ENTRY_LOAD_PKRS) {
		uint64_t pkrs = ec_read(c, GUEST_IA32_PKRS);
		if (pkrs >> 32)
			ec_fail(c, GUEST_IA32_PKRS, pkrs, SDM_GUEST_CR, "bits 63:32 are reserved and must be 0");
	}
}

/* §27.3.1.1. An unrestricted guest may leave CR0.PE and CR0.PG clear. */
void ec_check_guest_registers(struct ec *c)
{
	uint64_t cr0 = ec_read(c, GUEST_CR0), cr3 = ec_read(c, GUEST_CR3), cr4 = ec_read(c, GUEST_CR4);
	bool ug = c->proc2 & VMX_PROC2_UNRESTRICTED_GUEST;
	bool debug = c->entry & VMX_ENTRY_LOAD_DEBUG_CONTROLS;

	ec_want_cr_fixed(c, GUEST_CR0, cr0, 0, ug ? CR0_PE | CR0_PG : 0, SDM_GUEST_CR);
	if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
		ec_fail(c, GUEST_CR0, cr0, SDM_GUEST_CR, "PG (bit 31) needs PE (bit 0): paging needs protected mode");
	ec_want_cr_fixed(c, GUEST_CR4, cr4, 4, 0, SDM_GUEST_CR);
	if ((cr4 & CR4_CET) && !(cr0 & CR0_WP))
		ec_fail(c, GUEST_CR4, cr4, SDM_GUEST_CR, "CET (bit 23) needs GUEST_CR0.WP (bit 16) = 1");
	uint64_t debugctl = ec_read(c, GUEST_IA32_DEBUGCTL);
	if (debug && (debugctl & DEBUGCTL_RESERVED))
		ec_fail(c, GUEST_IA32_DEBUGCTL, debugctl, SDM_GUEST_CR,
			"reserved bits 5:2 and 63:16 must be 0 (LOAD_DEBUG_CONTROLS is 1)");
	if (ia32e_guest(c) && !(cr0 & CR0_PG))
		ec_fail(c, GUEST_CR0, cr0, SDM_GUEST_CR, "PG (bit 31) must be 1 for an IA-32e mode guest");
	if (ia32e_guest(c) && !(cr4 & CR4_PAE))
		ec_fail(c, GUEST_CR4, cr4, SDM_GUEST_CR, "PAE (bit 5) must be 1 for an IA-32e mode guest");
	if (!ia32e_guest(c) && (cr4 & CR4_PCIDE))
		ec_fail(c, GUEST_CR4, cr4, SDM_GUEST_CR, "PCIDE (bit 17) must be 0 unless IA32E_MODE_GUEST is 1");
	if (!ec_phys_ok(c, cr3))
		ec_fail(c, GUEST_CR3, cr3, SDM_GUEST_CR,
			"must not set bits beyond the %u-bit physical-address width", c->phys_bits);
	uint64_t dr7 = ec_read(c, GUEST_DR7);
	if (debug && (dr7 >> 32))
		ec_fail(c, GUEST_DR7, dr7, SDM_GUEST_CR, "bits 63:32 must be 0 (LOAD_DEBUG_CONTROLS is 1)");
	check_guest_msrs(c, cr0);
}

/* §27.3.1.3. */
static void check_descriptor_tables(struct ec *c)
{
	static const uint32_t bases[] = { GUEST_GDTR_BASE, GUEST_IDTR_BASE };
	static const uint32_t limits[] = { GUEST_GDTR_LIMIT, GUEST_IDTR_LIMIT };

	for (unsigned i = 0; i < 2; i++) {
		ec_want_canonical(c, bases[i], SDM_GUEST_DTR);
		uint64_t limit = ec_read(c, limits[i]);
		if (limit & 0xffff0000ull)
			ec_fail(c, limits[i], limit, SDM_GUEST_DTR, "bits 31:16 must be 0 (a limit is 16 bits)");
	}
}

/* §27.3.1.4. Outside 64-bit mode RIP is EIP; in it, only bits 63:N must agree. */
static void check_rip_rflags(struct ec *c)
{
	uint64_t rip = ec_read(c, GUEST_RIP), rflags = ec_read(c, GUEST_RFLAGS);
	bool cs_l = ec_read(c, GUEST_CS_ACCESS_RIGHTS) & AR_L;
	unsigned n = c->linear_bits, vector;

	if ((!ia32e_guest(c) || !cs_l) && (rip >> 32))
		ec_fail(c, GUEST_RIP, rip, SDM_GUEST_RIP,
			"bits 63:32 must be 0 outside 64-bit mode (IA32E_MODE_GUEST %d, CS.L %d)",
			ia32e_guest(c), cs_l);
	else if (ia32e_guest(c) && cs_l && n < 64 && (int64_t)rip >> n != (int64_t)rip >> 63)
		ec_fail(c, GUEST_RIP, rip, SDM_GUEST_RIP, "bits 63:%u must all be equal in 64-bit mode", n);
	if (rflags & RFLAGS_RESERVED)
		ec_fail(c, GUEST_RFLAGS, rflags, SDM_GUEST_RIP, "reserved bits 63:22, 15, 5 and 3 must be 0");
	if (!(rflags & RFLAGS_FIXED1))
		ec_fail(c, GUEST_RFLAGS, rflags, SDM_GUEST_RIP, "bit 1 is reserved and must be 1");
	if ((rflags & RFLAGS_VM) && (ia32e_guest(c) || !(ec_read(c, GUEST_CR0) & CR0_PE)))
		ec_fail(c, GUEST_RFLAGS, rflags, SDM_GUEST_RIP,
			"VM (bit 17) must be 0 for an IA-32e mode guest or while CR0.PE is 0");
	if (injected_type(c, &vector) == INTR_EXTERNAL && !(rflags & RFLAGS_IF))
		ec_fail(c, GUEST_RFLAGS, rflags, SDM_GUEST_RIP,
			"IF (bit 9) must be 1 to inject an external interrupt");
}

/* Which injected events each activity state lets through (SDM §27.3.1.5). */
static bool injection_allowed(uint64_t activity, int type, unsigned vector)
{
	switch (activity) {
	case ACTIVITY_HLT:
		return type == INTR_EXTERNAL || type == INTR_NMI || (type == INTR_OTHER && vector == 0) ||
		       (type == INTR_HW_EXCEPTION && (vector == 1 || vector == 18));
	case ACTIVITY_SHUTDOWN:
		return type == INTR_NMI || (type == INTR_HW_EXCEPTION && vector == 18);
	case ACTIVITY_WAIT_SIPI:
		return false;
	default:
		return true;
	}
}

static void check_activity(struct ec *c, uint64_t act, uint64_t intr)
{
	static const char *const names[] = { "active", "HLT", "shutdown", "wait-for-SIPI" };
	uint64_t ss_ar = ec_read(c, GUEST_SS_ACCESS_RIGHTS);
	unsigned vector;
	int type = injected_type(c, &vector);

	if (act > ACTIVITY_WAIT_SIPI) {
		ec_fail(c, GUEST_ACTIVITY_STATE, act, SDM_GUEST_STATE,
			"must be 0 (active), 1 (HLT), 2 (shutdown) or 3 (wait-for-SIPI)");
		return;
	}
	if (act != ACTIVITY_ACTIVE && (c->caps->have & VMX_HAVE_MISC) && !(c->caps->misc & BIT(5 + act)))
		ec_fail(c, GUEST_ACTIVITY_STATE, act, SDM_GUEST_STATE,
			"%s is not an activity state this processor supports (IA32_VMX_MISC bit %u)",
			names[act], (unsigned)(5 + act));
	if (act == ACTIVITY_HLT && ((ss_ar >> 5) & 3))
		ec_fail(c, GUEST_ACTIVITY_STATE, act, SDM_GUEST_STATE, "HLT needs SS.DPL = 0 (it is %u)",
			(unsigned)((ss_ar >> 5) & 3));
	if (act != ACTIVITY_ACTIVE && (intr & (BLOCK_STI | BLOCK_MOV_SS)))
		ec_fail(c, GUEST_ACTIVITY_STATE, act, SDM_GUEST_STATE,
			"must be active while blocking by STI or MOV SS is in effect");
	if (type >= 0 && !injection_allowed(act, type, vector))
		ec_fail(c, GUEST_ACTIVITY_STATE, act, SDM_GUEST_STATE,
			"a %s processor cannot take the injected event (type %d, vector %u)", names[act], type, vector);
	if (act == ACTIVITY_WAIT_SIPI && (c->entry & VMX_ENTRY_ENTRY_TO_SMM))
		ec_fail(c, GUEST_ACTIVITY_STATE, act, SDM_GUEST_STATE, "wait-for-SIPI is not allowed with ENTRY_TO_SMM");
}

static void check_interruptibility(struct ec *c, uint64_t intr, uint64_t rflags)
{
	unsigned vector;
	int type = injected_type(c, &vector);
	const uint32_t f = GUEST_INTERRUPTIBILITY_STATE;

	if (intr & ~0x1full)
		ec_fail(c, f, intr, SDM_GUEST_STATE, "bits 31:5 are reserved and must be 0");
	if ((intr & BLOCK_STI) && (intr & BLOCK_MOV_SS))
		ec_fail(c, f, intr, SDM_GUEST_STATE, "cannot show blocking by both STI (bit 0) and MOV SS (bit 1)");
	if ((intr & BLOCK_STI) && !(rflags & RFLAGS_IF))
		ec_fail(c, f, intr, SDM_GUEST_STATE, "blocking by STI (bit 0) needs RFLAGS.IF = 1");
	if (type == INTR_EXTERNAL && (intr & (BLOCK_STI | BLOCK_MOV_SS)))
		ec_fail(c, f, intr, SDM_GUEST_STATE,
			"blocking by STI and MOV SS (bits 1:0) must be 0 to inject an external interrupt");
	if (type == INTR_NMI && (intr & BLOCK_MOV_SS))
		ec_fail(c, f, intr, SDM_GUEST_STATE, "blocking by MOV SS (bit 1) must be 0 to inject an NMI");
	if (intr & BLOCK_SMI)
		ec_fail(c, f, intr, SDM_GUEST_STATE, "blocking by SMI (bit 2) must be 0 outside SMM");
	if (type == INTR_NMI && (intr & BLOCK_STI))
		ec_fail(c, f, intr, SDM_GUEST_STATE,
			"blocking by STI (bit 0) with an NMI injected: some processors refuse it (exit qualification 3)");
	if (type == INTR_NMI && (c->pin & VMX_PIN_VIRTUAL_NMIS) && (intr & BLOCK_NMI))
		ec_fail(c, f, intr, SDM_GUEST_STATE,
			"blocking by NMI (bit 3) must be 0 to inject an NMI while VIRTUAL_NMIS is 1");
	if ((intr & BLOCK_ENCLAVE) && (intr & BLOCK_MOV_SS))
		ec_fail(c, f, intr, SDM_GUEST_STATE, "enclave interruption (bit 4) excludes blocking by MOV SS (bit 1)");
}

/* BS says a single-step trap is pending; it must match TF and BTF whenever
 * the trap has been held back (by STI/MOV SS blocking or HLT). */
static void check_pending_debug(struct ec *c, uint64_t act, uint64_t intr, uint64_t rflags)
{
	uint64_t pde = ec_read(c, GUEST_PENDING_DEBUG_EXCEPTIONS);
	const uint32_t f = GUEST_PENDING_DEBUG_EXCEPTIONS;

	if (pde & PENDING_RESERVED)
		ec_fail(c, f, pde, SDM_GUEST_STATE, "reserved bits 11:4, 13, 15 and 63:17 must be 0");
	if ((intr & (BLOCK_STI | BLOCK_MOV_SS)) || act == ACTIVITY_HLT) {
		bool single_step = (rflags & RFLAGS_TF) && !(ec_read(c, GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
		if (single_step && !(pde & PENDING_BS))
			ec_fail(c, f, pde, SDM_GUEST_STATE,
				"BS (bit 14) must be 1: RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0 while blocked or halted");
		if (!single_step && (pde & PENDING_BS))
			ec_fail(c, f, pde, SDM_GUEST_STATE,
				"BS (bit 14) must be 0 unless RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0 (blocked or halted)");
	}
	if (!(pde & PENDING_RTM))
		return;
	if ((pde & 0xefffull) || !(pde & PENDING_ENABLED_BP))
		ec_fail(c, f, pde, SDM_GUEST_STATE,
			"with RTM (bit 16) set, bit 12 must be 1 and bits 11:0 and 15:13 must be 0");
	if (intr & BLOCK_MOV_SS)
		ec_fail(c, f, pde, SDM_GUEST_STATE, "RTM (bit 16) excludes blocking by MOV SS");
}

/* §27.3.1.5. */
static void check_non_register_state(struct ec *c)
{
	uint64_t act = ec_read(c, GUEST_ACTIVITY_STATE), intr = ec_read(c, GUEST_INTERRUPTIBILITY_STATE);
	uint64_t rflags = ec_read(c, GUEST_RFLAGS), link = ec_read(c, VMCS_LINK_POINTER);

	check_activity(c, act, intr);
	check_interruptibility(c, intr, rflags);
	check_pending_debug(c, act, intr, rflags);
	if (link == ~0ull)
		return;
	if (link & 0xfff)
		ec_fail(c, VMCS_LINK_POINTER, link, SDM_GUEST_STATE,
			"must be FFFFFFFF_FFFFFFFFH or 4-KByte aligned (exit qualification 4)");
	if (!ec_phys_ok(c, link))
		ec_fail(c, VMCS_LINK_POINTER, link, SDM_GUEST_STATE,
			"must not set bits beyond the %u-bit physical-address width (exit qualification 4)",
			c->phys_bits);
}

/* §27.3.1.6. Only with EPT do the PDPTEs come from the VMCS; without it they
 * come from guest memory, which the checker cannot see. */
static void check_pdptes(struct ec *c)
{
	static const uint32_t pdptes[] = { GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2, GUEST_PDPTE3 };
	bool pae_paging = (ec_read(c, GUEST_CR0) & CR0_PG) && (ec_read(c, GUEST_CR4) & CR4_PAE) &&
			  !ia32e_guest(c);

	if (!pae_paging || !(c->proc2 & VMX_PROC2_ENABLE_EPT))
		return;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t e = ec_read(c, pdptes[i]);
		if (!(e & 1))
			continue;
		if (e & 0x1e6)
			ec_fail(c, pdptes[i], e, SDM_GUEST_PDPTE,
				"a present PDPTE must have reserved bits 2:1 and 8:5 clear (exit qualification 2)");
		if (!ec_phys_ok(c, e))
			ec_fail(c, pdptes[i], e, SDM_GUEST_PDPTE,
				"a present PDPTE must not set bits beyond the %u-bit physical-address width",
				c->phys_bits);
	}
}

/* §27.3.1.3-27.3.1.6, after the segment registers. */
void ec_check_guest_rest(struct ec *c)
{
	check_descriptor_tables(c);
	check_rip_rflags(c);
	check_non_register_state(c);
	check_pdptes(c);
}
