/* target_exits.c — which exit reasons this CPU can produce at all.  Some
 * exits come only from a VM-execution control; when the capability MSR
 * does not allow that control to be 1 (SDM Vol. 3D, A.3: bits 63:32 are
 * the allowed 1-settings), the capability adjust drops it and the exit
 * never happens, so a hook on it would wait forever. */
#include "target.h"

#include "exits.h"
#include "mtf_probe.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "vmx_caps.h"

extern struct vmx_caps_raw vmx_caps;

/* Exits a control produces (SDM Vol. 3C §26.5.2: MTF) and the feature's name. */
static const struct {
	unsigned reason;
	enum vmx_control_group group;
	unsigned bit;
	const char *feature;
} gated[] = {
	{ EXIT_REASON_MONITOR_TRAP_FLAG, VMX_CTL_PROC, 27, "MTF" },
};

bool target_steps_with_mtf(char *why, size_t len)
{
	mtf_verdict_describe(mtf_verdict(), why, len);
	return mtf_usable();
}

int target_exit_reason_possible(unsigned reason, char *why, size_t len)
{
	for (size_t i = 0; i < sizeof(gated) / sizeof(gated[0]); i++) {
		uint32_t msr;
		uint64_t cap;
		if (gated[i].reason != reason)
			continue;
		if (vmx_caps_control_msr(&vmx_caps, gated[i].group, &msr, &cap) && (cap >> 32 >> gated[i].bit & 1)) {
			/* Advertised is not enough: the boot probe must have seen the exit. */
			if (reason != EXIT_REASON_MONITOR_TRAP_FLAG || mtf_usable())
				return 0;
			char verdict[200];
			mtf_verdict_describe(mtf_verdict(), verdict, sizeof(verdict));
			ksnprintf(why, len, "no %s exit can happen on this CPU: %s", exit_reason_name(reason),
				  verdict);
			return -ENODEV;
		}
		ksnprintf(why, len, "%s is not available on this CPU: MSR 0x%x does not allow %s to be 1, "
			  "so no %s exit can happen", gated[i].feature, msr,
			  vmx_control_name(gated[i].group, gated[i].bit), exit_reason_name(reason));
		return -ENODEV;
	}
	return 0;
}
