/* apic_mmio.h — the guest's xAPIC register page under EPT write protection
 * (issue 11): reads stay exit-free; every write exits as an EPT violation,
 * is decoded (apic_mmio_decode.c) and emulated, ICR writes through
 * apic_icr.c.  That makes every guest APIC write an exit — EOI after each
 * interrupt, timer programming, ICR — the price of catching INIT/SIPI where
 * the APIC-access page cannot (Bochs 2.7: native INIT/SIPI exits broken). */
#ifndef HV_APIC_MMIO_H
#define HV_APIC_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

/* Re-reads IA32_APIC_BASE and moves the protection with it: on an enabled
 * xAPIC's page, off in x2APIC mode or with the APIC disabled.  At VMCS setup
 * and after each guest WRMSR to IA32_APIC_BASE. */
void apic_mmio_follow_base(struct vcpu *v);

/* The protected page, or 0.  target_ept_protect keeps its write right off
 * (an EPT watch or a user's protect on that page must not open it). */
uint64_t apic_mmio_protected_page(void);

/* An EPT violation that wrote the protected page: emulate the instruction
 * at guest RIP and step over it; a store we cannot decode stops the guest. */
enum exit_action apic_mmio_write(struct vcpu *v, uint64_t gpa, uint64_t qual);

/* The instruction at the guest's CS:RIP, fetched (insn: X86_MAX_INSN
 * bytes, *n of them read) and decoded (apic_mmio_decode.h) in the guest's
 * code size (*bits); 0 or an apic_decode_error.  Also for apic_virtual.c's
 * APIC-access exits. */
struct apic_mmio_store;
int apic_mmio_decode_guest(struct vcpu *v, uint8_t *insn, size_t *n, unsigned *bits, struct apic_mmio_store *s);

#endif
