/* apic_virtual.h — `apic=virtual`: the guest's local APIC as a virtual-APIC
 * page per vCPU (SDM Vol. 3C ch. 30 "APIC Virtualization and Virtual
 * Interrupts"; the book §4.9 and ch. 7).  The hypervisor owns the physical
 * APIC: every interrupt exits (external-interrupt exiting, acknowledged on
 * exit), is EOI'd on the physical APIC and posted to the virtual one (IRR,
 * RVI); the guest takes it, EOIs and moves its TPR without exits (virtual-
 * interrupt delivery, EOI and TPR virtualization).  Its writes to the
 * registers that steer the hardware (LVT, timer, SVR, LDR/DFR, ICR) exit
 * after the fact (APIC-write, trap-like) and are forwarded.  Pass-through
 * (the default) leaves all of this off. */
#ifndef HV_APIC_VIRTUAL_H
#define HV_APIC_VIRTUAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vmx_caps.h"

/* True once apic_virtual_choose accepted apic=virtual. */
extern bool apic_virtual;

/* At start, before any VMCS is filled: checks the controls apic=virtual
 * needs (and an xAPIC-mode physical APIC) and says which is missing; falls
 * back to pass-through then.  Hides x2APIC from the guest's CPUID: the
 * virtual mode covers the xAPIC's MMIO page only. */
void apic_virtual_choose(bool wanted, const struct vmx_caps_raw *caps);

/* The control bits apic=virtual adds (zero in pass-through mode). */
struct apic_virtual_controls {
	uint32_t pin, proc, proc2, exit;
};
struct apic_virtual_controls apic_virtual_wanted(void);

/* On v's own processor, its VMCS current, after the controls and again at
 * each INIT: the virtual-APIC page (seeded from the physical APIC's
 * registers, which INIT leaves alone here), the APIC-access address,
 * RVI/SVI and the EOI-exit bitmap cleared. */
void apic_virtual_setup_vmcs(struct vcpu *v);

/* The guest moved or disabled its xAPIC (WRMSR IA32_APIC_BASE). */
void apic_virtual_follow_base(struct vcpu *v, uint64_t base);

/* v's virtual-APIC page (4 KiB), or NULL in pass-through mode. */
uint32_t *apic_virtual_page(const struct vcpu *v);

/* The external-interrupt exit in virtual mode (exit_misc.c dispatches). */
enum exit_action apic_virtual_interrupt(struct vcpu *v);
/* The interrupt window opened: the next held ExtINT vector, if any. */
void apic_virtual_window(struct vcpu *v);

/* At a HLT exit (IF=1, blocking cleared): true when an interrupt already
 * waits for the guest — a held 8259 vector (now injected) or a posted one
 * RVI has above PPR — so the halt must end at once.  Bochs 2.7 wakes a
 * halted guest neither for an interrupt-window exit nor for a pending
 * virtual interrupt. */
bool apic_virtual_hlt_wakes(struct vcpu *v);

/* Counters for `make bench` and `monitor apic`. */
struct apic_virtual_stats {
	uint64_t posted;	/* interrupts posted to the virtual APIC */
	uint64_t extint;	/* 8259 (ExtINT) or spurious vectors, injected */
	uint64_t dropped;	/* ... of them, stale: below 32 in protected mode */
	uint64_t apic_writes;	/* APIC-write exits forwarded */
	uint64_t eoi_exits;	/* EOI-induced exits (level-triggered) */
	uint64_t access_exits;	/* APIC-access exits emulated */
};
struct apic_virtual_stats apic_virtual_stats(const struct vcpu *v);

#endif
