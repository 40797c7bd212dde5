/* exit_misc.c — the instruction exits with short answers: XSETBV, INVD,
 * WBINVD, HLT, the VMX instructions, and the events that end a guest. */
#include "apic_virtual.h"
#include "debugger.h"
#include "event_monitor.h"
#include "exits.h"
#include "ext_interrupt.h"
#include "vcpu_ap.h"
#include "vcpu_kick.h"
#include "platform/cpu.h"
#include "platform/log.h"
#include "serial/console.h"
#include "vmx.h"

#define RFLAGS_IF (1ull << 9)
#define ACTIVITY_HLT 1
#define CR4_OSXSAVE (1ull << 18)

/* XSETBV always exits (SDM Vol. 3C §27.1.2).  Validate as the CPU would
 * (SDM Vol. 2 XSETBV: #GP for XCR other than 0, x87 bit clear, AVX without
 * SSE, bits the CPU does not support, CR4.OSXSAVE clear), then load it:
 * XCR0 is not switched between root and non-root, so the guest's value is
 * the live one.  The guest's CR4.OSXSAVE is in GUEST_CR4 unless the
 * CR4 guest/host mask gives the bit to the read shadow (§25.6.6). */
enum exit_action exit_xsetbv(struct vcpu *v)
{
	struct guest_gprs *g = v->gprs;
	uint64_t value = (g->rdx << 32) | (uint32_t)g->rax;
	uint64_t cr4 = (vmread(GUEST_CR4) & ~v->cr4_mask) | (vmread(CR4_READ_SHADOW) & v->cr4_mask);
	uint32_t a, b, c, d;

	cpuid(0xd, 0, &a, &b, &c, &d);
	uint64_t supported = ((uint64_t)d << 32) | a;
	if ((uint32_t)g->rcx != 0 || !(value & 1) || (value & ~supported) ||
	    ((value & 4) && !(value & 2)) || !(cr4 & CR4_OSXSAVE)) {
		inject_gp(v);
		return EXIT_RESUME;
	}
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
	return EXIT_ADVANCE;
}

/* INVD always exits; throwing away dirty lines would corrupt the
 * hypervisor's memory too, so write them back instead. */
enum exit_action exit_invd(struct vcpu *v)
{
	(void)v;
	__asm__ volatile("wbinvd" ::: "memory");
	return EXIT_ADVANCE;
}

enum exit_action exit_wbinvd(struct vcpu *v)
{
	return exit_invd(v);
}

/* VMX instructions always exit in non-root operation (SDM Vol. 3C
 * §27.1.2); the guest's CPUID says there is no VMX, so they are #UD. */
enum exit_action exit_vmx_instruction(struct vcpu *v)
{
	unsigned reason = (unsigned)vmread(VM_EXIT_REASON) & 0xffff;
	log_info("guest: %s at RIP 0x%llx refused with #UD: VMX is hidden", exit_reason_name(reason),
		 (unsigned long long)vmread(GUEST_RIP));
	inject_ud(v);
	return EXIT_RESUME;
}

/* HLT: with interrupts enabled, halt in non-root (activity state HLT, SDM
 * Vol. 3C §25.4.2) so the next interrupt wakes the guest where real hardware
 * would.  With interrupts disabled nothing can ever wake it: say so. */
static bool another_vcpu_runs(const struct vcpu *v)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (&vcpus[i] != v && vcpus[i].state == VCPU_RUNNING)
			return true;
	return false;
}

enum exit_action exit_hlt(struct vcpu *v)
{
	uint64_t rip = vmread(GUEST_RIP);
	/* `sti; hlt`: the STI shadow ends with the HLT, and a halted guest may
	 * not be in one (SDM Vol. 3C §27.3.1.5). */
	vmwrite(GUEST_INTERRUPTIBILITY_STATE, vmread(GUEST_INTERRUPTIBILITY_STATE) & ~3ull);
	/* A debug trap the HLT owes (the guest single-steps it) is an event
	 * that ends the halt: deliver it before any halt (book §4.13.3), or the
	 * guest would sit halted in its #DB handler with IF clear. */
	if (guest_single_step_trap(v)) {
		vmwrite(GUEST_RIP, rip + vmread(VM_EXIT_INSTRUCTION_LENGTH));
		return EXIT_RESUME;
	}
	/* With IF=0 only an NMI, INIT or SMI ends the halt (SDM Vol. 2A HLT):
	 * another running vCPU can send one (an AP parked by its kernel with
	 * cli; hlt), a lone vCPU never wakes. */
	if (!(vmread(GUEST_RFLAGS) & RFLAGS_IF) && !another_vcpu_runs(v))
		return exit_stop(v, "HLT with interrupts disabled at RIP 0x%llx: the guest can never wake",
				 (unsigned long long)rip);
	vmwrite(GUEST_RIP, rip + vmread(VM_EXIT_INSTRUCTION_LENGTH));
	/* An MTF step over the HLT ends after it, before the halt: no MTF
	 * exit would come until an event woke it (SDM Vol. 3C §26.7.2).  The
	 * guest sees an early wake, as after a spurious event; an idle loop
	 * halts again. */
	if (v->step_mtf) {
		debugger_after_emulation(v);
		return EXIT_RESUME;
	}
	if (apic_virtual && apic_virtual_hlt_wakes(v))
		return EXIT_RESUME;	/* an interrupt already waits: the halt ends at once */
	vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	return EXIT_RESUME;
}

/* The debugger's own #BP (an INT3, SDM Vol. 3C §25.9.2) and #DB, hooked
 * or not: true when it consumed the event. */
bool exception_is_debuggers(struct vcpu *v, uint32_t info)
{
	unsigned vector = info & 0xff, type = (info >> 8) & 7;

	if (type == 2)	/* an NMI: another vCPU's call, or the guest's own */
		return vcpu_nmi_exit_was_kick(v);
	if (vector == 3 && type == 6)
		return debugger_on_breakpoint(v);
	return vector == 1 && debugger_on_debug_exception(v, vmread(EXIT_QUALIFICATION));
}

#define DR6_B0_B3 0xfull
#define DR6_BD (1ull << 13)
#define DR6_BS (1ull << 14)

/* An exception that exits leaves CR2 (#PF) and DR6 (#DB) as they were; the
 * exit qualification says what the CPU would have written (SDM Vol. 3C
 * §28.1, §28.2.1).  Neither register is switched by VMX: root mode holds
 * the guest's, so they are written here, before the re-injection.  DR6's
 * B0-B3 are replaced, BD and BS added, as a delivered #DB would (SDM Vol.
 * 3B §19.2.3). */
static void exception_side_effects(unsigned vector)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);

	if (vector == 14) {
		write_cr2(q);
	} else if (vector == 1) {
		uint64_t dr6;
		__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
		dr6 = (dr6 & ~DR6_B0_B3) | (q & (DR6_B0_B3 | DR6_BD | DR6_BS));
		__asm__ volatile("mov %0, %%dr6" : : "r"(dr6));
	}
}

/* The guest's own exception or NMI goes back into the guest as it came. */
static void reflect_event(struct vcpu *v, uint32_t info)
{
	unsigned vector = info & 0xff, type = (info >> 8) & 7;

	if (type == 2) {	/* the guest's NMI: it gets it as soon as it can take one */
		v->pending_nmi = true;
		inject_pending_events(v);
		return;
	}
	if (type == 5 || type == 6) {
		/* INT1, INT3, INTO go back as what they are, with their length: the
		 * guest's handler must see RIP after the instruction (SDM Vol. 3C
		 * §27.6.1.1), as a hardware-exception #BP would not give it.  Linux
		 * checks: its int3 self-test and text_poke_bp() find their own int3
		 * by regs->ip - 1, and die when it is not there. */
		vmwrite(VM_ENTRY_INTERRUPTION_INFO, (1u << 31) | (type << 8) | vector);
		vmwrite(VM_ENTRY_INSTRUCTION_LENGTH, vmread(VM_EXIT_INSTRUCTION_LENGTH));
		return;
	}
	exception_side_effects(vector);
	inject_exception(v, vector, info & (1u << 11), (uint32_t)vmread(VM_EXIT_INTERRUPTION_ERROR_CODE));
}

/* Only exceptions in the exception bitmap exit, NMIs always: the
 * debugger's #BP/#DB and NMI kicks are consumed; the guest's own go back
 * to it, after the hooks of a watched vector (event_monitor.c).  A hook's
 * "skip" swallows the event: a fault's instruction runs again, INT3, INT1
 * and INTO are stepped over, an NMI is dropped. */
enum exit_action exit_exception_nmi(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VM_EXIT_INTERRUPTION_INFO);
	unsigned vector = info & 0xff, type = (info >> 8) & 7;

	if (exception_is_debuggers(v, info))
		return EXIT_RESUME;
	enum hook_verdict verdict = event_exception_watched(vector) ? event_hooks_run(v, info) : HOOK_DEFAULT;
	if (verdict == HOOK_SKIP)
		return type == 5 || type == 6 ? EXIT_ADVANCE : EXIT_RESUME;
	reflect_event(v, info);
	if (verdict == HOOK_STOP)
		exit_hook_stop(v);
	return EXIT_RESUME;
}

/* Pass-through: exits only while a script watches external interrupts
 * (event_monitor.c; delivery: ext_interrupt.c).  apic=virtual: every
 * interrupt, acknowledged on exit, delivered through the virtual APIC. */
enum exit_action exit_external_interrupt(struct vcpu *v)
{
	if (apic_virtual)
		return apic_virtual_interrupt(v);
	ext_interrupt_passthrough(v);
	return EXIT_RESUME;
}

/* The guest can take the held interrupt/NMI now; a deferred external
 * interrupt may exit again (ext_interrupt.c). */
enum exit_action exit_interrupt_window(struct vcpu *v)
{
	if (apic_virtual)
		apic_virtual_window(v);
	else
		ext_interrupt_window(v);
	inject_pending_events(v);
	return EXIT_RESUME;
}

enum exit_action exit_nmi_window(struct vcpu *v)
{
	inject_pending_events(v);
	return EXIT_RESUME;
}

/* Every BREAKIN_POLL_TICKS of guest time, however rarely the guest exits:
 * a break-in poll (the exit path adds one by TSC deadline, for guests that
 * exit all the time; the common exit never pays for an `inb`). */
enum exit_action exit_preemption_timer(struct vcpu *v)
{
	v->preemption_ticks = debugger_poll_period();	/* a debugger or a timer hook may have come */
	vmwrite(VMX_PREEMPTION_TIMER_VALUE, v->preemption_ticks);
	if (v->rearm_by_timer)
		debugger_rearm_after_delivery(v);
	debugger_poll(v);
	console_tick();
	return EXIT_RESUME;
}

enum exit_action exit_triple_fault(struct vcpu *v)
{
	return exit_stop(v, "triple fault at RIP 0x%llx (the guest would have reset the machine)",
			 (unsigned long long)vmread(GUEST_RIP));
}

enum exit_action exit_init_sipi(struct vcpu *v)
{
	unsigned reason = (unsigned)vmread(VM_EXIT_REASON) & 0xffff;
	if (reason == EXIT_REASON_INIT)
		vcpu_init_exit(v);
	else
		vcpu_sipi_exit(v, (uint8_t)vmread(EXIT_QUALIFICATION));
	return EXIT_RESUME;
}
