/* exit_ept.c — EPT violations and misconfigurations (SDM Vol. 3C §29.3.3;
 * book ch. 7).  A violation means the guest touched memory it does not own
 * (the hypervisor's region, or a page a debugger protected): report it in
 * full and stop the guest — never serve it silently.  The one violation
 * served is a store to the guest's own xAPIC page, write-protected so that
 * its INIT/SIPI can be caught (apic_mmio.c). */
#include "apic_mmio.h"
#include "debugger.h"
#include "ept_views.h"
#include "exits.h"
#include "platform/log.h"
#include "vmx.h"
#include "vmx_msr.h"

#define PENDING_DBG_BS (1ull << 14)
#define QUAL_WRITE (1ull << 1)
#define PAGE_MASK (~0xfffull)
#define BLOCKING_MOV_SS (1ull << 1)

/* An EPT violation is fault-like: the instruction did not complete, so no
 * single-step trap is due for it (SDM Vol. 3C §27.3.4).  Bochs saves BS in
 * the pending debug exceptions all the same when TF was set (the re-arm
 * step's, on the second page of an instruction touching two watched
 * pages), and delivers it at the next entry, before the instruction, which
 * then never completes.  A BS held by MOV-SS blocking belongs to the
 * instruction before (SDM Vol. 3A §6.8.3) and stays. */
static void drop_single_step_trap(void)
{
	uint64_t pending = vmread(GUEST_PENDING_DEBUG_EXCEPTIONS);
	if ((pending & PENDING_DBG_BS) && !(vmread(GUEST_INTERRUPTIBILITY_STATE) & BLOCKING_MOV_SS))
		vmwrite(GUEST_PENDING_DEBUG_EXCEPTIONS, pending & ~PENDING_DBG_BS);
}

/* The hypervisor's own part of every EPT violation, hooked or not: the
 * event whose delivery it interrupted goes back in, and a debugger watch
 * page is opened for one step (true: the violation was the watch's). */
/* An EPT violation during the guest's IRET from its NMI handler ended
 * virtual-NMI blocking before the exit (qualification bit 12, "NMI
 * unblocking due to IRET"); the IRET runs again, so blocking is put back
 * (SDM Vol. 3C §28.2.3 "Information About NMI Unblocking Due to IRET"). */
static void nmi_unblocking_undone(struct vcpu *v, uint64_t q)
{
	if ((q & (1u << 12)) && (v->pin_ctls & VMX_PIN_VIRTUAL_NMIS) &&
	    !(vmread(IDT_VECTORING_INFO) & (1u << 31)))
		vmwrite(GUEST_INTERRUPTIBILITY_STATE, vmread(GUEST_INTERRUPTIBILITY_STATE) | (1u << 3));
}

bool ept_violation_bookkeeping(struct vcpu *v, uint64_t gpa, uint64_t q)
{
	nmi_unblocking_undone(v, q);
	inject_vectoring_event(v);
	if (!ept_watch_on_violation(v, gpa, q) && !ept_views_on_violation(v, gpa, q, vmread(GUEST_RIP)))
		return false;
	drop_single_step_trap();
	return true;
}

bool apic_page_write(struct vcpu *v, uint64_t gpa, uint64_t q, enum exit_action *action)
{
	if (!(q & QUAL_WRITE) || (gpa & PAGE_MASK) != apic_mmio_protected_page())
		return false;
	/* Bochs' BS (above) would be a second step trap: the emulation owes
	 * the one single-step trap itself (vcpu_advance_rip). */
	drop_single_step_trap();
	nmi_unblocking_undone(v, q);
	*action = apic_mmio_write(v, gpa, q);
	return true;
}

enum exit_action exit_ept_violation(struct vcpu *v)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);
	uint64_t gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	enum exit_action action;
	char what[160];

	/* Ahead of the watch bookkeeping: the APIC page's write right is
	 * never opened for a watch's step. */
	if (apic_page_write(v, gpa, q, &action))
		return action;
	if (ept_violation_bookkeeping(v, gpa, q))
		return EXIT_RESUME;	/* a debugger watch page: one step, then re-armed */
	ept_violation_describe(q, what, sizeof(what));
	log_error("ept: violation at GPA 0x%llx: %s", (unsigned long long)gpa, what);
	if (q & (1u << 7))
		log_error("ept: guest linear address 0x%llx, RIP 0x%llx",
			  (unsigned long long)vmread(GUEST_LINEAR_ADDRESS), (unsigned long long)vmread(GUEST_RIP));
	return exit_stop(v, "EPT violation at guest-physical 0x%llx (qualification 0x%llx)",
			 (unsigned long long)gpa, (unsigned long long)q);
}

enum exit_action exit_ept_misconfig(struct vcpu *v)
{
	uint64_t gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	struct ept_mapping m;
	if (ept_query(&v->ept, gpa, &m) == 0)
		log_error("ept: misconfigured entry for GPA 0x%llx: level %d, memory type %u, perms 0x%x",
			  (unsigned long long)gpa, m.level, m.memtype, m.perms);
	return exit_stop(v, "EPT misconfiguration at guest-physical 0x%llx", (unsigned long long)gpa);
}
