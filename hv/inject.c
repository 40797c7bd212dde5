/* inject.c — event injection through the VM-entry interruption-information
 * field (SDM Vol. 3C §25.8.3 format, §27.6 delivery; book ch. 6). */
#include "exits.h"
#include "vmx.h"

#define INTR_INFO_VALID (1u << 31)
#define INTR_INFO_DELIVER_ERROR (1u << 11)
#define INTR_TYPE_EXTERNAL (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)

#define RFLAGS_RF (1ull << 16)

/* Fault-class exceptions (SDM Vol. 3A Table 6-1); #DB is a fault only for
 * an instruction breakpoint, whose image has RF clear, so it is not here. */
static bool is_fault(unsigned vector)
{
	return vector < 32 && ((1u << vector) & ((1u << 0) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 10) |
						 (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 16) |
						 (1u << 17) | (1u << 19) | (1u << 20) | (1u << 21)));
}

void inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
	(void)v;
	/* The CPU sets RF in the EFLAGS image of every fault it delivers so the
	 * restarted instruction does not hit its own instruction breakpoint
	 * again (SDM Vol. 3A §18.3.1.1); an injected event pushes RFLAGS as the
	 * guest-state area holds it, so the fault's RF is ours to set (SDM Vol.
	 * 3C §27.6.1.1). */
	if (is_fault(vector))
		vmwrite(GUEST_RFLAGS, vmread(GUEST_RFLAGS) | RFLAGS_RF);
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | (vector & 0xff);
	/* In real mode no error code is pushed (SDM §27.2.1.3 checks this). */
	if (has_error && (vmread(GUEST_CR0) & 1)) {
		info |= INTR_INFO_DELIVER_ERROR;
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmwrite(VM_ENTRY_INTERRUPTION_INFO, info);
}

#define INTR_INFO_TYPE(info) (((info) >> 8) & 7)
#define INTR_TYPE_SOFT_INTERRUPT 4
#define INTR_TYPE_PRIV_SOFT_EXCEPTION 5
#define INTR_TYPE_SOFT_EXCEPTION 6
#define BLOCKING_BY_NMI (1ull << 3)

/* A VM exit that interrupted the delivery of an event (an EPT violation on
 * the IDT or the handler's stack, say) leaves that event undelivered: the
 * IDT-vectoring information names it, and the VMM must inject it again or
 * the guest loses it — an external interrupt already acknowledged at the
 * PIC, an NMI, an exception (SDM Vol. 3C §27.2.4, §28.2.4 "Information for
 * VM Exits During Event Delivery"; book §3.10.3). */
bool inject_vectoring_event(struct vcpu *v)
{
	(void)v;
	uint32_t vectoring = (uint32_t)vmread(IDT_VECTORING_INFO);
	if (!(vectoring & INTR_INFO_VALID))
		return false;
	/* Bit 12 of the vectoring field is undefined; in the entry field it is reserved. */
	uint32_t info = vectoring & ~(1u << 12);
	unsigned type = INTR_INFO_TYPE(info);
	if (info & INTR_INFO_DELIVER_ERROR)
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, vmread(IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SOFT_INTERRUPT || type == INTR_TYPE_PRIV_SOFT_EXCEPTION ||
	    type == INTR_TYPE_SOFT_EXCEPTION)
		vmwrite(VM_ENTRY_INSTRUCTION_LENGTH, vmread(VM_EXIT_INSTRUCTION_LENGTH));
	/* An NMI whose delivery was cut short did not block NMIs yet, and
	 * injecting one requires that it does not (SDM Vol. 3C §26.3.1.5). */
	if (type == 2)
		vmwrite(GUEST_INTERRUPTIBILITY_STATE, vmread(GUEST_INTERRUPTIBILITY_STATE) & ~BLOCKING_BY_NMI);
	vmwrite(VM_ENTRY_INTERRUPTION_INFO, info);
	return true;
}

#define RFLAGS_TF (1ull << 8)
#define PENDING_DBG_B0_3 0xfull
#define PENDING_DBG_BS (1ull << 14)

/* An instruction the hypervisor completed for the guest (every exit that
 * advances RIP) still owes the guest the single-step trap its RFLAGS.TF
 * asks for: the exit came before the instruction completed, so the CPU
 * recorded none.  A pending debug exception is delivered by the next VM
 * entry (SDM Vol. 3C §26.6.3).  While the debugger steps, TF is its own
 * and debugger.c ends the step instead. */
bool guest_single_step_trap(struct vcpu *v)
{
	uint64_t pending = vmread(GUEST_PENDING_DEBUG_EXCEPTIONS);
	if ((vmread(GUEST_RFLAGS) & RFLAGS_TF) && !v->stepping && !v->rearm_step) {
		pending |= PENDING_DBG_BS;
		vmwrite(GUEST_PENDING_DEBUG_EXCEPTIONS, pending);
	}
	return pending & (PENDING_DBG_B0_3 | PENDING_DBG_BS);
}
