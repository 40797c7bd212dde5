/* apic_base.h — the guest's IA32_APIC_BASE (SDM Vol. 3A §12.4.4, x2APIC
 * §12.12.1 and §12.12.5): which writes the CPU accepts, and where the
 * xAPIC's register page then is.  Writes exit (MSR bitmap) so the EPT
 * protection of the APIC page can follow the base (apic_mmio.c); the
 * check keeps a bad value from faulting in the hypervisor's own WRMSR. */
#ifndef HV_APIC_BASE_H
#define HV_APIC_BASE_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)	/* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_PAGE_MASK (~0xfffull)
#define MSR_X2APIC_ICR 0x830

/* True when WRMSR IA32_APIC_BASE old -> new completes rather than raising
 * #GP: no reserved bit (7:0, 9, MAXPHYADDR and up), EXTD only where CPUID
 * has x2APIC, and only the mode changes of Figure 12-27 (x2APIC is left
 * by disabling; disabled is left for xAPIC; EXTD needs EN). */
bool apic_base_write_valid(uint64_t old, uint64_t new, unsigned maxphyaddr, bool x2apic_cpu);

/* The guest-physical page of the xAPIC registers, or 0 when the APIC is
 * disabled or in x2APIC mode (no MMIO then). */
uint64_t apic_base_xapic_page(uint64_t base);

#endif
