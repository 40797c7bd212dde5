/* ept_views_hw.c — the views' one VMX instruction, apart so that
 * ept_views.c runs in the host tests (SDM Vol. 3C §31.3 "INVEPT"). */
#include "ept_views.h"

#include "platform/log.h"
#include "vmx.h"

void ept_views_invept(struct vcpu *v)
{
	enum vmx_status st = invept(INVEPT_SINGLE_CONTEXT, v->eptp);
	if (st != VMX_OK) {
		char why[128];
		vmx_describe_failure(st, why, sizeof(why));
		log_error("stealth: INVEPT of vCPU %u's EPTP 0x%llx failed: %s", v->index,
			  (unsigned long long)v->eptp, why);
	}
}
