/* exit_msr.c — RDMSR/WRMSR of the MSRs the MSR bitmap guards (SDM Vol. 3C
 * §25.6.9): IA32_FEATURE_CONTROL and the VMX capability MSRs.  The guest sees
 * a CPU without VMX: IA32_FEATURE_CONTROL locked with VMX disabled, the
 * capability MSRs absent (#GP, as on a CPU whose CPUID.1:ECX.VMX is 0).
 * IA32_MISC_ENABLE and IA32_BIOS_SIGN_ID are virtualized: architectural
 * on every CPU Linux expects, absent from Bochs (see below).
 * Writes only: IA32_APIC_BASE (the EPT protection of the xAPIC page follows
 * it) and the x2APIC ICR (INIT/SIPI in software, apic_icr.c). */
#include "apic_base.h"
#include "apic_icr.h"
#include "apic_mmio.h"
#include "exits.h"
#include "guest_cpuid.h"
#include "platform/cpu.h"
#include "platform/log.h"
#include "vmx_msr.h"

/* IA32_MISC_ENABLE bits (SDM Vol. 4 Table 2-2). */
#define MISC_FAST_STRINGS (1ull << 0)
#define MISC_BTS_UNAVAILABLE (1ull << 11)
#define MISC_PEBS_UNAVAILABLE (1ull << 12)

static bool is_vmx_capability_msr(uint32_t msr)
{
	return msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_EXIT_CTLS2;
}

/* An MSR the bitmap has no bit for always exits (SDM Vol. 3C §25.6.9):
 * not one VT-x CPUs have (Linux probes AMD's 0xC0011029 on any CPU). */
static bool outside_bitmap(uint32_t msr)
{
	return msr > 0x1fff && (msr < 0xc0000000 || msr > 0xc0001fff);
}

static const char *why_refused(uint32_t msr)
{
	return msr == MSR_IA32_FEATURE_CONTROL ? "IA32_FEATURE_CONTROL is locked" :
	       outside_bitmap(msr) ? "no such MSR here" : "VMX is hidden";
}

/* Every Intel family-6 CPU has IA32_MISC_ENABLE, and Linux reads it without
 * a fault handler (verify_cpu, before it has an IDT); Bochs does not
 * implement it and raises #GP, which there is a triple fault.  The guest gets
 * what such a CPU reports -- fast strings on, no BTS/PEBS, and MONITOR/MWAIT
 * off, as the guest's CPUID says (guest_cpuid.h hides MONITOR) -- and reads
 * back what it writes: the bits change nothing. */
static uint64_t misc_enable = MISC_FAST_STRINGS | MISC_BTS_UNAVAILABLE | MISC_PEBS_UNAVAILABLE;

enum exit_action exit_msr_read(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint32_t msr = (uint32_t)g->rcx;
	uint64_t value;

	if (msr == MSR_IA32_FEATURE_CONTROL) {
		value = (rdmsr(msr) | FEATURE_CONTROL_LOCKED) &
			~(FEATURE_CONTROL_VMX_INSIDE_SMX | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	} else if (msr == MSR_IA32_MISC_ENABLE) {
		value = misc_enable;
	} else if (msr == MSR_IA32_BIOS_SIGN_ID) {
		value = 0;	/* bits 63:32, the microcode revision: no update loaded */
	} else if (is_vmx_capability_msr(msr)) {
		log_info("guest: RDMSR 0x%x (%s) refused with #GP: VMX is hidden", msr, vmx_msr_name(msr));
		inject_gp(v);
		return EXIT_RESUME;
	} else if (outside_bitmap(msr)) {
		log_info("guest: RDMSR 0x%x refused with #GP (%s)", msr, why_refused(msr));
		inject_gp(v);
		return EXIT_RESUME;
	} else {
		log_warn("guest: RDMSR 0x%x exited but is not guarded; #GP", msr);
		inject_gp(v);
		return EXIT_RESUME;
	}
	g->rax = (uint32_t)value;
	g->rdx = value >> 32;
	return EXIT_ADVANCE;
}

#define CPUID_1_ECX_X2APIC (1u << 21)

static unsigned phys_addr_bits(void)
{
	uint32_t max, widths, unused;
	cpuid(0x80000000u, 0, &max, &unused, &unused, &unused);
	if (max < 0x80000008u)
		return 36;	/* SDM Vol. 3A §4.1.4: without the leaf, 36 */
	cpuid(0x80000008u, 0, &widths, &unused, &unused, &unused);
	return widths & 0xff;
}

/* The guest's WRMSR reaches the real MSR (the guest owns its APIC) when
 * the CPU would take it; a value that would #GP is the guest's #GP, not
 * a fault in root mode. */
static enum exit_action write_apic_base(struct vcpu *v, uint64_t value)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	uint64_t old = rdmsr(MSR_IA32_APIC_BASE);
	if (!apic_base_write_valid(old, value, phys_addr_bits(), c & CPUID_1_ECX_X2APIC & ~guest_cpuid_hidden_1_ecx)) {
		log_info("guest: WRMSR IA32_APIC_BASE 0x%llx -> 0x%llx refused with #GP (SDM Vol. 3A §12.12.5)",
			 (unsigned long long)old, (unsigned long long)value);
		inject_gp(v);
		return EXIT_RESUME;
	}
	wrmsr(MSR_IA32_APIC_BASE, value);
	apic_mmio_follow_base(v);
	return EXIT_ADVANCE;
}

/* x2APIC ICR (SDM Vol. 3A §12.12.9): #GP outside x2APIC mode or with a
 * reserved bit set, as the CPU would; else the software INIT/SIPI path. */
static enum exit_action write_x2apic_icr(struct vcpu *v, uint64_t value)
{
	if (!(rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) || ((uint32_t)value & ICR_X2APIC_RESERVED)) {
		log_info("guest: WRMSR x2APIC ICR <- 0x%llx refused with #GP (%s)", (unsigned long long)value,
			 (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) ? "reserved bits" : "not in x2APIC mode");
		inject_gp(v);
		return EXIT_RESUME;
	}
	apic_icr_write(v, (uint32_t)(value >> 32), (uint32_t)value);
	return EXIT_ADVANCE;
}

enum exit_action exit_msr_write(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint32_t msr = (uint32_t)g->rcx;
	uint64_t value = (g->rdx << 32) | (uint32_t)g->rax;

	if (msr == MSR_X2APIC_ICR)
		return write_x2apic_icr(v, value);
	if (msr == MSR_IA32_APIC_BASE)
		return write_apic_base(v, value);

	if (msr == MSR_IA32_MISC_ENABLE) {
		misc_enable = value;
		return EXIT_ADVANCE;
	}
	if (msr == MSR_IA32_BIOS_SIGN_ID)	/* writing 0 then CPUID(1) asks for the revision */
		return EXIT_ADVANCE;
	/* Locked IA32_FEATURE_CONTROL and absent MSRs both #GP on write. */
	log_info("guest: WRMSR 0x%x <- 0x%llx refused with #GP (%s)", msr, (unsigned long long)value,
		 why_refused(msr));
	inject_gp(v);
	return EXIT_RESUME;
}
