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
#include "vmx.h"
#include "vmx_on.h"
#include "platform/machine.h"

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

bool vcpu_sipi_native;

#define VMX_MISC_WAIT_FOR_SIPI (1ull << 8)	/* SDM Vol. 3D §A.6 */
#define ACTIVITY_WAIT_FOR_SIPI 3

void vcpu_choose_sipi_path(bool native_wanted, const struct vmx_caps_raw *caps)
{
	if (!native_wanted)
		return;
	if (!(caps->misc & VMX_MISC_WAIT_FOR_SIPI))
		log_warn("sipi=native: this CPU has no wait-for-SIPI activity state (IA32_VMX_MISC bit 8); "
			 "guest APs start the software way");
	else if (machine_detect() == MACHINE_BOCHS)
		log_warn("sipi=native: Bochs 2.7's INIT and SIPI exits are broken (an INIT exits again at every "
			 "entry; docs/platform-notes.md); guest APs start the software way");
	else
		vcpu_sipi_native = true;
	log_info("cpus: guest APs start %s", vcpu_sipi_native ?
		 "the SDM's way: in wait-for-SIPI, by INIT and SIPI exits" :
		 "the software way: INIT/SIPI caught at the ICR");
}

/* The SDM's path: the AP enters the guest in the wait-for-SIPI activity
 * state; the processor itself waits, and its SIPI is a VM exit
 * (exit_init_sipi).  An NMI does not end that state, so all-stop leaves
 * such a vCPU alone (it runs no guest code). */
static void native_wait_for_sipi(struct vcpu *v)
{
	vmcs_guest_sipi_state(v, ap_caps, 0);
	vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_FOR_SIPI);
	v->state = VCPU_WAIT_SIPI;
	v->native_wait = true;
	vcpu_run(v);
}

void vcpu_ap_wait_for_sipi(struct vcpu *v)
{
	if (vcpu_sipi_native)
		native_wait_for_sipi(v);
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

/* INIT and SIPI as VM exits (SDM Vol. 3C §28.2, Table 28-1 reasons 3 and
 * 4): INIT puts the vCPU into wait-for-SIPI (the software path waits in
 * root mode, the native one in the guest); a SIPI's vector is the exit
 * qualification's bits 7:0 and starts a waiting vCPU in real mode. */
void vcpu_init_exit(struct vcpu *v)
{
	v->native_wait = false;
	if (!vcpu_sipi_native)
		vcpu_ap_wait_for_sipi(v);	/* never returns */
	vmcs_guest_sipi_state(v, ap_caps, 0);
	vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_FOR_SIPI);
	v->state = VCPU_WAIT_SIPI;
	v->native_wait = true;
	log_debug("vCPU %u: INIT exit: wait-for-SIPI", v->index);
}

void vcpu_sipi_exit(struct vcpu *v, uint8_t vector)
{
	vmcs_guest_sipi_state(v, ap_caps, vector);	/* activity state: active */
	v->native_wait = false;
	v->state = VCPU_RUNNING;
	log_debug("vCPU %u: SIPI exit, vector 0x%02x: real mode at %04x:0000", v->index, vector, vector << 8);
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
