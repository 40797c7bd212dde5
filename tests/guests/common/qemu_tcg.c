/* qemu_tcg.c — the hypervisor leaf exists only behind CPUID.1:ECX bit 31
 * ("hypervisor present"); without it leaf 0x40000000 returns some other
 * leaf's data, so look only when the bit is set. */
#include "kstring.h"
#include "qemu_tcg.h"
#include "x86.h"

#define CPUID_HYPERVISOR_LEAF	0x40000000u

bool running_under_qemu_tcg(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR))
		return false;
	struct cpuid_regs r = cpuid(CPUID_HYPERVISOR_LEAF, 0);
	uint32_t signature[3] = { r.ebx, r.ecx, r.edx };
	return memcmp(signature, "TCGTCGTCGTCG", 12) == 0;
}
