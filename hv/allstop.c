/* allstop.c — stopping every vCPU for the debugger, and letting them go. */
#include "allstop.h"

#include "breakpoints_sync.h"
#include "event_monitor.h"
#include "ept_dirty.h"
#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/lapic.h"
#include "platform/log.h"
#include "platform/spinlock.h"
#include "vcpu_kick.h"
#include "vmx.h"

/* A vCPU that has not parked after this many ticks is sent its NMI again
 * (it may have been in root mode, where the request waits for the next
 * look); after PARK_GIVE_UP it is reported and the stop goes on without it. */
#define PARK_RETRY_TICKS 200000ull
#define PARK_GIVE_UP_TICKS 400000000ull

uint64_t allstop_last_latency;

static struct spinlock owner_lock;
static struct vcpu *volatile owner;
static struct vcpu *foreign;	/* a parked vCPU's VMCS current on the owner */

struct vcpu *allstop_owner(void)
{
	return owner;
}

static void park(struct vcpu *v);

static bool needs_parking(const struct vcpu *u)
{
	return u->state != VCPU_ABSENT && u->vmcs_phys && !__atomic_load_n(&u->parked, __ATOMIC_ACQUIRE) &&
	       !u->native_wait;
}

static void park_others(struct vcpu *v)
{
	uint64_t t0 = rdtsc(), kicked_at = t0;
	unsigned asked = 0;

	for (unsigned i = 0; i < vcpu_count; i++)
		if (&vcpus[i] != v && needs_parking(&vcpus[i])) {
			vcpus[i].parked_by = v;
			vcpu_request(&vcpus[i], VCPU_REQ_PARK);
			asked++;
		}
	for (;;) {
		bool all = true;
		for (unsigned i = 0; i < vcpu_count; i++)
			if (&vcpus[i] != v && needs_parking(&vcpus[i]))
				all = false;
		uint64_t now = rdtsc();
		if (all) {
			allstop_last_latency = now - t0;
			/* make bench reads this line (tools/bench_smp.py: stop-all latency). */
			if (asked)
				log_debug("allstop: vCPU %u stopped; %u vCPU%s parked in %llu TSC ticks", v->index,
					  asked, asked == 1 ? "" : "s", (unsigned long long)allstop_last_latency);
			return;
		}
		if (now - t0 > PARK_GIVE_UP_TICKS) {
			for (unsigned i = 0; i < vcpu_count; i++)
				if (&vcpus[i] != v && needs_parking(&vcpus[i]))
					log_warn("allstop: vCPU %u did not stop within %llu ticks; it runs on", i,
						 (unsigned long long)PARK_GIVE_UP_TICKS);
			return;
		}
		if (now - kicked_at > PARK_RETRY_TICKS) {
			kicked_at = now;
			for (unsigned i = 0; i < vcpu_count; i++)
				if (&vcpus[i] != v && needs_parking(&vcpus[i]))
					vcpu_kick(&vcpus[i]);
		}
		pause();
	}
}

bool allstop_begin(struct vcpu *v)
{
	bool parked_meanwhile = false;
	if (vcpu_count < 2)
		return false;
	/* Another vCPU may be stopping the machine right now: be parked by it
	 * first; this stop is reported after it, when this vCPU runs again. */
	while (!spin_trylock(&owner_lock)) {
		if (v->requests & VCPU_REQ_PARK) {
			allstop_park(v);
			parked_meanwhile = true;
		}
		pause();
	}
	owner = v;
	foreign = NULL;
	park_others(v);
	return parked_meanwhile;
}

/* Only the owner switches VMCSs, and only to a parked vCPU's (SDM Vol. 3C
 * §25.1: a VMCS is active on one processor at a time); any other processor
 * reaches its own vCPU's VMCS only. */
int vcpu_vmcs_use(struct vcpu *v)
{
	if (vcpu_count < 2 || !owner)
		return 0;	/* nobody stopped: every caller works on its own vCPU's exit */
	struct vcpu *me = this_vcpu();
	if (me != owner)
		return v == me ? 0 : -EBUSY;
	if (v == (foreign ? foreign : owner))
		return 0;
	if (v != owner && !__atomic_load_n(&v->parked, __ATOMIC_ACQUIRE))
		return -EBUSY;
	if (foreign)
		vmclear(foreign->vmcs_phys);	/* its processor may load it again */
	foreign = v == owner ? NULL : v;
	return vmptrld(v->vmcs_phys) == VMX_OK ? 0 : -EIO;
}

/* Not parked from here on, for anyone who looks: a new owner parks it
 * again instead of loading a VMCS its processor is about to load. */
static void release(struct vcpu *u)
{
	u->parked_by = NULL;
	__atomic_store_n(&u->parked, false, __ATOMIC_SEQ_CST);
	__atomic_store_n(&u->go, true, __ATOMIC_RELEASE);
	vcpu_kick(u);
}

void allstop_resume_those_parked_by(struct vcpu *v)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].parked_by == v)
			vcpus[i].run_next = true;
	v->run_next = true;
}

bool allstop_something_runs(void)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].run_next && vcpus[i].state == VCPU_RUNNING)
			return true;
	return false;
}

void allstop_end(struct vcpu *v)
{
	if (vcpu_count < 2)
		return;
	vcpu_vmcs_use(v);
	bool self_runs = v->run_next;
	v->run_next = false;
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *u = &vcpus[i];
		if (u == v)
			continue;
		/* A vCPU the stop gave up on must not park later with nobody
		 * to release it. */
		if (!u->parked)
			__atomic_and_fetch(&u->requests, ~VCPU_REQ_PARK, __ATOMIC_SEQ_CST);
		/* A vCPU waiting for its SIPI runs no guest code: back to its wait. */
		if (u->parked && (u->run_next || u->state == VCPU_WAIT_SIPI)) {
			u->run_next = false;
			release(u);
		}
	}
	breakpoints_sync_vcpu(v);	/* DR0-DR3 are this processor's: its own vCPU's now */
	event_monitor_sync(v, false);	/* a watch changed during the stop */
	owner = NULL;
	spin_unlock(&owner_lock);
	if (!self_runs)
		park(v);
}

/* The FPU image a parked vCPU leaves (target_fpu_read reads it). */
static void fx_save(struct vcpu *v)
{
	__asm__ volatile("fxsave64 %0" : "=m"(v->fxsave));
}

static void fx_restore(struct vcpu *v)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(v->fxsave));
}

/* What lives only in the processor is kept in the vcpu: x87/SSE and CR2
 * (gdb reads both through the owner), then the VMCS goes to memory. */
static void park(struct vcpu *v)
{
	__atomic_and_fetch(&v->requests, ~VCPU_REQ_PARK, __ATOMIC_SEQ_CST);
	fx_save(v);
	v->cr2 = read_cr2();
	vmclear(v->vmcs_phys);
	v->launched = false;
	v->go = false;
	__atomic_store_n(&v->parked, true, __ATOMIC_RELEASE);
	for (;;) {
		uint64_t seen = cpu_nmi_count();
		if (__atomic_load_n(&v->go, __ATOMIC_ACQUIRE))
			break;
		cpu_wait_nmi_since(seen);
	}
	__atomic_store_n(&v->parked, false, __ATOMIC_RELEASE);
	vmptrld(v->vmcs_phys);
	fx_restore(v);
	write_cr2(v->cr2);
	breakpoints_sync_vcpu(v);	/* the debugger's DR0-DR3, DR7 and exception bitmap */
	event_monitor_sync(v, false);	/* and the controls of scripts' event hooks */
	ept_dirty_sync(v);	/* dirty tracking started or stopped meanwhile */
	invept(INVEPT_SINGLE_CONTEXT, v->eptp);	/* EPT may have changed meanwhile */
}

/* A request to park is only good while someone owns the stop. */
void allstop_park(struct vcpu *v)
{
	if (!owner) {
		__atomic_and_fetch(&v->requests, ~VCPU_REQ_PARK, __ATOMIC_SEQ_CST);
		return;
	}
	park(v);
}
