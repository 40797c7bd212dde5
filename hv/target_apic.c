/* target_apic.c — the debug target's local-APIC view (`monitor apic`,
 * Lua apic.*): under apic=virtual the selected vCPU's virtual-APIC page and
 * its guest interrupt status (RVI/SVI); in pass-through the physical APIC
 * of this processor, by MMIO in xAPIC mode or by RDMSR in x2APIC mode (SDM
 * Vol. 3A §12.12.1, Table 12-6).  apic_view.c puts it in words. */
#include "allstop.h"
#include "apic_base.h"
#include "apic_virtual.h"
#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"
#include "target.h"
#include "vmx.h"

#define X2APIC_MSR(offset) (0x800u + (offset) / 16)

/* What this view reads: every register that exists in both modes and reads
 * without side effects (EOI is write-only; DFR and ICR high are xAPIC-only;
 * SDM Vol. 3A Table 12-6 for x2APIC, where the rest raise #GP). */
static const unsigned readable[] = {
	APIC_OFF_ID, APIC_OFF_VERSION, APIC_OFF_TPR, APIC_OFF_PPR, APIC_OFF_LDR, APIC_OFF_SVR,
	APIC_OFF_ESR, APIC_OFF_LVT_TIMER, APIC_OFF_LVT_THERMAL, APIC_OFF_LVT_PERF, APIC_OFF_LVT_LINT0,
	APIC_OFF_LVT_LINT1, APIC_OFF_LVT_ERROR, APIC_OFF_TIMER_INITIAL, APIC_OFF_TIMER_CURRENT,
	APIC_OFF_TIMER_DIVIDE,
};

static uint32_t physical(uint64_t base, unsigned offset)
{
	if (base & APIC_BASE_EXTD)
		return (uint32_t)rdmsr(X2APIC_MSR(offset));
	return *(volatile uint32_t *)(uintptr_t)((base & APIC_BASE_PAGE_MASK & 0xffffffffffull) + offset);
}

static int physical_view(struct vcpu *v, struct apic_view *a)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	/* Another processor's APIC answers only that processor (the xAPIC
	 * page and the x2APIC MSRs are per processor, SDM Vol. 3A §12.4.1). */
	if (v != this_vcpu())
		return -ENODATA;
	if (!(base & APIC_BASE_EN))
		return -ENODEV;
	a->mode = (base & APIC_BASE_EXTD) ? APIC_VIEW_X2APIC : APIC_VIEW_XAPIC;
	for (unsigned i = 0; i < sizeof(readable) / sizeof(readable[0]); i++)
		a->reg[readable[i] / 16] = physical(base, readable[i]);
	for (unsigned r = 0; r < 8; r++)
		for (unsigned off = APIC_OFF_ISR; off <= APIC_OFF_IRR; off += 0x80)
			a->reg[(off + r * 16) / 16] = physical(base, off + r * 16);
	if (base & APIC_BASE_EXTD) {
		uint64_t icr = rdmsr(MSR_X2APIC_ICR);
		a->reg[APIC_OFF_ICR_LOW / 16] = (uint32_t)icr;
		a->icr_dest = a->reg[APIC_OFF_ICR_HIGH / 16] = (uint32_t)(icr >> 32);
	} else {
		a->reg[APIC_OFF_DFR / 16] = physical(base, APIC_OFF_DFR);
		a->reg[APIC_OFF_ICR_LOW / 16] = physical(base, APIC_OFF_ICR_LOW);
		a->reg[APIC_OFF_ICR_HIGH / 16] = physical(base, APIC_OFF_ICR_HIGH);
		a->icr_dest = a->reg[APIC_OFF_ICR_HIGH / 16] >> 24;
	}
	a->have_current = true;
	return 0;
}

int target_apic_view(struct vcpu *v, struct apic_view *a)
{
	int rc = vcpu_vmcs_use(v);
	if (rc)
		return rc;
	memset(a, 0, sizeof(*a));
	a->vcpu = v->index;
	if (!apic_virtual)
		return physical_view(v, a);
	const uint32_t *page = apic_virtual_page(v);
	a->mode = APIC_VIEW_VIRTUAL;
	for (unsigned i = 0; i < 64; i++)
		a->reg[i] = page[i * 4];	/* each register starts a 16-byte slot */
	a->icr_dest = page[APIC_OFF_ICR_HIGH / 4] >> 24;
	uint16_t status = (uint16_t)vmread(GUEST_INTERRUPT_STATUS);
	a->rvi = (uint8_t)status;
	a->svi = (uint8_t)(status >> 8);
	/* The count runs in the physical APIC the guest's timer writes reach:
	 * this processor's, when v is this processor's vCPU. */
	a->have_current = v == this_vcpu();
	if (a->have_current)
		a->reg[APIC_OFF_TIMER_CURRENT / 16] = physical(rdmsr(MSR_IA32_APIC_BASE), APIC_OFF_TIMER_CURRENT);
	return 0;
}

void target_report_apic(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	struct apic_view a;
	char line[160];
	int rc = target_apic_view(v, &a);

	if (rc == -ENODATA)
		ksnprintf(line, sizeof(line), "apic: vCPU %u's physical APIC answers its own processor only (pass-"
			  "through mode); select the vCPU that stopped, or boot with apic=virtual", v->index);
	else if (rc == -ENODEV)
		ksnprintf(line, sizeof(line), "apic: vCPU %u's local APIC is disabled (IA32_APIC_BASE bit 11 clear)",
			  v->index);
	else if (rc)
		ksnprintf(line, sizeof(line), "apic: vCPU %u is running (%d): stop the guest first", v->index, rc);
	if (rc) {
		emit(ctx, line);
		return;
	}
	apic_view_report(&a, emit, ctx);
	if (apic_virtual) {
		struct apic_virtual_stats s = apic_virtual_stats(v);
		ksnprintf(line, sizeof(line), "exits: %llu interrupts posted, %llu 8259/spurious injected (%llu stale "
			  "dropped), %llu APIC writes, %llu EOI exits, %llu APIC accesses",
			  (unsigned long long)s.posted, (unsigned long long)s.extint, (unsigned long long)s.dropped,
			  (unsigned long long)s.apic_writes, (unsigned long long)s.eoi_exits,
			  (unsigned long long)s.access_exits);
		emit(ctx, line);
	}
}
