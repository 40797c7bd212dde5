/* apic_view.h — a local APIC's registers put in words (SDM Vol. 3A ch. 12:
 * Table 12-1 for the layout, §12.5.1 for the LVT, §12.6.1 for the ICR,
 * §12.8.3.1 for TPR/PPR, §12.8.4 for IRR/ISR/TMR; Vol. 3C §30.1.1 for the
 * virtual-APIC page, §25.4.2 for RVI/SVI).  `monitor apic` and Lua's
 * apic.* show the same thing: the virtual-APIC page with RVI/SVI under
 * apic=virtual, the physical APIC (xAPIC MMIO or x2APIC MSRs) otherwise.
 * Pure logic: compiled into the image and into tests/unit. */
#ifndef HV_APIC_VIEW_H
#define HV_APIC_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum apic_view_mode {
	APIC_VIEW_VIRTUAL,	/* the vCPU's virtual-APIC page (apic=virtual) */
	APIC_VIEW_XAPIC,	/* the physical APIC, xAPIC mode (MMIO) */
	APIC_VIEW_X2APIC,	/* the physical APIC, x2APIC mode (MSRs 800H-8FFH) */
};

/* Register offsets this view reads (xAPIC MMIO offsets; x2APIC MSR =
 * 800H + offset/16, SDM Vol. 3A Table 12-6). */
#define APIC_OFF_ID 0x20
#define APIC_OFF_VERSION 0x30
#define APIC_OFF_TPR 0x80
#define APIC_OFF_PPR 0xa0
#define APIC_OFF_LDR 0xd0
#define APIC_OFF_DFR 0xe0
#define APIC_OFF_SVR 0xf0
#define APIC_OFF_ISR 0x100
#define APIC_OFF_TMR 0x180
#define APIC_OFF_IRR 0x200
#define APIC_OFF_ESR 0x280
#define APIC_OFF_ICR_LOW 0x300
#define APIC_OFF_ICR_HIGH 0x310
#define APIC_OFF_LVT_TIMER 0x320
#define APIC_OFF_LVT_THERMAL 0x330
#define APIC_OFF_LVT_PERF 0x340
#define APIC_OFF_LVT_LINT0 0x350
#define APIC_OFF_LVT_LINT1 0x360
#define APIC_OFF_LVT_ERROR 0x370
#define APIC_OFF_TIMER_INITIAL 0x380
#define APIC_OFF_TIMER_CURRENT 0x390
#define APIC_OFF_TIMER_DIVIDE 0x3e0

struct apic_view {
	enum apic_view_mode mode;
	unsigned vcpu;
	uint32_t reg[64];		/* reg[offset / 16], offsets 0-3F0H (x2APIC: 310H = ICR 63:32) */
	uint32_t icr_dest;		/* xAPIC: ICR bits 63:56; x2APIC: bits 63:32 */
	bool have_current;		/* the timer's current count could be read */
	uint8_t rvi, svi;		/* virtual mode: the guest interrupt status */
};

static inline uint32_t apic_view_reg(const struct apic_view *a, unsigned offset)
{
	return a->reg[(offset / 16) & 63];
}

/* The vectors set in the 256-bit register at offset (IRR, ISR, TMR),
 * lowest first, into out (up to max); how many there are. */
unsigned apic_view_vectors(const struct apic_view *a, unsigned offset, uint8_t *out, unsigned max);
/* The highest vector set there, or -1. */
int apic_view_highest(const struct apic_view *a, unsigned offset);

/* LVT or ICR delivery mode (bits 10:8) by name: "fixed", "NMI", "ExtINT"... */
const char *apic_view_delivery(uint32_t value);
/* The timer's divide configuration (bits 3, 1:0) as the divisor, 1-128. */
unsigned apic_view_divisor(uint32_t divide_config);
/* "one-shot", "periodic", "TSC-deadline", "reserved" (LVT timer bits 18:17). */
const char *apic_view_timer_mode(uint32_t lvt_timer);

/* The view in lines: mode and ID, TPR/PPR (and RVI/SVI), IRR/ISR/TMR by
 * vector, SVR, LDR/DFR, ESR, ICR, the six LVT entries, the timer. */
typedef void (*apic_view_emit_fn)(void *ctx, const char *line);
void apic_view_report(const struct apic_view *a, apic_view_emit_fn emit, void *ctx);

#endif
