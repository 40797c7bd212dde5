/* guest_mode.c — which operating mode the guest is in (SDM Vol. 3A §2.2,
 * Figure 2-3: real-address, protected, virtual-8086, IA-32e with its
 * 64-bit and compatibility sub-modes) and which paging (§5.1.1). */
#include "guest_mode.h"

#include "platform/fmt.h"

#define CR0_PE (1ull << 0)
#define EFER_LMA (1ull << 10)
#define RFLAGS_VM (1ull << 17)
#define CS_AR_L (1u << 13)
#define CS_AR_D (1u << 14)

void guest_mode_describe(const struct guest_paging *p, uint32_t cs_ar, uint64_t rflags,
			 char *buf, size_t len)
{
	const char *mode = !(p->cr0 & CR0_PE) ? "real mode" :
			   (p->efer & EFER_LMA) ? ((cs_ar & CS_AR_L) ? "64-bit mode" : "compatibility mode") :
			   (rflags & RFLAGS_VM) ? "virtual-8086 mode" : "protected mode";

	/* Paging needs protection (CR0.PG=1 with PE=0 does not pass VM entry). */
	if ((p->cr0 & CR0_PE) && (p->cr0 & GUEST_CR0_PG))
		ksnprintf(buf, len, "%s, %s paging", mode, guest_paging_mode_name(p));
	else
		ksnprintf(buf, len, "%s, paging off", mode);
}

unsigned guest_code_bits(uint64_t efer, uint32_t cs_ar, uint64_t rflags)
{
	if ((efer & EFER_LMA) && (cs_ar & CS_AR_L))
		return 64;
	if (rflags & RFLAGS_VM)
		return 16;
	return (cs_ar & CS_AR_D) ? 32 : 16;
}
