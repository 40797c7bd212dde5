/* vcpu_ap.c — APs from VMXON to the guest's start-up IPI. */
#include "vcpu_ap.h"

#include "allstop.h"
#include "platform/cpu.h"
#include "platform/lapic.h"
#include "platform/log.h"
#include "platform/percpu.h"
#include "platform/smp.h"
#include "vcpu_kick.h"
#include "vcpu_run.h"
#include "vmcs_setup.h"
#include "vmx_on.h"

/* An AP builds its VMCS within this many ticks of being told to (≈ 60 K
 * under Bochs); one that has not is reported and left out. */
#define AP_READY_TICKS 100000000ull

extern struct vmx_caps_raw vmx_caps;

static const struct vmx_caps_raw *ap_caps;
static volatile bool aps_may_build;
static volatile int ap_rc[VCPU_MAX];	/* 1 = not yet, 0 = ready, < 0 = failed */

int vcpu_ap_enter_root(unsigned cpu_index, void *ctx)
{
	(void)ctx;
	if (cpu_index >= VCPU_MAX)
		return -1;
	ap_rc[cpu_index] = 1;
	return vmx_enable_ap(&vmx_caps, &vcpus[cpu_index].vmxon_phys);
}

void vcpu_ap_main(unsigned cpu_index)
{
	struct vcpu *v = &vcpus[cpu_index];

	while (!__atomic_load_n(&aps_may_build, __ATOMIC_ACQUIRE))
		cpu_wait_nmi();
	int rc = vmcs_setup_ap(v, &vcpus[0], ap_caps);
	v->sipi_vector = -1;
	__atomic_store_n(&ap_rc[cpu_index], rc, __ATOMIC_RELEASE);
	if (rc)
		for (;;)
			cpu_wait_nmi();	/* the BSP reports it; nothing runs here */
	vcpu_ap_wait_for_sipi(v);
}

unsigned vcpu_ap_prepare_all(const struct vmx_caps_raw *caps)
{
	unsigned n = 1;

	ap_caps = caps;
	vcpus[0].apic_id = smp_apic_id(0);
	for (unsigned i = 1; i < VCPU_MAX; i++) {
		struct vcpu *v = &vcpus[i];
		if (ap_rc[i] != 1 || !v->vmxon_phys)
			continue;	/* never reached VMX root */
		v->index = i;
		v->apic_id = smp_apic_id(i);
		if (vmcs_alloc_vcpu(v, caps)) {
			log_warn("cpu %u: no memory for its VMCS; it stays parked outside the guest", i);
			ap_rc[i] = -1;
			continue;
		}
		n = i + 1;
	}
	__atomic_store_n(&aps_may_build, true, __ATOMIC_RELEASE);
	unsigned ready = 1;
	for (unsigned i = 1; i < n; i++) {
		if (ap_rc[i] != 1 || !vcpus[i].vmcs_phys)
			continue;
		lapic_send_nmi(vcpus[i].apic_id);
		uint64_t t0 = rdtsc();
		while (__atomic_load_n(&ap_rc[i], __ATOMIC_ACQUIRE) == 1 && rdtsc() - t0 < AP_READY_TICKS)
			pause();
		if (ap_rc[i]) {
			log_warn("cpu %u: its VMCS could not be set up (%d); the guest cannot start it", i, ap_rc[i]);
			continue;
		}
		vcpus[i].state = VCPU_WAIT_SIPI;
		ready++;
		log_debug("cpu %u: VMCS ready (VPID %u); vCPU %u waits for the guest's INIT-SIPI-SIPI", i,
			  vcpus[i].vpid, i);
	}
	vcpu_count = n;
	return ready;
}

void vcpu_ap_wait_for_sipi(struct vcpu *v)
{
	v->state = VCPU_WAIT_SIPI;
	for (;;) {
		if (v->requests & VCPU_REQ_PARK)
			allstop_park(v);
		int vector = __atomic_load_n(&v->sipi_vector, __ATOMIC_ACQUIRE);
		if (vector >= 0)
			break;
		cpu_wait_nmi();
	}
	uint8_t vector = (uint8_t)v->sipi_vector;
	v->sipi_vector = -1;
	v->kicked = false;
	vmcs_guest_sipi_state(v, ap_caps, vector);
	v->state = VCPU_RUNNING;
	log_debug("vCPU %u: start-up IPI, vector 0x%02x: real mode at %04x:0000", v->index, vector, vector << 8);
	vcpu_run(v);
}

/* The guest's INIT: a running vCPU leaves the guest for wait-for-SIPI (SDM
 * Vol. 3A §9.4.4, book §3.10.1.7); a SIPI that follows before it has
 * gone there still counts. */
void vcpu_guest_init(struct vcpu *v)
{
	v->sipi_vector = -1;
	if (v->state == VCPU_RUNNING)
		vcpu_request(v, VCPU_REQ_INIT);
}

void vcpu_guest_sipi(struct vcpu *v, uint8_t vector)
{
	bool waiting = v->state == VCPU_WAIT_SIPI || (v->requests & VCPU_REQ_INIT);
	if (!waiting || v->sipi_vector >= 0)
		return;	/* a SIPI to a running processor is ignored (SDM §12.6.1) */
	__atomic_store_n(&v->sipi_vector, vector, __ATOMIC_RELEASE);
	lapic_send_nmi(v->apic_id);
}
