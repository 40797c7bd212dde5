/* exit_cpuid.c — CPUID always exits in VMX non-root (SDM Vol. 3C §27.1.2).
 * The guest sees the CPU as guest_cpuid() describes it. */
#include "exits.h"
#include "guest_cpuid.h"

enum exit_action exit_cpuid(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint32_t r[4];

	guest_cpuid((uint32_t)g->rax, (uint32_t)g->rcx, r);
	g->rax = r[0];
	g->rbx = r[1];
	g->rcx = r[2];
	g->rdx = r[3];
	return EXIT_ADVANCE;
}
