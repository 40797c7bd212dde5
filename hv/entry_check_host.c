/* entry_check_host.c — checks on the host-state area (SDM Vol. 3C
 * §27.2.2-27.2.4; book ch. 4): what the processor will load on the next
 * VM exit must be a state it can run in. A violation fails VMLAUNCH/VMRESUME
 * with VM-instruction error 8. */
#include "entry_check_impl.h"

static bool host_64bit(const struct ec *c)
{
	return c->exit & VMX_EXIT_HOST_ADDRESS_SPACE_SIZE;
}

/* IA32_EFER as the next VM exit loads it: LMA and LME follow the host's
 * address-space size. */
static void check_host_efer(struct ec *c)
{
	uint64_t efer = ec_read(c, HOST_IA32_EFER);
	bool want = host_64bit(c);

	if (efer & EFER_RESERVED)
		ec_fail(c, HOST_IA32_EFER, efer, SDM_HOST_CR,
			"reserved bits (0x%llx) must be 0: only SCE, LME, LMA and NXE exist",
			(unsigned long long)(efer & EFER_RESERVED));
	if (((efer & EFER_LMA) != 0) != want)
		ec_fail(c, HOST_IA32_EFER, efer, SDM_HOST_CR,
			"LMA (bit 10) must equal HOST_ADDRESS_SPACE_SIZE (%d)", want);
	if (((efer & EFER_LME) != 0) != want)
		ec_fail(c, HOST_IA32_EFER, efer, SDM_HOST_CR,
			"LME (bit 8) must equal HOST_ADDRESS_SPACE_SIZE (%d)", want);
}

/* CET state the next VM exit loads: addresses canonical, S_CET bits 9:6 reserved. */
static void check_host_cet(struct ec *c)
{
	uint64_t s_cet = ec_read(c, HOST_IA32_S_CET);

	ec_want_canonical(c, HOST_IA32_S_CET, SDM_HOST_CR);
	if (s_cet & 0x3c0)
		ec_fail(c, HOST_IA32_S_CET, s_cet, SDM_HOST_CR, "bits 9:6 are reserved and must be 0");
	ec_want_canonical(c, HOST_IA32_INTERRUPT_SSP_TABLE_ADDR, SDM_HOST_CR);
}

/* §27.2.2 "Checks on Host Control Registers, MSRs, and SSP". */
static void check_host_registers(struct ec *c)
{
	uint64_t cr0 = ec_read(c, HOST_CR0), cr3 = ec_read(c, HOST_CR3), cr4 = ec_read(c, HOST_CR4);

	ec_want_cr_fixed(c, HOST_CR0, cr0, 0, 0, SDM_HOST_CR);
	ec_want_cr_fixed(c, HOST_CR4, cr4, 4, 0, SDM_HOST_CR);
	if (!ec_phys_ok(c, cr3))
		ec_fail(c, HOST_CR3, cr3, SDM_HOST_CR,
			"must not set bits beyond the %u-bit physical-address width", c->phys_bits);
	if ((cr4 & CR4_CET) && !(cr0 & CR0_WP))
		ec_fail(c, HOST_CR4, cr4, SDM_HOST_CR, "CET (bit 23) needs HOST_CR0.WP (bit 16) = 1");
	if (c->exit & VMX_EXIT_LOAD_CET_STATE)
		check_host_cet(c);
	ec_want_canonical(c, HOST_IA32_SYSENTER_ESP, SDM_HOST_CR);
	ec_want_canonical(c, HOST_IA32_SYSENTER_EIP, SDM_HOST_CR);
	if (c->exit & VMX_EXIT_LOAD_IA32_PAT)
		ec_want_pat(c, HOST_IA32_PAT, SDM_HOST_CR);
	if (c->exit & VMX_EXIT_LOAD_IA32_EFER)
		check_host_efer(c);
	if (c->exit & VMX_EXIT_LOAD_PKRS) {
		uint64_t pkrs = ec_read(c, HOST_IA32_PKRS);
		if (pkrs >> 32)
			ec_fail(c, HOST_IA32_PKRS, pkrs, SDM_HOST_CR, "bits 63:32 are reserved and must be 0");
	}
}

static const uint32_t host_selectors[] = {
	HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR,
	HOST_FS_SELECTOR, HOST_GS_SELECTOR, HOST_TR_SELECTOR,
};

static const uint32_t host_bases[] = {
	HOST_FS_BASE, HOST_GS_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_TR_BASE,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* §27.2.3: a VM exit loads selectors without consulting the GDT, so they
 * must point into it at RPL 0. */
static void check_host_segments(struct ec *c)
{
	for (unsigned i = 0; i < COUNT(host_selectors); i++) {
		uint64_t sel = ec_read(c, host_selectors[i]);
		if (sel & 7)
			ec_fail(c, host_selectors[i], sel, SDM_HOST_SEG,
				"RPL (bits 1:0) and TI (bit 2) must be 0");
	}
	if (ec_read(c, HOST_CS_SELECTOR) == 0)
		ec_fail(c, HOST_CS_SELECTOR, 0, SDM_HOST_SEG, "must not be the null selector");
	if (ec_read(c, HOST_TR_SELECTOR) == 0)
		ec_fail(c, HOST_TR_SELECTOR, 0, SDM_HOST_SEG, "must not be the null selector");
	if (ec_read(c, HOST_SS_SELECTOR) == 0 && !host_64bit(c))
		ec_fail(c, HOST_SS_SELECTOR, 0, SDM_HOST_SEG,
			"must not be the null selector while HOST_ADDRESS_SPACE_SIZE is 0");
	for (unsigned i = 0; i < COUNT(host_bases); i++)
		ec_want_canonical(c, host_bases[i], SDM_HOST_SEG);
}

/* §27.2.4: the VMM itself runs in IA-32e mode, so VM exits must return to it
 * in 64-bit mode. */
static void check_address_space_size(struct ec *c)
{
	uint64_t cr4 = ec_read(c, HOST_CR4), rip = ec_read(c, HOST_RIP);

	if (!host_64bit(c)) {
		ec_fail(c, PRIMARY_VM_EXIT_CONTROLS, c->exit, SDM_HOST_SIZE,
			"HOST_ADDRESS_SPACE_SIZE (bit 9) must be 1: the VMM runs in IA-32e mode");
		if (c->entry & VMX_ENTRY_IA32E_MODE_GUEST)
			ec_fail(c, VM_ENTRY_CONTROLS, c->entry, SDM_HOST_SIZE,
				"IA32E_MODE_GUEST (bit 9) must be 0 while HOST_ADDRESS_SPACE_SIZE is 0");
		if (cr4 & CR4_PCIDE)
			ec_fail(c, HOST_CR4, cr4, SDM_HOST_SIZE,
				"PCIDE (bit 17) must be 0 while HOST_ADDRESS_SPACE_SIZE is 0");
		if (rip >> 32)
			ec_fail(c, HOST_RIP, rip, SDM_HOST_SIZE,
				"bits 63:32 must be 0 while HOST_ADDRESS_SPACE_SIZE is 0");
		return;
	}
	if (!(cr4 & CR4_PAE))
		ec_fail(c, HOST_CR4, cr4, SDM_HOST_SIZE,
			"PAE (bit 5) must be 1 for a 64-bit host (HOST_ADDRESS_SPACE_SIZE = 1)");
	ec_want_canonical(c, HOST_RIP, SDM_HOST_SIZE);
}

void ec_check_host(struct ec *c)
{
	check_host_registers(c);
	check_host_segments(c);
	check_address_space_size(c);
}
