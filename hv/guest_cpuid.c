/* guest_cpuid.c — which advertised features have their MSRs here.  Bochs'
 * CPU models advertise features whose MSRs they do not implement; a guest
 * that believes CPUID takes #GP (Linux: "unchecked MSR access error: RDMSR
 * from 0xe8", "WRMSR to 0x19b", ...).  Probe each feature's MSR once at
 * start; hide the feature when the MSR is missing, keep it where the
 * hardware has it. */
#include "guest_cpuid.h"

#include "platform/log.h"
#include "platform/msr_probe.h"

uint32_t guest_cpuid_hidden_1_ecx, guest_cpuid_hidden_1_edx, guest_cpuid_hidden_6_ecx;

/* A feature bit and the MSR it promises (SDM Vol. 2A CPUID; Vol. 4 MSRs). */
static const struct msr_feature {
	uint32_t leaf;
	uint32_t *hidden;	/* where a missing MSR's bit is collected */
	int reg;		/* 2: ECX, 3: EDX */
	uint32_t bit;
	uint32_t msr;
	const char *name;
} features[] = {
	{ 1, &guest_cpuid_hidden_1_ecx, 2, 1u << 15, 0x345, "PDCM (IA32_PERF_CAPABILITIES)" },
	{ 1, &guest_cpuid_hidden_1_edx, 3, 1u << 22, 0x19b, "ACPI thermal control (IA32_THERM_INTERRUPT)" },
	{ 1, &guest_cpuid_hidden_1_edx, 3, 1u << 29, 0x19c, "thermal monitor (IA32_THERM_STATUS)" },
	{ 6, &guest_cpuid_hidden_6_ecx, 2, 1u << 0, 0xe8, "APERF/MPERF (IA32_APERF)" },
	{ 6, &guest_cpuid_hidden_6_ecx, 2, 1u << 3, 0x1b0, "energy-performance bias (IA32_ENERGY_PERF_BIAS)" },
};

void guest_cpuid_init(void)
{
	uint32_t max, r[4];
	cpuid(0, 0, &max, &r[1], &r[2], &r[3]);
	for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct msr_feature *f = &features[i];
		uint64_t value;
		if (f->leaf > max)
			continue;
		cpuid(f->leaf, 0, &r[0], &r[1], &r[2], &r[3]);
		if (!(r[f->reg] & f->bit) || msr_probe(f->msr, &value))
			continue;
		*f->hidden |= f->bit;
		log_info("cpuid: %s advertised, MSR 0x%x absent: hidden from the guest", f->name, f->msr);
	}
}
