/* ept_views_hw.c — the views' one VMX instruction, apart so that
 * ept_views.c runs in the host tests (SDM Vol. 3C §31.3 "INVEPT"). */
#include "ept_views.h"

#include "vmx.h"

void ept_views_invept(struct vcpu *v)
{
	invept(INVEPT_SINGLE_CONTEXT, v->eptp);
}
