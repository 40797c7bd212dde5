/* apic_view.c — a local APIC's registers in words (apic_view.h). */
#include "apic_view.h"

#include "platform/fmt.h"

#define LINE 200

unsigned apic_view_vectors(const struct apic_view *a, unsigned offset, uint8_t *out, unsigned max)
{
	unsigned n = 0;
	/* Eight 32-bit registers, 16 bytes apart: vector v is bit v%32 of the
	 * register v/32 (SDM Vol. 3A Figure 12-20). */
	for (unsigned v = 0; v < 256; v++)
		if (apic_view_reg(a, offset + (v / 32) * 16) & (1u << (v % 32))) {
			if (n < max)
				out[n] = (uint8_t)v;
			n++;
		}
	return n;
}

int apic_view_highest(const struct apic_view *a, unsigned offset)
{
	for (int r = 7; r >= 0; r--) {
		uint32_t bits = apic_view_reg(a, offset + (unsigned)r * 16);
		if (bits)
			return r * 32 + 31 - __builtin_clz(bits);
	}
	return -1;
}

const char *apic_view_delivery(uint32_t value)
{
	static const char *const names[8] = { "fixed", "lowest-priority", "SMI", "reserved(3)",
					      "NMI", "INIT", "start-up", "ExtINT" };
	return names[(value >> 8) & 7];
}

unsigned apic_view_divisor(uint32_t divide_config)
{
	/* Bits 3 and 1:0 form a 3-bit code; 111b divides by 1, else by 2^(code+1)
	 * (SDM Vol. 3A Figure 12-10). */
	unsigned code = ((divide_config >> 1) & 4) | (divide_config & 3);
	return code == 7 ? 1 : 2u << code;
}

const char *apic_view_timer_mode(uint32_t lvt_timer)
{
	static const char *const names[4] = { "one-shot", "periodic", "TSC-deadline", "reserved" };
	return names[(lvt_timer >> 17) & 3];
}

/* "0x31 0xef" or "none", appended to line at *at. */
static void vector_list(const struct apic_view *a, unsigned offset, char *line, int *at)
{
	uint8_t v[256];
	unsigned n = apic_view_vectors(a, offset, v, 256);

	if (!n)
		*at += ksnprintf(line + *at, (size_t)(LINE - *at), " none");
	for (unsigned i = 0; i < n && *at < LINE - 8; i++)
		*at += ksnprintf(line + *at, (size_t)(LINE - *at), " 0x%02x", v[i]);
}

static void vectors_line(const struct apic_view *a, const char *name, unsigned offset, apic_view_emit_fn emit,
			 void *ctx)
{
	char line[LINE];
	int at = ksnprintf(line, sizeof(line), "%-4s", name);
	vector_list(a, offset, line, &at);
	emit(ctx, line);
}

/* One LVT entry (SDM Vol. 3A Figure 12-8): vector, delivery mode, mask,
 * and the fields only some entries have. */
static void lvt_line(const struct apic_view *a, const char *name, unsigned offset, apic_view_emit_fn emit,
		     void *ctx)
{
	char line[LINE];
	uint32_t v = apic_view_reg(a, offset);
	bool lint = offset == APIC_OFF_LVT_LINT0 || offset == APIC_OFF_LVT_LINT1;
	int at = ksnprintf(line, sizeof(line), "LVT %-8s 0x%08x: vector 0x%02x, %s, %s", name, v, v & 0xff,
			   offset == APIC_OFF_LVT_TIMER ? apic_view_timer_mode(v) : apic_view_delivery(v),
			   (v & (1u << 16)) ? "masked" : "unmasked");
	if (lint)
		at += ksnprintf(line + at, sizeof(line) - (size_t)at, ", %s, active %s",
				(v & (1u << 15)) ? "level" : "edge", (v & (1u << 13)) ? "low" : "high");
	if (v & (1u << 12))
		ksnprintf(line + at, sizeof(line) - (size_t)at, ", send pending");
	emit(ctx, line);
}

static void icr_line(const struct apic_view *a, apic_view_emit_fn emit, void *ctx)
{
	static const char *const shorthand[4] = { "no shorthand", "self", "all including self",
						  "all excluding self" };
	char line[LINE];
	uint32_t lo = apic_view_reg(a, APIC_OFF_ICR_LOW);
	ksnprintf(line, sizeof(line), "ICR  0x%08x_%08x: vector 0x%02x, %s, %s, %s, %s, %s, destination 0x%x",
		  a->icr_dest, lo, lo & 0xff, apic_view_delivery(lo), (lo & (1u << 11)) ? "logical" : "physical",
		  (lo & (1u << 14)) ? "assert" : "de-assert", (lo & (1u << 15)) ? "level" : "edge",
		  shorthand[(lo >> 18) & 3], a->icr_dest);
	emit(ctx, line);
}

static void priority_lines(const struct apic_view *a, apic_view_emit_fn emit, void *ctx)
{
	char line[LINE];
	uint32_t tpr = apic_view_reg(a, APIC_OFF_TPR) & 0xff, ppr = apic_view_reg(a, APIC_OFF_PPR) & 0xff;

	ksnprintf(line, sizeof(line), "TPR  0x%02x (class %u)   PPR 0x%02x (class %u): vectors of class %u and "
		  "below wait", tpr, tpr >> 4, ppr, ppr >> 4, ppr >> 4);
	emit(ctx, line);
	if (a->mode != APIC_VIEW_VIRTUAL)
		return;
	/* RVI: the highest vector the virtual IRR requests; SVI: the one in
	 * service (SDM Vol. 3C §30.1.1, §30.2). */
	ksnprintf(line, sizeof(line), "RVI  0x%02x (%s)   SVI 0x%02x (%s)", a->rvi,
		  a->rvi ? ((a->rvi >> 4) > (ppr >> 4) ? "deliverable when IF=1" : "held by PPR") : "nothing requested",
		  a->svi, a->svi ? "in service" : "nothing in service");
	emit(ctx, line);
}

static void timer_line(const struct apic_view *a, apic_view_emit_fn emit, void *ctx)
{
	char line[LINE], current[24];
	uint32_t div = apic_view_reg(a, APIC_OFF_TIMER_DIVIDE);

	if (a->have_current)
		ksnprintf(current, sizeof(current), "%u", apic_view_reg(a, APIC_OFF_TIMER_CURRENT));
	else
		ksnprintf(current, sizeof(current), "(not readable here)");
	ksnprintf(line, sizeof(line), "timer: initial count %u, current count %s, divide by %u (0x%x)",
		  apic_view_reg(a, APIC_OFF_TIMER_INITIAL), current, apic_view_divisor(div), div);
	emit(ctx, line);
}

void apic_view_report(const struct apic_view *a, apic_view_emit_fn emit, void *ctx)
{
	static const char *const modes[] = { "virtual-APIC page (apic=virtual)", "physical APIC, xAPIC mode",
					     "physical APIC, x2APIC mode" };
	char line[LINE];
	uint32_t id = apic_view_reg(a, APIC_OFF_ID), ver = apic_view_reg(a, APIC_OFF_VERSION);
	uint32_t svr = apic_view_reg(a, APIC_OFF_SVR);

	ksnprintf(line, sizeof(line), "vCPU %u, %s", a->vcpu, modes[a->mode % 3]);
	emit(ctx, line);
	ksnprintf(line, sizeof(line), "ID   0x%08x (APIC id %u)   version 0x%08x (version 0x%02x, %u LVT entries)", id,
		  a->mode == APIC_VIEW_X2APIC ? id : id >> 24, ver, ver & 0xff, ((ver >> 16) & 0xff) + 1);
	emit(ctx, line);
	priority_lines(a, emit, ctx);
	vectors_line(a, "IRR", APIC_OFF_IRR, emit, ctx);
	vectors_line(a, "ISR", APIC_OFF_ISR, emit, ctx);
	vectors_line(a, "TMR", APIC_OFF_TMR, emit, ctx);
	ksnprintf(line, sizeof(line), "SVR  0x%08x: APIC %s, spurious vector 0x%02x", svr,
		  (svr & (1u << 8)) ? "software-enabled" : "software-disabled", svr & 0xff);
	emit(ctx, line);
	if (a->mode == APIC_VIEW_X2APIC)
		ksnprintf(line, sizeof(line), "LDR  0x%08x (cluster %u, bits 0x%04x)   ESR 0x%08x",
			  apic_view_reg(a, APIC_OFF_LDR), apic_view_reg(a, APIC_OFF_LDR) >> 16,
			  apic_view_reg(a, APIC_OFF_LDR) & 0xffff, apic_view_reg(a, APIC_OFF_ESR));
	else
		ksnprintf(line, sizeof(line), "LDR  0x%08x (logical id 0x%02x)   DFR 0x%08x (%s)   ESR 0x%08x",
			  apic_view_reg(a, APIC_OFF_LDR), apic_view_reg(a, APIC_OFF_LDR) >> 24,
			  apic_view_reg(a, APIC_OFF_DFR),
			  (apic_view_reg(a, APIC_OFF_DFR) >> 28) == 0xf ? "flat" : "cluster",
			  apic_view_reg(a, APIC_OFF_ESR));
	emit(ctx, line);
	icr_line(a, emit, ctx);
	lvt_line(a, "timer", APIC_OFF_LVT_TIMER, emit, ctx);
	lvt_line(a, "thermal", APIC_OFF_LVT_THERMAL, emit, ctx);
	lvt_line(a, "perfmon", APIC_OFF_LVT_PERF, emit, ctx);
	lvt_line(a, "LINT0", APIC_OFF_LVT_LINT0, emit, ctx);
	lvt_line(a, "LINT1", APIC_OFF_LVT_LINT1, emit, ctx);
	lvt_line(a, "error", APIC_OFF_LVT_ERROR, emit, ctx);
	timer_line(a, emit, ctx);
}
