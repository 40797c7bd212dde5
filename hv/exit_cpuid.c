/* exit_cpuid.c — CPUID always exits in VMX non-root (SDM Vol. 3C §27.1.2).
 * The guest sees the real CPU, minus VMX: no nested virtualization. */
#include "exits.h"
#include "platform/cpu.h"

enum exit_action exit_cpuid(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint32_t a, b, c, d;

	cpuid((uint32_t)g->rax, (uint32_t)g->rcx, &a, &b, &c, &d);
	if ((uint32_t)g->rax == 1)
		c &= ~CPUID_1_ECX_VMX;
	g->rax = a;
	g->rbx = b;
	g->rcx = c;
	g->rdx = d;
	return EXIT_ADVANCE;
}
