/* apic_virtual.c — `apic=virtual` (apic_virtual.h): the controls, the
 * virtual-APIC page, and the four exits that keep the virtual APIC and the
 * physical one in step (SDM Vol. 3C ch. 30; book ch. 7):
 *
 *   external interrupt (1)  acknowledged on exit; EOI'd on the physical APIC
 *                           (edge) or at the guest's EOI (level, EOI-exit
 *                           bitmap); posted to the virtual IRR and RVI
 *   APIC access (44)        a read of a register the CPU does not virtualize
 *                           (current count, PPR under Bochs): emulated
 *   EOI-induced (45)        the guest EOI'd a level-triggered vector
 *   APIC write (56)         LVT, timer, SVR, LDR/DFR, ESR, ICR: forwarded
 *
 * Under Bochs 2.7 one switch gives APIC-register virtualization and virtual-
 * interrupt delivery together; the APIC-access page is matched on the
 * host-physical address after EPT, which identity-maps the APIC page, so
 * the APIC-access address is the APIC's own (docs/platform-notes.md). */
#include "apic_virtual.h"

#include "apic_base.h"
#include "apic_icr.h"
#include "apic_mmio.h"
#include "apic_mmio_decode.h"
#include "exits.h"
#include "guest_cpuid.h"
#include "platform/cpu.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "vmx.h"

/* xAPIC register offsets (SDM Vol. 3A Table 12-1). */
#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_APR 0x90
#define APIC_PPR 0xa0
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0

#define INTR_INFO_VALID (1u << 31)
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1
#define RFLAGS_IF (1ull << 9)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define PAGE_SIZE 4096

/* APIC-access exit qualification (SDM Vol. 3C Table 28-6). */
#define ACCESS_OFFSET(q) ((unsigned)(q) & 0xfff)
#define ACCESS_TYPE(q) (((unsigned)(q) >> 12) & 0xf)
#define ACCESS_LINEAR_READ 0
#define ACCESS_LINEAR_WRITE 1

bool apic_virtual;

/* One page per vCPU, in the hypervisor's image (absent from the guest's
 * EPT: the guest reaches it only through the APIC-access page). */
static uint32_t pages[VCPU_MAX][PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
/* ExtINT vectors acknowledged while the injection slot was busy. */
static uint64_t held[VCPU_MAX][4];
static struct apic_virtual_stats stats[VCPU_MAX];

static const struct apic_virtual_controls wanted = {
	.pin = VMX_PIN_EXTERNAL_INTERRUPT_EXITING,
	.proc = VMX_PROC_USE_TPR_SHADOW | VMX_PROC_ACTIVATE_SECONDARY_CONTROLS,
	.proc2 = VMX_PROC2_VIRTUALIZE_APIC_ACCESSES | VMX_PROC2_APIC_REGISTER_VIRTUALIZATION |
		 VMX_PROC2_VIRTUAL_INTERRUPT_DELIVERY,
	.exit = VMX_EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT,
};

struct apic_virtual_controls apic_virtual_wanted(void)
{
	return apic_virtual ? wanted : (struct apic_virtual_controls){ 0 };
}

/* The first control of group the CPU cannot set to 1, or -1. */
static int missing_bit(const struct vmx_caps_raw *caps, enum vmx_control_group group, uint32_t bits)
{
	uint32_t msr;
	uint64_t cap;

	if (!vmx_caps_control_msr(caps, group, &msr, &cap))
		return bits ? __builtin_ctz(bits) : -1;
	uint32_t lacking = bits & ~(uint32_t)(cap >> 32);	/* allowed-1 settings (SDM Vol. 3D §A.3) */
	return lacking ? __builtin_ctz(lacking) : -1;
}

void apic_virtual_choose(bool wanted_mode, const struct vmx_caps_raw *caps)
{
	static const struct { enum vmx_control_group group; const char *name; } groups[] = {
		{ VMX_CTL_PIN, "pin-based" }, { VMX_CTL_PROC, "primary processor-based" },
		{ VMX_CTL_PROC2, "secondary processor-based" }, { VMX_CTL_EXIT, "VM-exit" },
	};
	const uint32_t bits[] = { wanted.pin, wanted.proc, wanted.proc2, wanted.exit };

	apic_virtual = false;
	if (!wanted_mode)
		return;
	for (unsigned i = 0; i < 4; i++) {
		int b = missing_bit(caps, groups[i].group, bits[i]);
		if (b >= 0) {
			log_warn("apic=virtual refused: this CPU lacks the %s control %s (bit %d); the local APIC "
				 "stays passed through", groups[i].name, vmx_control_name(groups[i].group, (unsigned)b), b);
			return;
		}
	}
	if (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) {
		log_warn("apic=virtual refused: the local APIC is in x2APIC mode (only the xAPIC page is "
			 "virtualized); the local APIC stays passed through");
		return;
	}
	apic_virtual = true;
	guest_cpuid_hidden_1_ecx |= CPUID_1_ECX_X2APIC;
	log_info("apic: virtual: a virtual-APIC page per vCPU, virtual-interrupt delivery, every interrupt "
		 "exits and is posted; x2APIC hidden from the guest");
}

uint32_t *apic_virtual_page(const struct vcpu *v)
{
	return apic_virtual ? pages[v->index % VCPU_MAX] : 0;
}

struct apic_virtual_stats apic_virtual_stats(const struct vcpu *v)
{
	return stats[v->index % VCPU_MAX];
}

/* The physical xAPIC's register at offset (identity-mapped, boot.S). */
static volatile uint32_t *phys_reg(unsigned offset)
{
	return (volatile uint32_t *)(uintptr_t)((rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_PAGE_MASK & 0xffffffffffull) +
						offset);
}

static uint32_t *vreg(struct vcpu *v, unsigned offset)
{
	return &pages[v->index % VCPU_MAX][offset / 4];
}

/* The registers a guest reads back seeded from this processor's APIC;
 * IRR, ISR and TMR start empty.  The physical TPR goes to 0: priority is
 * the virtual APIC's business now, every interrupt must reach the exit. */
void apic_virtual_setup_vmcs(struct vcpu *v)
{
	static const unsigned seeded[] = {
		APIC_ID, APIC_VERSION, APIC_TPR, APIC_LDR, APIC_DFR, APIC_SVR, 0x320, 0x330, 0x340, 0x350, 0x360,
		APIC_LVT_ERROR, APIC_TIMER_INITIAL, APIC_TIMER_DIVIDE,
	};
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (!apic_virtual)
		return;
	memset(pages[v->index % VCPU_MAX], 0, PAGE_SIZE);
	memset(held[v->index % VCPU_MAX], 0, sizeof(held[0]));
	for (unsigned i = 0; i < sizeof(seeded) / sizeof(seeded[0]); i++)
		*vreg(v, seeded[i]) = *phys_reg(seeded[i]);
	*vreg(v, APIC_PPR) = *vreg(v, APIC_TPR) & 0xf0;
	*phys_reg(APIC_TPR) = 0;
	vmwrite(VIRTUAL_APIC_ADDRESS, (uintptr_t)pages[v->index % VCPU_MAX]);
	vmwrite(APIC_ACCESS_ADDRESS, base & APIC_BASE_PAGE_MASK & 0xffffffffffull);
	vmwrite(TPR_THRESHOLD, 0);	/* unused with virtual-interrupt delivery (SDM §30.1.2) */
	vmwrite(EOI_EXIT_BITMAP_0, 0);
	vmwrite(EOI_EXIT_BITMAP_1, 0);
	vmwrite(EOI_EXIT_BITMAP_2, 0);
	vmwrite(EOI_EXIT_BITMAP_3, 0);
	vmwrite(GUEST_INTERRUPT_STATUS, 0);
}

void apic_virtual_follow_base(struct vcpu *v, uint64_t base)
{
	(void)v;
	uint64_t page = apic_base_xapic_page(base);
	if (page)	/* disabled: the old page stays virtual, as harmless as any */
		vmwrite(APIC_ACCESS_ADDRESS, page);
}

static void set_bit256(uint32_t *regs, unsigned vector, bool on)
{
	uint32_t *r = &regs[(vector / 32) * 4];	/* 32 vectors per register, 16 bytes apart */
	*r = on ? *r | (1u << (vector % 32)) : *r & ~(1u << (vector % 32));
}

static void eoi_exit_bit(unsigned vector, bool on)
{
	uint32_t field = EOI_EXIT_BITMAP_0 + 2 * (vector / 64);	/* 64-bit fields: full, high */
	uint64_t bits = vmread(field), bit = 1ull << (vector % 64);
	vmwrite(field, on ? bits | bit : bits & ~bit);
}

/* Virtual interrupt posting (SDM Vol. 3C §30.2.1): the vector in VIRR, RVI
 * raised to it; the CPU delivers it at entry once RVI beats VPPR and the
 * guest can take interrupts.  A guest halted with IF=1 wakes: the interrupt
 * is what it waits for. */
static void post(struct vcpu *v, unsigned vector)
{
	set_bit256(vreg(v, APIC_IRR), vector, true);
	uint16_t status = (uint16_t)vmread(GUEST_INTERRUPT_STATUS);
	if (vector > (status & 0xffu))
		vmwrite(GUEST_INTERRUPT_STATUS, (status & 0xff00u) | vector);
	if (vmread(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT && (vmread(GUEST_RFLAGS) & RFLAGS_IF))
		vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	stats[v->index % VCPU_MAX].posted++;
}

/* Acknowledging on exit takes an 8259 vector while the guest may not want
 * it yet: the BIOS's IRQ 0 at vector 8, say, just before the guest remaps
 * its PIC.  Bare, that request would wait in the PIC and come at the new
 * base; here its old vector is all there is.  A protected-mode guest's
 * exception vectors (below 32) are never 8259 vectors it chose: such a
 * held vector is dropped (the PIT's next tick comes at the new base). */
static bool stale_extint(unsigned vector)
{
	return vector < 32 && (vmread(GUEST_CR0) & 1);
}

void apic_virtual_window(struct vcpu *v)
{
	uint64_t *h = held[v->index % VCPU_MAX];
	for (int w = 3; w >= 0 && v->pending_irq < 0; w--)
		while (h[w] && v->pending_irq < 0) {
			unsigned bit = 63 - (unsigned)__builtin_clzll(h[w]);
			h[w] &= ~(1ull << bit);
			if (stale_extint((unsigned)w * 64 + bit))
				stats[v->index % VCPU_MAX].dropped++;
			else
				v->pending_irq = (int)(w * 64 + bit);
		}
}

bool apic_virtual_hlt_wakes(struct vcpu *v)
{
	apic_virtual_window(v);
	if (v->pending_irq >= 0) {
		inject_pending_events(v);
		return true;
	}
	uint16_t status = (uint16_t)vmread(GUEST_INTERRUPT_STATUS);
	return (status & 0xf0u) > (*vreg(v, APIC_PPR) & 0xf0u);
}

enum exit_action apic_virtual_interrupt(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VM_EXIT_INTERRUPTION_INFO);
	unsigned vector = info & 0xff, word = (vector / 32) * 0x10;
	uint32_t bit = 1u << (vector % 32);

	if (!(info & INTR_INFO_VALID))
		return EXIT_RESUME;
	if (*phys_reg(APIC_ISR + word) & bit) {
		/* Through the APIC: in service there now.  Edge: done on the
		 * hardware at once.  Level: the IOAPIC waits for the EOI, which
		 * must follow the guest's (EOI-exit bitmap, SDM §30.1.4). */
		bool level = *phys_reg(APIC_TMR + word) & bit;
		if (!level)
			*phys_reg(APIC_EOI) = 0;
		eoi_exit_bit(vector, level);
		set_bit256(vreg(v, APIC_TMR), vector, level);
		post(v, vector);
		return EXIT_RESUME;
	}
	/* Not in service: an 8259 vector through LINT0 (ExtINT) or a spurious
	 * one.  Neither touches the APIC's IRR/ISR, and the guest will not EOI
	 * its APIC for it: injected as an event, as the hardware would give it. */
	stats[v->index % VCPU_MAX].extint++;
	held[v->index % VCPU_MAX][vector / 64] |= 1ull << (vector % 64);
	apic_virtual_window(v);
	inject_pending_events(v);
	return EXIT_RESUME;
}

/* The guest EOI'd a vector set in the EOI-exit bitmap: a level-triggered
 * interrupt's EOI reaches the physical APIC (and through it the IOAPIC). */
enum exit_action exit_virtualized_eoi(struct vcpu *v)
{
	unsigned vector = (unsigned)vmread(EXIT_QUALIFICATION) & 0xff;
	*phys_reg(APIC_EOI) = 0;
	eoi_exit_bit(vector, false);
	set_bit256(vreg(v, APIC_TMR), vector, false);
	stats[v->index % VCPU_MAX].eoi_exits++;
	return EXIT_RESUME;
}

/* A write the CPU made to the virtual page and then reported (trap-like:
 * RIP is already past it, SDM §30.4.3.3).  What drives the hardware is
 * forwarded; the ID stays virtual (the physical one is the hypervisor's). */
enum exit_action exit_apic_write(struct vcpu *v)
{
	unsigned offset = (unsigned)vmread(EXIT_QUALIFICATION) & 0xff0;
	uint32_t value = *vreg(v, offset);

	stats[v->index % VCPU_MAX].apic_writes++;
	switch (offset) {
	case APIC_ICR_LOW: {
		uint32_t dest = *vreg(v, APIC_ICR_HIGH) >> 24;
		apic_icr_write(v, dest == 0xff ? APIC_DEST_BROADCAST : dest, value);
		*vreg(v, APIC_ICR_LOW) = value & ~(1u << 12);	/* delivery status: idle */
		break;
	}
	case APIC_ID: case APIC_ICR_HIGH:
		break;
	case APIC_EOI:	/* only without virtual-interrupt delivery */
		*phys_reg(APIC_EOI) = 0;
		break;
	case APIC_ESR:	/* a write latches the errors (SDM Vol. 3A §12.5.3): the guest reads them */
		*phys_reg(APIC_ESR) = value;
		*vreg(v, APIC_ESR) = *phys_reg(APIC_ESR);
		break;
	default:
		*phys_reg(offset) = value;
		break;
	}
	return EXIT_RESUME;
}

/* Never with virtual-interrupt delivery (the threshold is then unused). */
enum exit_action exit_tpr_below_threshold(struct vcpu *v)
{
	(void)v;
	return EXIT_RESUME;
}

/* A register read the CPU left to us: the running timer and the processor
 * priority come from where they live, the rest from the hardware. */
static uint32_t read_register(struct vcpu *v, unsigned offset)
{
	switch (offset) {
	case APIC_PPR:
		return *vreg(v, APIC_PPR);
	case APIC_APR:
		return 0;
	default:
		return *phys_reg(offset);
	}
}

/* An access the CPU did not virtualize (fault-like: RIP at the instruction,
 * SDM §30.4.2): a 32-bit MOV load gets the register; a store to a register
 * the guest may not write (read-only, reserved) is dropped, as the hardware
 * drops it; anything else stops the guest with the reason. */
enum exit_action exit_apic_access(struct vcpu *v)
{
	uint64_t qual = vmread(EXIT_QUALIFICATION);
	unsigned offset = ACCESS_OFFSET(qual), type = ACCESS_TYPE(qual);
	uint8_t insn[X86_MAX_INSN] = { 0 };
	struct apic_mmio_store s;
	unsigned bits;
	size_t n;

	if (type != ACCESS_LINEAR_READ && type != ACCESS_LINEAR_WRITE)
		return exit_stop(v, "APIC-access exit of type %u at offset 0x%x (event delivery or fetch through "
				 "the APIC page)", type, offset);
	int rc = apic_mmio_decode_guest(v, insn, &n, &bits, &s);
	if (!rc && (type == ACCESS_LINEAR_READ) != (s.load_reg >= 0))
		rc = DECODE_UNKNOWN_OPCODE;
	if (rc)
		return exit_stop(v, "APIC %s at offset 0x%x from RIP 0x%llx (%u-bit code, %u bytes: %02x %02x %02x) "
				 "not emulated: %s", type == ACCESS_LINEAR_READ ? "read" : "write", offset,
				 (unsigned long long)vmread(GUEST_RIP), bits, (unsigned)n, insn[0], insn[1], insn[2],
				 apic_mmio_decode_strerror(rc));
	if (s.load_reg >= 0)
		vcpu_set_gpr(v, (unsigned)s.load_reg, read_register(v, offset & 0xff0));
	stats[v->index % VCPU_MAX].access_exits++;
	vcpu_advance_rip(v, s.len);
	return EXIT_RESUME;
}
