/* mtf_probe.c — the boot probe of the monitor trap flag (mtf_probe.h).
 *
 * The guest's first instruction is replaced, for the probe only, by
 * `jmp $` (EB FE: one instruction that leaves RIP where it was), and the
 * VMCS is entered with MTF=1.  Working MTF exits after that one instruction
 * (reason 37, SDM Vol. 3C §26.7.2).  A missing MTF exit cannot hang the
 * boot: the VMX-preemption timer bounds the probe (exit 52 after
 * PROBE_TICKS of guest time), or, on a CPU without the timer, RFLAGS.TF with
 * #DB intercepted (exit 0 after the same one instruction; a TF trap ranks
 * below a pending MTF exit, so it cannot hide a working MTF).  The exit
 * comes back here, not to the exit dispatcher: vmx_probe_launch (vmexit.S)
 * points HOST_RSP/HOST_RIP at itself for this one entry.  Everything the
 * probe changed — the guest's two bytes, RFLAGS, the controls, the
 * exception bitmap, the timer, the host RSP/RIP — is put back; the VMCS
 * stays launched, so the first real entry is a VMRESUME. */
#include "mtf_probe.h"

#include "platform/cpu.h"
#include "platform/log.h"
#include "target.h"
#include "vmx.h"
#include "vmx_caps.h"

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define EXC_DB (1u << 1)
#define AR_L (1u << 13)		/* CS.L: 64-bit code, no base */
#define EFER_LMA (1ull << 10)
#define PROBE_TICKS 4096u

int vmx_probe_launch(void);	/* vmexit.S: 0 after a VM exit, else 1/2 (CF/ZF) */

static struct mtf_verdict verdict;

const struct mtf_verdict *mtf_verdict(void)
{
	return &verdict;
}

/* The linear address of the guest's next instruction (SDM Vol. 3A §3.4.4:
 * CS.base + RIP; no base in 64-bit mode, 32 bits outside it). */
static uint64_t guest_code_linear(void)
{
	uint64_t rip = vmread(GUEST_RIP);
	if ((vmread(GUEST_IA32_EFER) & EFER_LMA) && (vmread(GUEST_CS_ACCESS_RIGHTS) & AR_L))
		return rip;
	return (vmread(GUEST_CS_BASE) + rip) & 0xffffffffull;
}

/* One entry with MTF=1 at `jmp $`; *reason: the exit it ended with.
 * False (verdict.why set) when the probe could not run. */
static bool probe_entry(struct vcpu *v, bool tf_bound, uint32_t *reason)
{
	static const uint8_t jmp_self[2] = { 0xeb, 0xfe };
	uint64_t at = guest_code_linear();
	uint8_t saved[2];

	if (target_read_virt(v, at, saved, 2) || target_write_virt(v, at, jmp_self, 2)) {
		verdict.why = "the guest's first instruction is not in writable guest memory";
		return false;
	}
	bool timer = !tf_bound && (v->pin_ctls & VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER);
	uint64_t rflags = vmread(GUEST_RFLAGS), host_rsp = vmread(HOST_RSP), host_rip = vmread(HOST_RIP);
	uint64_t pending = vmread(GUEST_PENDING_DEBUG_EXCEPTIONS), bitmap = vmread(EXCEPTION_BITMAP);

	/* IF=0: no guest interrupt handler runs during the probe. */
	vmwrite(GUEST_RFLAGS, (rflags & ~RFLAGS_IF) | (timer ? 0 : RFLAGS_TF));
	if (timer)
		vmwrite(VMX_PREEMPTION_TIMER_VALUE, PROBE_TICKS);
	else
		vmwrite(EXCEPTION_BITMAP, bitmap | EXC_DB);
	vmwrite(PRIMARY_VM_EXEC_CONTROL, v->proc_ctls | VMX_PROC_MONITOR_TRAP_FLAG);
	int status = vmx_probe_launch();
	uint64_t exit_reason = 0;
	if (!status)
		exit_reason = vmread(VM_EXIT_REASON);

	vmwrite(PRIMARY_VM_EXEC_CONTROL, v->proc_ctls);
	vmwrite(EXCEPTION_BITMAP, bitmap);
	if (timer)
		vmwrite(VMX_PREEMPTION_TIMER_VALUE, v->preemption_ticks);
	vmwrite(GUEST_RFLAGS, rflags);
	vmwrite(GUEST_PENDING_DEBUG_EXCEPTIONS, pending);
	vmwrite(HOST_RSP, host_rsp);
	vmwrite(HOST_RIP, host_rip);
	target_write_virt(v, at, saved, 2);

	if (status) {
		verdict.why = "VMLAUNCH failed";
		return false;
	}
	if (exit_reason & (1u << 31)) {
		verdict.why = "the probe's VM entry failed";	/* the real one will say why */
		return false;
	}
	/* A VMCS that exited is launched: VMLAUNCH would now fail (SDM Vol. 3C §31.3). */
	v->launched = true;
	*reason = (uint32_t)exit_reason;
	return true;
}

void mtf_probe(struct vcpu *v, const struct vmx_caps_raw *caps, bool tf_bound)
{
	uint64_t cap = 0;
	bool advertised = vmx_caps_control_msr(caps, VMX_CTL_PROC, &verdict.msr, &cap) &&
			  ((cap >> 32) & VMX_PROC_MONITOR_TRAP_FLAG);
	uint32_t reason = 0;
	uint64_t start = rdtsc();
	bool ran = advertised && probe_entry(v, tf_bound, &reason);
	uint64_t ticks = rdtsc() - start;
	char line[200];

	mtf_judge(&verdict, advertised, ran, reason);
	mtf_verdict_describe(&verdict, line, sizeof(line));
	if (advertised)
		log_info("vmx: %s (the probe took %llu TSC ticks)", line, (unsigned long long)ticks);
	else
		log_info("vmx: %s", line);
}
