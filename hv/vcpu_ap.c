/* vcpu_ap.c — APs from VMXON to the guest's start-up IPI. */
#include "vcpu_ap.h"
#include "ept_dirty.h"

#include "allstop.h"
#include "breakpoints_sync.h"
#include "event_monitor.h"
#include "platform/cpu.h"
#include "platform/lapic.h"
#include "platform/log.h"
#include "platform/percpu.h"
#include "platform/smp.h"
#include "vcpu_kick.h"
#include "vcpu_run.h"
#include "vmcs_setup.h"
#include "vmx.h"
#include "vmx_msr.h"
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

	for (;;) {
		uint64_t seen = cpu_nmi_count();
		if (__atomic_load_n(&aps_may_build, __ATOMIC_ACQUIRE))
			break;
		cpu_wait_nmi_since(seen);
	}
	int rc = vmcs_setup_ap(v, &vcpus[0], ap_caps);
	v->sipi_vector = -1;
	__atomic_store_n(&ap_rc[cpu_index], rc, __ATOMIC_RELEASE);
	if (rc)
		for (;;)
			cpu_wait_nmi_since(cpu_nmi_count());	/* the BSP reports it; nothing runs here */
	vcpu_ap_wait_for_sipi(v);
}

unsigned vcpu_ap_prepare_all(const struct vmx_caps_raw *caps)
{
	unsigned n = 1;

	ap_caps = caps;
	vcpus[0].apic_id = smp_apic_id(0);
	/* Without NMI exiting a kick would land in the guest as its own NMI:
	 * no all-stop, no INIT.  The APs then stay in VMX root, unused. */
	uint32_t nmi_ctls = VMX_PIN_NMI_EXITING | VMX_PIN_VIRTUAL_NMIS;
	if ((vcpus[0].pin_ctls & nmi_ctls) != nmi_ctls) {
		for (unsigned i = 1; i < VCPU_MAX; i++)
			if (ap_rc[i] == 1 && vcpus[i].vmxon_phys) {
				log_warn("cpus: no NMI exiting or virtual NMIs on this CPU: the APs stay in VMX root, "
					 "unused; the guest runs on the BSP only");
				break;
			}
		return 1;
	}
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
	log_shared = n > 1;	/* from here APs log too */
	__atomic_store_n(&aps_may_build, true, __ATOMIC_RELEASE);
	unsigned ready = 1;
	for (unsigned i = 1; i < n; i++) {
		if (ap_rc[i] != 1 || !vcpus[i].vmcs_phys)
			continue;
		vcpu_kick(&vcpus[i]);	/* counted: every NMI a vCPU takes is accounted for */
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

/* A processor after INIT has none of the debugger's state: its hardware
 * breakpoints, exception bitmap and step are put back from the debugger's
 * (SDM Vol. 3A Table 10-1: DR7 = 0x400 after INIT). */
static void restart_debugging(struct vcpu *v)
{
	v->own_drs = false;
	v->stepping = v->rearm_step = v->rearm_by_timer = v->step_mtf = false;
	v->proc_ctls &= ~VMX_PROC_MONITOR_TRAP_FLAG;	/* a step's MTF is gone with it */
	vmwrite(PRIMARY_VM_EXEC_CONTROL, v->proc_ctls);
	breakpoints_sync_vcpu(v);
	event_monitor_sync(v, true);	/* and the controls scripts' event hooks need */
	ept_dirty_sync(v);		/* and dirty tracking, whichever way the AP started */
}

/* The SDM's path: the AP enters the guest in the wait-for-SIPI activity
 * state; the processor itself waits, and its SIPI is a VM exit
 * (exit_init_sipi).  An NMI does not end that state, so all-stop leaves
 * such a vCPU alone (it runs no guest code). */
static void native_wait_for_sipi(struct vcpu *v)
{
	vmcs_guest_sipi_state(v, ap_caps, 0);
	restart_debugging(v);
	vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_FOR_SIPI);
	v->state = VCPU_WAIT_SIPI;
	v->native_wait = true;
	__atomic_and_fetch(&v->requests, ~VCPU_REQ_INIT, __ATOMIC_SEQ_CST);
	vcpu_run(v);
}

void vcpu_ap_wait_for_sipi(struct vcpu *v)
{
	if (vcpu_sipi_native)
		native_wait_for_sipi(v);
	/* Waiting first, then the INIT request done: a SIPI sent meanwhile
	 * finds the vCPU waiting (vcpu_guest_sipi). */
	v->state = VCPU_WAIT_SIPI;
	__atomic_and_fetch(&v->requests, ~VCPU_REQ_INIT, __ATOMIC_SEQ_CST);
	for (;;) {
		uint64_t seen = cpu_nmi_count();
		if (v->requests & VCPU_REQ_PARK)
			allstop_park(v);
		int vector = __atomic_load_n(&v->sipi_vector, __ATOMIC_ACQUIRE);
		if (vector >= 0)
			break;
		cpu_wait_nmi_since(seen);
	}
	uint8_t vector = (uint8_t)v->sipi_vector;
	v->sipi_vector = -1;
	vmcs_guest_sipi_state(v, ap_caps, vector);
	restart_debugging(v);
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
	restart_debugging(v);
	vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_FOR_SIPI);
	v->state = VCPU_WAIT_SIPI;
	v->native_wait = true;
	log_debug("vCPU %u: INIT exit: wait-for-SIPI", v->index);
}

void vcpu_sipi_exit(struct vcpu *v, uint8_t vector)
{
	vmcs_guest_sipi_state(v, ap_caps, vector);	/* activity state: active */
	restart_debugging(v);
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
	bool init_pending = v->requests & VCPU_REQ_INIT;
	if (v->state != VCPU_WAIT_SIPI && !init_pending)
		return;	/* a SIPI to a running processor is ignored (SDM §12.6.1) */
	if (v->sipi_vector < 0)
		__atomic_store_n(&v->sipi_vector, vector, __ATOMIC_RELEASE);
	/* A waiting vCPU is woken (again, for the second SIPI: the first's NMI
	 * may have been spent); one still leaving the guest for its INIT reads
	 * the vector on its way. */
	if (!init_pending)
		vcpu_kick(v);
}
