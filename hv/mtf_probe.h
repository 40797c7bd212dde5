/* mtf_probe.h — does this CPU's monitor trap flag work?  Book example 4-2;
 * SDM Vol. 3C §26.5.2 (the MTF control), §26.7.2 (when its exit comes).
 *
 * MTF counts as usable only when the capability MSR allows PROC bit 27 to
 * be 1 (IA32_VMX_PROCBASED_CTLS, or the TRUE one when IA32_VMX_BASIC[55])
 * AND an entry with MTF=1 was seen to exit with reason 37.  The second half
 * matters: Bochs 2.7 advertises MTF on its icelake_u and tigerlake models
 * and never delivers the exit (PLATFORM-NOTES).  The probe runs once, at
 * boot, on the BSP, before the guest's first instruction (mtf_probe.c);
 * the debugger then single-steps with MTF, or with RFLAGS.TF and #DB. */
#ifndef HV_MTF_PROBE_H
#define HV_MTF_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mtf_state {
	MTF_NOT_ADVERTISED,	/* the capability MSR says bit 27 must be 0 */
	MTF_NOT_PROBED,		/* advertised, but the probe could not run */
	MTF_NO_EXIT,		/* advertised, probed, and another exit came */
	MTF_WORKS,		/* advertised and exit 37 seen */
};

struct mtf_verdict {
	enum mtf_state state;
	uint32_t msr;		/* the capability MSR consulted (0: none) */
	uint32_t seen;		/* MTF_NO_EXIT: the exit reason the probe got instead */
	const char *why;	/* MTF_NOT_PROBED: why not */
};

/* Pure (mtf_verdict.c, host-tested). */
/* The verdict from what was found: advertised, whether the probe entry
 * ran (launched) and the basic exit reason it ended with. */
void mtf_judge(struct mtf_verdict *m, bool advertised, bool launched, uint32_t exit_reason);
/* "MTF: advertised but no exit observed in the boot probe (...): stepping
 * with TF+#DB" — the line `monitor info` and the boot log show. */
void mtf_verdict_describe(const struct mtf_verdict *m, char *buf, size_t len);

/* Hardware (mtf_probe.c). */
struct vcpu;
struct vmx_caps_raw;
/* After vmcs_setup, before the first VM entry: probes and logs the verdict.
 * Leaves the VMCS as it found it, but launched (the first real entry is a
 * VMRESUME: v->launched says so).  tf_bound: bound the probe by TF+#DB even
 * where the preemption timer exists (selftest=mtf-tf: that path tested). */
void mtf_probe(struct vcpu *v, const struct vmx_caps_raw *caps, bool tf_bound);
const struct mtf_verdict *mtf_verdict(void);
static inline bool mtf_usable(void)
{
	return mtf_verdict()->state == MTF_WORKS;
}

#endif
