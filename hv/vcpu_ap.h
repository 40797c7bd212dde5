/* vcpu_ap.h — an application processor's life as a vCPU (book ch. 1's
 * start-up stages; SDM Vol. 3A §9.4).  At boot the BSP starts every AP
 * (platform/smp.c); each enters VMX root operation, waits for the BSP's
 * VMCS and EPT, fills its own VMCS and waits in root mode for the guest to
 * start it: INIT, then a start-up IPI (apic_icr.c catches both in the
 * guest's ICR writes; vcpu_guest_init / vcpu_guest_sipi in vcpu.h). */
#ifndef HV_VCPU_AP_H
#define HV_VCPU_AP_H

#include "vcpu.h"
#include "vmx_caps.h"

/* smp.c's callbacks: on the AP, VMXON; then the AP's loop for good. */
int vcpu_ap_enter_root(unsigned cpu_index, void *ctx);
void vcpu_ap_main(unsigned cpu_index) __attribute__((noreturn));

/* On the BSP once its own VMCS and the EPT exist: gives every AP in VMX
 * root a vCPU (its VMCS and exit stack) and waits until each is ready.
 * Returns how many vCPUs there are now (the BSP's included). */
unsigned vcpu_ap_prepare_all(const struct vmx_caps_raw *caps);

/* On v's processor: wait-for-SIPI, then the guest at the SIPI's vector. */
void vcpu_ap_wait_for_sipi(struct vcpu *v) __attribute__((noreturn));

/* How guest APs start (sipi=): false, the software path (the guest's
 * INIT/SIPI caught at the ICR, the AP waiting in root mode); true, the
 * SDM's (the AP in the guest in the wait-for-SIPI activity state, INIT and
 * SIPI VM exits: SDM Vol. 3C §26.4.2, §28.2; book §3.10.1.7).  Chosen once
 * at start-up: native only where the CPU offers the activity state and not
 * under Bochs 2.7, whose INIT/SIPI exits are broken (docs/platform-notes.md). */
extern bool vcpu_sipi_native;
/* The INIT and SIPI exits, on the vCPU that took them. */
void vcpu_init_exit(struct vcpu *v);
void vcpu_sipi_exit(struct vcpu *v, uint8_t vector);
void vcpu_choose_sipi_path(bool native_wanted, const struct vmx_caps_raw *caps);

#endif
