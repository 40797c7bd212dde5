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
#include "vmx_msr.h"

extern struct vmx_caps_raw vmx_caps;

/* Exits a control produces and the feature's name: MTF (SDM Vol. 3C
 * §26.5.2); external interrupts, which a hook can only see with
 * external-interrupt exiting and the vector acknowledged on exit (§26.2,
 * §25.7.1; event_monitor.c turns both on while it is hooked). */
static const struct {
	unsigned reason;
	enum vmx_control_group group;
	unsigned bit;
	const char *feature;
} gated[] = {
	{ EXIT_REASON_MONITOR_TRAP_FLAG, VMX_CTL_PROC, 27, "MTF" },
	{ EXIT_REASON_EXTERNAL_INTERRUPT, VMX_CTL_PIN, 0, "external-interrupt exiting" },
	{ EXIT_REASON_EXTERNAL_INTERRUPT, VMX_CTL_EXIT, 15, "acknowledge interrupt on exit" },
};

bool target_steps_with_mtf(char *why, size_t len)
{
	mtf_verdict_describe(mtf_verdict(), why, len);
	return mtf_usable();
}

static int control_possible(enum vmx_control_group group, unsigned bit, const char *feature, const char *what,
			    char *why, size_t len)
{
	uint32_t msr;
	uint64_t cap;
	if (vmx_caps_control_msr(&vmx_caps, group, &msr, &cap) && (cap >> 32 >> bit & 1))
		return 0;
	ksnprintf(why, len, "%s is not available on this CPU: MSR 0x%x does not allow %s to be 1, "
		  "so no %s can happen", feature, msr, vmx_control_name(group, bit), what);
	return -ENODEV;
}

int target_exit_reason_possible(unsigned reason, char *why, size_t len)
{
	for (size_t i = 0; i < sizeof(gated) / sizeof(gated[0]); i++) {
		char what[48];
		if (gated[i].reason != reason)
			continue;
		ksnprintf(what, sizeof(what), "%s exit", exit_reason_name(reason));
		int rc = control_possible(gated[i].group, gated[i].bit, gated[i].feature, what, why, len);
		if (rc)
			return rc;
		/* Advertised is not enough for MTF: the boot probe must have seen the exit. */
		if (reason == EXIT_REASON_MONITOR_TRAP_FLAG && !mtf_usable()) {
			char verdict[200];
			mtf_verdict_describe(mtf_verdict(), verdict, sizeof(verdict));
			ksnprintf(why, len, "no %s exit can happen on this CPU: %s", exit_reason_name(reason),
				  verdict);
			return -ENODEV;
		}
	}
	return 0;
}

/* SDM Vol. 3A Table 6-1: 15 and 22-31 are reserved; #MC (18) is the
 * hypervisor's (the guest is shown no MCE/MCA). */
#define RESERVED_VECTORS ((1u << 15) | 0xffc00000u)

int target_exception_hook_possible(unsigned vector, char *why, size_t len)
{
	if (vector >= 32) {
		ksnprintf(why, len, "vector %u is not an exception (0-31): external interrupts are hooked with "
			  "hv.on_exit(\"EXTERNAL_INTERRUPT\", fn) and e.vector; INT n causes no VM exit (SDM Vol. 3C "
			  "§26.2), so it cannot be hooked; INT3, INT1 and INTO are exceptions 3, 1 and 4", vector);
		return -EINVAL;
	}
	if (RESERVED_VECTORS >> vector & 1) {
		ksnprintf(why, len, "vector %u is reserved (SDM Vol. 3A Table 6-1): the CPU never raises it", vector);
		return -EINVAL;
	}
	if (vector == 18) {
		ksnprintf(why, len, "#MC (18) is not hookable: a machine check is the hypervisor's business "
			  "(the guest is shown no MCE/MCA)");
		return -EINVAL;
	}
	if (vector == 2 && !(vcpus[0].pin_ctls & VMX_PIN_NMI_EXITING))
		return control_possible(VMX_CTL_PIN, 3, "NMI exiting", "NMI exit", why, len);
	return 0;
}
