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

#endif
