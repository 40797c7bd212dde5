/* vmcs_setup.c — filling a fresh VMCS, in the book's order (ch. 3): the
 * VM-execution controls, the VM-exit and VM-entry controls, the host-state
 * area, then the guest-state area.  Every control value goes through the
 * capability adjust (SDM Vol. 3D §A.3), so a bit the CPU lacks is dropped
 * with a message rather than failing the entry. */
#include "vmcs_setup.h"
#include "trace.h"

#include "apic_base.h"
#include "apic_virtual.h"
#include "debugger.h"
#include "exits.h"
#include "io_ports.h"
#include "platform/acpi.h"
#include "platform/machine.h"
#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/gdt.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "platform/percpu.h"
#include "platform/trap.h"
#include "vmx.h"
#include "vmx_msr.h"

#define MSR_IA32_PAT 0x277
#define MSR_IA32_DEBUGCTL 0x1d9
#define EXIT_STACK_PAGES 4

extern uint8_t vmexit_entry[];

void vmwrite(uint32_t field, uint64_t value)
{
	enum vmx_status st = vmwrite_checked(field, value);
	if (st != VMX_OK) {
		const struct vmcs_field_info *f = vmcs_field_by_encoding(field);
		char why[128];
		vmx_describe_failure(st, why, sizeof(why));
		log_error("vmx: VMWRITE %s (0x%x) <- 0x%llx failed: %s", f ? f->name : "?", field,
			  (unsigned long long)value, why);
	}
}

/* wanted: bits we would like; required: bits we cannot run without. */
static int adjust(const struct vmx_caps_raw *caps, enum vmx_control_group group, const char *name,
		  uint32_t wanted, uint32_t required, uint32_t *out)
{
	uint32_t msr, missing = 0;
	uint64_t cap;

	if (!vmx_caps_control_msr(caps, group, &msr, &cap)) {
		*out = 0;
		if (required) {
			log_error("vmx: %s controls are not available on this CPU", name);
			return -ENODEV;
		}
		return 0;
	}
	if (vmx_adjust_controls(cap, wanted, required, out, &missing)) {
		for (unsigned b = 0; b < 32; b++)
			if (missing & (1u << b))
				log_error("vmx: %s control %s (bit %u) is required but %s does not allow it",
					  name, vmx_control_name(group, b), b, vmx_msr_name(msr));
		return -ENODEV;
	}
	uint32_t dropped = (wanted & ~*out);
	for (unsigned b = 0; b < 32; b++)
		if (dropped & (1u << b))
			log_info("vmx: %s control %s not available; running without it", name,
				 vmx_control_name(group, b));
	return 0;
}

static int setup_controls(struct vcpu *v, const struct vmx_caps_raw *caps)
{
	struct apic_virtual_controls apic = apic_virtual_wanted();	/* zero in pass-through */
	int rc = 0;

	/* NMI exiting: another processor's NMI is how a vCPU is called out of
	 * the guest (all-stop, a guest's SIPI: vcpu_kick.c); the guest's own
	 * NMIs are handed back (exit_exception_nmi).  Virtual NMIs give the
	 * NMI-window exit for that (SDM Vol. 3C §25.3, §26.7.2). */
	rc |= adjust(caps, VMX_CTL_PIN, "pin-based",
		     VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER | VMX_PIN_NMI_EXITING | VMX_PIN_VIRTUAL_NMIS, apic.pin,
		     &v->pin_ctls);
	rc |= adjust(caps, VMX_CTL_PROC, "primary processor-based",
		     VMX_PROC_HLT_EXITING,
		     VMX_PROC_USE_IO_BITMAPS | VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_ACTIVATE_SECONDARY_CONTROLS |
		     apic.proc, &v->proc_ctls);
	rc |= adjust(caps, VMX_CTL_PROC2, "secondary processor-based",
		     VMX_PROC2_ENABLE_VPID | VMX_PROC2_ENABLE_RDTSCP | VMX_PROC2_ENABLE_INVPCID |
		     VMX_PROC2_ENABLE_XSAVES_XRSTORS,
		     VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST | apic.proc2, &v->proc2_ctls);
	rc |= adjust(caps, VMX_CTL_EXIT, "VM-exit",
		     VMX_EXIT_SAVE_DEBUG_CONTROLS | VMX_EXIT_SAVE_IA32_PAT | VMX_EXIT_LOAD_IA32_PAT |
		     VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE,
		     VMX_EXIT_HOST_ADDRESS_SPACE_SIZE | VMX_EXIT_SAVE_IA32_EFER | VMX_EXIT_LOAD_IA32_EFER | apic.exit,
		     &v->exit_ctls);
	rc |= adjust(caps, VMX_CTL_ENTRY, "VM-entry", VMX_ENTRY_LOAD_DEBUG_CONTROLS | VMX_ENTRY_LOAD_IA32_PAT,
		     VMX_ENTRY_LOAD_IA32_EFER, &v->entry_ctls);
	if (rc)
		return -ENODEV;

	vmwrite(PIN_BASED_VM_EXEC_CONTROL, v->pin_ctls);
	vmwrite(PRIMARY_VM_EXEC_CONTROL, v->proc_ctls);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, v->proc2_ctls);
	vmwrite(PRIMARY_VM_EXIT_CONTROLS, v->exit_ctls);
	vmwrite(VM_ENTRY_CONTROLS, v->entry_ctls);

	vmwrite(EXCEPTION_BITMAP, 0);
	vmwrite(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmwrite(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_INTERRUPTION_INFO, 0);
	vmwrite(IO_BITMAP_A, (uintptr_t)v->io_bitmap_a);
	vmwrite(IO_BITMAP_B, (uintptr_t)v->io_bitmap_b);
	vmwrite(MSR_BITMAP, (uintptr_t)v->msr_bitmap);
	vmwrite(EPT_POINTER, v->eptp);
	if (v->proc2_ctls & VMX_PROC2_ENABLE_VPID)
		vmwrite(VIRTUAL_PROCESSOR_ID, v->vpid);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	/* XSAVES/XRSTORS run natively: no IA32_XSS bit makes them exit (SDM
	 * Vol. 3C §25.6, "XSS-Exiting Bitmap"); the field has no reset value. */
	if (v->proc2_ctls & VMX_PROC2_ENABLE_XSAVES_XRSTORS)
		vmwrite(XSS_EXITING_BITMAP, 0);

	/* CR0/CR4 bits VMX fixes are owned by us; the guest reads its own
	 * values from the shadows (SDM Vol. 3C §25.6.6).  Unrestricted guest
	 * frees CR0.PE and CR0.PG (SDM Vol. 3D §A.7). */
	v->cr0_mask = (caps->cr0_fixed0 | ~caps->cr0_fixed1) & 0xffffffffull;
	if (v->proc2_ctls & VMX_PROC2_UNRESTRICTED_GUEST)
		v->cr0_mask &= ~(1ull | (1ull << 31));
	v->cr4_mask = caps->cr4_fixed0 | (~caps->cr4_fixed1 & 0xffffffffull);
	vmwrite(CR0_GUEST_HOST_MASK, v->cr0_mask);
	vmwrite(CR4_GUEST_HOST_MASK, v->cr4_mask);

	apic_virtual_setup_vmcs(v);	/* nothing in pass-through */

	v->preemption_ticks = debugger_poll_period();	/* break-in polls by guest time too */
	if (v->pin_ctls & VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER)
		vmwrite(VMX_PREEMPTION_TIMER_VALUE, v->preemption_ticks);
	return 0;
}

/* Host state: what the CPU loads on every VM exit (SDM Vol. 3C §28.5). */
static void setup_host_state(struct vcpu *v)
{
	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_CS_SELECTOR, SEL_CODE64);
	vmwrite(HOST_SS_SELECTOR, SEL_DATA);
	vmwrite(HOST_DS_SELECTOR, SEL_DATA);
	vmwrite(HOST_ES_SELECTOR, SEL_DATA);
	vmwrite(HOST_FS_SELECTOR, 0);
	vmwrite(HOST_GS_SELECTOR, 0);
	vmwrite(HOST_TR_SELECTOR, SEL_TSS);
	vmwrite(HOST_FS_BASE, (uintptr_t)this_cpu());	/* musl's thread pointer */
	vmwrite(HOST_GS_BASE, 0);
	vmwrite(HOST_TR_BASE, tss_base());
	vmwrite(HOST_GDTR_BASE, gdt_base());
	vmwrite(HOST_IDTR_BASE, idt_base());
	vmwrite(HOST_IA32_SYSENTER_CS, 0);
	vmwrite(HOST_IA32_SYSENTER_ESP, 0);
	vmwrite(HOST_IA32_SYSENTER_EIP, 0);
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	if (v->exit_ctls & VMX_EXIT_LOAD_IA32_PAT)
		vmwrite(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(HOST_RSP, vcpu_exit_stack_init(v));
	vmwrite(HOST_RIP, (uintptr_t)vmexit_entry);
}

static void set_segment(uint32_t selector_field, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	/* The selector, base, limit and access-rights fields of one segment
	 * sit at the same index in their groups (SDM Vol. 3D Appendix B). */
	uint32_t index = vmcs_enc_index(selector_field) - vmcs_enc_index(GUEST_ES_SELECTOR);
	vmwrite(selector_field, sel);
	vmwrite(GUEST_ES_BASE + 2 * index, base);
	vmwrite(GUEST_ES_LIMIT + 2 * index, limit);
	vmwrite(GUEST_ES_ACCESS_RIGHTS + 2 * index, ar);
}

#define AR_UNUSABLE (1u << 16)
#define AR_CODE32 0xc09b	/* G, D/B, P, S, execute/read accessed */
#define AR_CODE64 0xa09b	/* G, L, P, S, execute/read accessed */
#define AR_DATA 0xc093		/* G, D/B, P, S, read/write accessed */
#define AR_TSS_BUSY 0x008b	/* P, busy 32/64-bit TSS */

/* PAT, DEBUGCTL and SYSENTER at their reset values, the guest active with
 * no blocking and nothing pending (SDM Vol. 3A Table 10-1). */
static void guest_msrs_and_events_at_reset(const struct vcpu *v)
{
	if (v->entry_ctls & VMX_ENTRY_LOAD_IA32_PAT)
		vmwrite(GUEST_IA32_PAT, 0x0007040600070406ull);	/* the reset value */
	if (v->entry_ctls & VMX_ENTRY_LOAD_DEBUG_CONTROLS)
		vmwrite(GUEST_IA32_DEBUGCTL, 0);
	vmwrite(GUEST_IA32_SYSENTER_CS, 0);
	vmwrite(GUEST_IA32_SYSENTER_ESP, 0);
	vmwrite(GUEST_IA32_SYSENTER_EIP, 0);
	vmwrite(GUEST_INTERRUPTIBILITY_STATE, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 0);
	vmwrite(GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
}

/* Guest state at the first entry (SDM Vol. 3C §25.4; checks §27.3.1). */
static void setup_guest_state(struct vcpu *v, const struct vmx_caps_raw *caps, const struct guest_entry *e)
{
	bool long_mode = e->mode == GUEST_MODE_LONG64;
	uint64_t cr0 = 0x11 | (long_mode ? (1ull << 31) : 0);	/* PE, ET (+PG) */
	uint64_t cr4 = long_mode ? 0x20 : 0;			/* PAE for long mode */
	uint64_t efer = long_mode ? 0x500 : 0;			/* LME, LMA */

	vmwrite(CR0_READ_SHADOW, cr0);
	vmwrite(CR4_READ_SHADOW, cr4);
	vmwrite(GUEST_CR0, (cr0 | (caps->cr0_fixed0 & v->cr0_mask)) & caps->cr0_fixed1);
	vmwrite(GUEST_CR3, e->cr3);
	vmwrite(GUEST_CR4, cr4 | caps->cr4_fixed0);
	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_RSP, e->rsp);
	vmwrite(GUEST_RIP, e->rip);
	vmwrite(GUEST_RFLAGS, 0x2);

	set_segment(GUEST_CS_SELECTOR, e->cs, 0, 0xffffffff, long_mode ? AR_CODE64 : AR_CODE32);
	set_segment(GUEST_SS_SELECTOR, e->ds, 0, 0xffffffff, AR_DATA);
	set_segment(GUEST_DS_SELECTOR, e->ds, 0, 0xffffffff, AR_DATA);
	set_segment(GUEST_ES_SELECTOR, e->ds, 0, 0xffffffff, AR_DATA);
	set_segment(GUEST_FS_SELECTOR, e->ds, 0, 0xffffffff, AR_DATA);
	set_segment(GUEST_GS_SELECTOR, e->ds, 0, 0xffffffff, AR_DATA);
	set_segment(GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE);
	/* A 32-bit TSS's minimal limit; PVH asks for exactly this. */
	set_segment(GUEST_TR_SELECTOR, 0, 0, 0x67, AR_TSS_BUSY);
	vmwrite(GUEST_GDTR_BASE, e->gdt_base);
	vmwrite(GUEST_GDTR_LIMIT, e->gdt_limit);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0xffff);

	vmwrite(GUEST_IA32_EFER, efer);
	guest_msrs_and_events_at_reset(v);
	if (long_mode)
		vmwrite(VM_ENTRY_CONTROLS, v->entry_ctls | VMX_ENTRY_IA32E_MODE_GUEST);
	v->regs = e->gprs;
	v->gprs = &v->regs;	/* what a debugger reads and writes before the first entry */
}

/* MSR bitmap: 4 KiB, four 1 KiB quarters — reads of 0..1FFFH, reads of
 * C0000000H..C0001FFFH, then the same two for writes (SDM Vol. 3C §25.6.9). */
static void msr_bitmap_trap(uint8_t *bitmap, uint32_t msr)
{
	uint32_t base = msr >= 0xc0000000 ? 1024 : 0;
	uint32_t bit = msr & 0x1fff;
	bitmap[base + bit / 8] |= 1u << (bit % 8);
	bitmap[2048 + base + bit / 8] |= 1u << (bit % 8);
}

/* Writes only: the guest reads these MSRs from the hardware, exit-free. */
static void msr_bitmap_trap_write(uint8_t *bitmap, uint32_t msr)
{
	uint32_t base = msr >= 0xc0000000 ? 1024 : 0;
	uint32_t bit = msr & 0x1fff;
	bitmap[2048 + base + bit / 8] |= 1u << (bit % 8);
}

/* I/O bitmap A covers ports 0000H-7FFFH, B 8000H-FFFFH (SDM §25.6.4). */
static void io_bitmap_trap(struct vcpu *v, uint16_t port)
{
	uint8_t *map = port < 0x8000 ? v->io_bitmap_a : v->io_bitmap_b;
	port &= 0x7fff;
	map[port / 8] |= 1u << (port % 8);
}

/* The exit stack's top two quadwords name the vCPU for vmexit.S; HOST_RSP
 * sits just below them, 16-byte aligned. */
uint64_t vcpu_exit_stack_init(struct vcpu *v)
{
	uint64_t *slots = (uint64_t *)(uintptr_t)(v->exit_stack_top - 16);
	slots[0] = (uintptr_t)v;
	slots[1] = (uintptr_t)v->gprs;
	return v->exit_stack_top - 16;
}

/* A vCPU's own pages: its VMCS and exit stack.  Run on the BSP for every
 * vCPU, so only one processor ever uses the page allocator. */
int vmcs_alloc_vcpu(struct vcpu *v, const struct vmx_caps_raw *caps)
{
	uint64_t stack = pmm_alloc_contig(&phys_pages, EXIT_STACK_PAGES, PAGE_SIZE);
	uint32_t revision = (uint32_t)(caps->basic & VMX_BASIC_REVISION_MASK);
	v->vmcs_phys = vmx_alloc_region(revision);
	if (!stack || !v->vmcs_phys)
		return -ENOMEM;
	v->exit_stack_top = stack + EXIT_STACK_PAGES * PAGE_SIZE;
	v->gprs = &v->regs;
	trace_alloc(v);
	return 0;
}

/* The bitmaps are the machine's: every vCPU's VMCS points at the same pages. */
static int alloc_bitmaps(struct vcpu *v)
{
	uint64_t a = pmm_alloc(&phys_pages), b = pmm_alloc(&phys_pages), m = pmm_alloc(&phys_pages);
	if (!a || !b || !m)
		return -ENOMEM;
	v->io_bitmap_a = memset((void *)(uintptr_t)a, 0, PAGE_SIZE);
	v->io_bitmap_b = memset((void *)(uintptr_t)b, 0, PAGE_SIZE);
	v->msr_bitmap = memset((void *)(uintptr_t)m, 0, PAGE_SIZE);
	return 0;
}

static int load_fresh_vmcs(struct vcpu *v)
{
	if (vmclear(v->vmcs_phys) != VMX_OK || vmptrld(v->vmcs_phys) != VMX_OK) {
		log_error("vmx: VMCLEAR/VMPTRLD of the VMCS at 0x%llx failed", (unsigned long long)v->vmcs_phys);
		return -EIO;
	}
	v->launched = false;
	v->vpid = (uint16_t)(v->index + 1);	/* 0 is the host's (SDM Vol. 3C §29.1) */
	v->pending_irq = -1;
	return 0;
}

int vmcs_setup(struct vcpu *v, const struct vmx_caps_raw *caps, const struct guest_entry *e,
	       uint16_t debug_uart)
{
	if (alloc_bitmaps(v) || vmcs_alloc_vcpu(v, caps))
		return -ENOMEM;

	msr_bitmap_trap(v->msr_bitmap, MSR_IA32_FEATURE_CONTROL);
	msr_bitmap_trap(v->msr_bitmap, MSR_IA32_MISC_ENABLE);
	msr_bitmap_trap(v->msr_bitmap, MSR_IA32_BIOS_SIGN_ID);
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_EXIT_CTLS2; msr++)
		msr_bitmap_trap(v->msr_bitmap, msr);
	/* The software INIT/SIPI path (apic_icr.c): the x2APIC ICR, and the
	 * APIC base that the xAPIC page's EPT protection follows. */
	msr_bitmap_trap_write(v->msr_bitmap, MSR_X2APIC_ICR);
	msr_bitmap_trap_write(v->msr_bitmap, MSR_IA32_APIC_BASE);
	if (debug_uart)
		for (uint16_t p = debug_uart; p < debug_uart + 8; p++)
			io_bitmap_trap(v, p);
	io_ports_set_debug_uart(debug_uart);
	if (io_ports_console_data())
		io_bitmap_trap(v, io_ports_console_data());
	/* An emulator's "stop now" port only where that device exists: elsewhere
	 * the guest's write reaches no device, as it would bare. */
	enum machine_kind machine = machine_detect();
	if (machine == MACHINE_BOCHS)
		io_bitmap_trap(v, IO_PORT_BOCHS_SHUTDOWN);
	if (machine == MACHINE_QEMU_KVM)
		io_bitmap_trap(v, IO_PORT_QEMU_DEBUG_EXIT);
	log_info("vmx: machine: %s; emulator power-off port: %s", machine_name(machine),
		 machine == MACHINE_BOCHS ? "0x8900 (Bochs)" :
		 machine == MACHINE_QEMU_KVM ? "0xf4 (isa-debug-exit, as make run EMU=qemu configures it)" :
		 "none");
	uint16_t pm1a, s5;
	if (acpi_s5(&pm1a, &s5)) {
		io_bitmap_trap(v, pm1a);
		io_bitmap_trap(v, pm1a + 1);
		io_ports_set_acpi_pm1a(pm1a, s5);
	}

	int rc = load_fresh_vmcs(v);
	if (rc || (rc = setup_controls(v, caps)))
		return rc;
	setup_host_state(v);
	setup_guest_state(v, caps, e);
	return 0;
}

/* An AP's VMCS, filled on the AP itself (host state is per processor):
 * the BSP's bitmaps and EPT, the same controls, and the state a processor
 * has after INIT until its SIPI (vmcs_guest_sipi_state sets the rest). */
int vmcs_setup_ap(struct vcpu *v, const struct vcpu *bsp, const struct vmx_caps_raw *caps)
{
	v->io_bitmap_a = bsp->io_bitmap_a;
	v->io_bitmap_b = bsp->io_bitmap_b;
	v->msr_bitmap = bsp->msr_bitmap;
	v->ept = bsp->ept;
	v->eptp = bsp->eptp;
	int rc = load_fresh_vmcs(v);
	if (rc || (rc = setup_controls(v, caps)))
		return rc;
	setup_host_state(v);
	vmcs_guest_sipi_state(v, caps, 0);
	return 0;
}

#define AR_CODE16 0x009b	/* P, S, execute/read accessed: real mode's CS */
#define AR_DATA16 0x0093	/* P, S, read/write accessed */
#define AR_TSS16_BUSY 0x008b

/* A processor after INIT and a start-up IPI with this vector: real mode at
 * vector:0000, everything else at its INIT value (SDM Vol. 3A §10.1.1
 * Table 10-1, §12.6.1 "Start-Up"; book §3.10.1.7).  Unrestricted guest lets
 * CR0.PE and PG be 0 (SDM Vol. 3C §27.3.1.1). */
void vmcs_guest_sipi_state(struct vcpu *v, const struct vmx_caps_raw *caps, uint8_t vector)
{
	uint64_t cr0 = 0x60000010;	/* CD, NW, ET */

	vmwrite(CR0_READ_SHADOW, cr0);
	vmwrite(CR4_READ_SHADOW, 0);
	vmwrite(GUEST_CR0, (cr0 | (caps->cr0_fixed0 & v->cr0_mask)) & caps->cr0_fixed1);
	vmwrite(GUEST_CR3, 0);
	vmwrite(GUEST_CR4, caps->cr4_fixed0);
	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_RSP, 0);
	vmwrite(GUEST_RIP, 0);
	vmwrite(GUEST_RFLAGS, 0x2);
	set_segment(GUEST_CS_SELECTOR, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0xffff, AR_CODE16);
	set_segment(GUEST_SS_SELECTOR, 0, 0, 0xffff, AR_DATA16);
	set_segment(GUEST_DS_SELECTOR, 0, 0, 0xffff, AR_DATA16);
	set_segment(GUEST_ES_SELECTOR, 0, 0, 0xffff, AR_DATA16);
	set_segment(GUEST_FS_SELECTOR, 0, 0, 0xffff, AR_DATA16);
	set_segment(GUEST_GS_SELECTOR, 0, 0, 0xffff, AR_DATA16);
	set_segment(GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE);
	set_segment(GUEST_TR_SELECTOR, 0, 0, 0xffff, AR_TSS16_BUSY);
	vmwrite(GUEST_GDTR_BASE, 0);
	vmwrite(GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(GUEST_IA32_EFER, 0);
	guest_msrs_and_events_at_reset(v);
	vmwrite(VM_ENTRY_CONTROLS, v->entry_ctls);	/* not IA-32e mode */
	vmwrite(VM_ENTRY_INTERRUPTION_INFO, 0);
	memset(&v->regs, 0, sizeof(v->regs));
	v->pending_irq = -1;
	v->pending_nmi = false;
	memset(v->held_irqs, 0, sizeof(v->held_irqs));	/* INIT: acknowledged interrupts are gone */
	v->irq_ack_next = v->irq_deferred = false;
	apic_virtual_setup_vmcs(v);	/* INIT empties the virtual APIC's IRR/ISR (nothing in pass-through) */
}
