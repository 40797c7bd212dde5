/* apic_mmio.c — emulating the guest's stores to its xAPIC page (SDM Vol. 3A
 * §12.4.1 for the register layout; the page is write-protected in EPT).
 *
 * Cost: every guest store to the page — EOI after each interrupt, timer
 * and LVT programming, TPR, ICR — becomes a VM exit, the instruction fetch
 * (through the guest's page tables when paging is on), the decode and one
 * MMIO write.  Measured under Bochs (TSC = instructions): 812 instructions
 * per emulated TPR write from the 32-bit probe guest with paging off,
 * against 3 bare; reads stay at 4, as bare (test_smp, apic_cost).  With an
 * APIC-access page and APIC-register virtualization most of these would
 * need no exit, but INIT/SIPI would then depend on the native INIT/SIPI
 * exits that Bochs 2.7 gets wrong. */
#include "apic_mmio.h"

#include "apic_base.h"
#include "apic_icr.h"
#include "apic_mmio_decode.h"
#include "apic_virtual.h"
#include "ept.h"
#include "exits.h"
#include "guest_mode.h"
#include "platform/cpu.h"
#include "platform/log.h"
#include "vcpu_ap.h"
#include "target.h"
#include "vmx.h"

#define PAGE_SIZE 4096ull
#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310
#define QUAL_LINEAR_VALID (1ull << 7)
#define QUAL_TRANSLATED (1ull << 8)
#define VECTORING_VALID (1u << 31)

/* One page for all vCPUs: they share the EPT, and every CPU's APIC sits at
 * the same address unless a guest moves one (then the last move wins). */
static uint64_t protected_page;
/* ICR high (the destination) per vCPU, as the guest last wrote it. */
static uint32_t icr_high[VCPU_MAX];

uint64_t apic_mmio_protected_page(void)
{
	return protected_page;
}

void apic_mmio_follow_base(struct vcpu *v)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	/* Only a guest with APs to start needs its ICR watched: with one vCPU
	 * (or the SDM's native path) its APIC writes run without exits. */
	uint64_t page = vcpu_count > 1 && !vcpu_sipi_native ? apic_base_xapic_page(base) : 0;

	if (apic_virtual) {	/* ICR writes exit as APIC writes: nothing to protect */
		apic_virtual_follow_base(v, base);
		return;
	}

	if (page == protected_page)
		return;
	if (protected_page) {
		uint64_t old = protected_page;
		protected_page = 0;
		target_ept_protect(v, old, PAGE_SIZE, EPT_RWX);
	}
	if (!page) {
		if (vcpu_count < 2 || vcpu_sipi_native)
			return;	/* nothing to catch: said once by hv_start */
		log_info("apic: %s: no xAPIC page to protect%s", (base & APIC_BASE_EXTD) ? "x2APIC mode" : "APIC disabled",
			 (base & APIC_BASE_EXTD) ? "; ICR writes exit at WRMSR 0x830" : "");
		return;
	}
	protected_page = page;
	int rc = target_ept_protect(v, page, PAGE_SIZE, EPT_R | EPT_X);
	if (rc) {
		protected_page = 0;
		log_warn("apic: cannot write-protect the xAPIC page at 0x%llx (%d): the guest's INIT/SIPI "
			 "will reach the hardware", (unsigned long long)page, rc);
		return;
	}
	log_info("apic: xAPIC page 0x%llx write-protected in EPT: INIT/SIPI caught at the ICR "
		 "(every guest APIC write exits)", (unsigned long long)page);
}

/* Up to X86_MAX_INSN bytes at the guest's CS:RIP; fewer when the next page
 * is unreadable (the decoder then says whether it needed them). */
static size_t fetch_instruction(struct vcpu *v, unsigned bits, uint8_t *buf)
{
	uint64_t rip = vmread(GUEST_RIP);
	uint64_t linear = bits == 64 ? rip : (vmread(GUEST_CS_BASE) + rip) & 0xffffffffull;
	size_t first = PAGE_SIZE - (linear & (PAGE_SIZE - 1));

	if (first > X86_MAX_INSN)
		first = X86_MAX_INSN;
	if (target_read_virt(v, linear, buf, first))
		return 0;
	if (first < X86_MAX_INSN && !target_read_virt(v, linear + first, buf + first, X86_MAX_INSN - first))
		return X86_MAX_INSN;
	return first;
}

static void store(struct vcpu *v, uint64_t gpa, uint32_t value)
{
	/* The page is identity-mapped (EPT and boot.S): its GPA is where the
	 * real APIC answers. */
	volatile uint32_t *reg = (volatile uint32_t *)(uintptr_t)gpa;
	unsigned offset = gpa & (PAGE_SIZE - 1);

	if (offset == XAPIC_ICR_HIGH) {
		icr_high[v->index % VCPU_MAX] = value;
		*reg = value;
	} else if (offset == XAPIC_ICR_LOW) {
		uint32_t dest = icr_high[v->index % VCPU_MAX] >> 24;
		apic_icr_write(v, dest == 0xff ? APIC_DEST_BROADCAST : dest, value);
	} else {
		*reg = value;
	}
}

int apic_mmio_decode_guest(struct vcpu *v, uint8_t *insn, size_t *n, unsigned *bits, struct apic_mmio_store *s)
{
	uint64_t gprs[16];

	*bits = guest_code_bits(vmread(GUEST_IA32_EFER), (uint32_t)vmread(GUEST_CS_ACCESS_RIGHTS),
				vmread(GUEST_RFLAGS));
	*n = fetch_instruction(v, *bits, insn);
	for (unsigned i = 0; i < 16; i++)
		gprs[i] = vcpu_gpr(v, i);
	return apic_mmio_decode(insn, *n, (enum code_bits)*bits, gprs, s);
}

enum exit_action apic_mmio_write(struct vcpu *v, uint64_t gpa, uint64_t qual)
{
	uint8_t insn[X86_MAX_INSN] = { 0 };
	struct apic_mmio_store s;

	if ((qual & QUAL_LINEAR_VALID) && !(qual & QUAL_TRANSLATED))
		return exit_stop(v, "the guest's page tables are on its APIC page (write to 0x%llx)",
				 (unsigned long long)gpa);
	if (vmread(IDT_VECTORING_INFO) & VECTORING_VALID)
		return exit_stop(v, "event delivery wrote the APIC page at 0x%llx (stack or IDT there?)",
				 (unsigned long long)gpa);
	unsigned bits;
	size_t n;
	int rc = apic_mmio_decode_guest(v, insn, &n, &bits, &s);
	if (!rc && s.load_reg >= 0)
		rc = DECODE_UNKNOWN_OPCODE;	/* a read never faults on a write-protected page */
	if (rc) {
		log_error("apic: write to 0x%llx at RIP 0x%llx (%u-bit code, %u bytes read: %02x %02x %02x %02x ...) "
			  "not emulated: %s", (unsigned long long)gpa, (unsigned long long)vmread(GUEST_RIP), bits,
			  (unsigned)n, insn[0], insn[1], insn[2], insn[3], apic_mmio_decode_strerror(rc));
		return exit_stop(v, "APIC store at 0x%llx not emulated: %s", (unsigned long long)vmread(GUEST_RIP),
				 apic_mmio_decode_strerror(rc));
	}
	if (s.xchg_reg >= 0)	/* the old value into the register, zero-extended (32-bit operand) */
		vcpu_set_gpr(v, (unsigned)s.xchg_reg, *(volatile uint32_t *)(uintptr_t)(gpa & ~3ull));
	store(v, gpa, s.value);
	vcpu_advance_rip(v, s.len);
	return EXIT_RESUME;
}
