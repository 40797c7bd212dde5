/* mtf_verdict.c — the MTF probe's verdict in words (mtf_probe.h).  Pure:
 * host tests judge made-up findings. */
#include "mtf_probe.h"

#include "platform/fmt.h"
#include "vmcs_table.h"
#include "vmx_msr.h"

#define EXIT_MTF 37u	/* SDM Vol. 3C Appendix C */

void mtf_judge(struct mtf_verdict *m, bool advertised, bool launched, uint32_t exit_reason)
{
	m->seen = 0;
	if (!advertised) {
		m->state = MTF_NOT_ADVERTISED;
	} else if (!launched) {
		m->state = MTF_NOT_PROBED;
		if (!m->why)
			m->why = "the probe entry failed";
	} else if ((exit_reason & 0xffff) == EXIT_MTF) {
		m->state = MTF_WORKS;
	} else {
		m->state = MTF_NO_EXIT;
		m->seen = exit_reason & 0xffff;
	}
}

void mtf_verdict_describe(const struct mtf_verdict *m, char *buf, size_t len)
{
	const char *msr = m->msr ? vmx_msr_name(m->msr) : "no PROCBASED_CTLS MSR";

	switch (m->state) {
	case MTF_WORKS:
		ksnprintf(buf, len, "MTF: advertised (%s allows bit 27) and its exit (reason 37) observed in the "
			  "boot probe: stepping with MTF", msr);
		break;
	case MTF_NO_EXIT:
		ksnprintf(buf, len, "MTF: advertised but no exit observed in the boot probe (exit %u %s came "
			  "instead, as under Bochs 2.7): stepping with TF+#DB", m->seen, exit_reason_name(m->seen));
		break;
	case MTF_NOT_PROBED:
		ksnprintf(buf, len, "MTF: advertised but not probed (%s): stepping with TF+#DB", m->why);
		break;
	case MTF_NOT_ADVERTISED:
	default:
		ksnprintf(buf, len, "MTF: not advertised (%s does not allow bit 27 MONITOR_TRAP_FLAG to be 1): "
			  "stepping with TF+#DB", msr);
		break;
	}
}
