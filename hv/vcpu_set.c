/* vcpu_set.c — the set of vCPUs: one per processor the hypervisor holds,
 * found through the per-CPU block of the processor an exit arrives on. */
#include "vcpu.h"

#include "platform/percpu.h"

struct vcpu vcpus[VCPU_MAX];
unsigned vcpu_count = 1;

struct vcpu *this_vcpu(void)
{
	return &vcpus[this_cpu()->cpu_index];
}

struct vcpu *vcpu_by_apic_id(uint32_t apic_id)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].state != VCPU_ABSENT && vcpus[i].apic_id == apic_id)
			return &vcpus[i];
	return 0;
}

