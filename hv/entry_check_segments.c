/* entry_check_segments.c — checks on the guest segment registers (SDM Vol. 3C
 * §27.3.1.2; book ch. 4): selectors, bases, limits and access rights of CS,
 * SS, DS, ES, FS, GS, TR and LDTR. Three cases shape the rules: a
 * virtual-8086 guest (RFLAGS.VM = 1) must look like real mode does; an
 * unrestricted guest may run CS as a data segment and skip the privilege
 * rules; otherwise the registers must hold what a protected-mode load
 * could have put there. A violation is exit reason 33. */
#include "entry_check_impl.h"

enum { ES, CS, SS, DS, FS, GS, LDTR, TR, NSEG };

static const struct seg {
	const char *name;
	uint32_t sel, base, limit, ar;
} segs[NSEG] = {
	[ES] = { "ES", GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_ACCESS_RIGHTS },
	[CS] = { "CS", GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_ACCESS_RIGHTS },
	[SS] = { "SS", GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_ACCESS_RIGHTS },
	[DS] = { "DS", GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_ACCESS_RIGHTS },
	[FS] = { "FS", GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_ACCESS_RIGHTS },
	[GS] = { "GS", GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_ACCESS_RIGHTS },
	[LDTR] = { "LDTR", GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_ACCESS_RIGHTS },
	[TR] = { "TR", GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_ACCESS_RIGHTS },
};

/* The access-rights format (SDM Vol. 3C Table 25-2). */
#define AR_TYPE(ar) ((unsigned)(ar) & 0xf)
#define AR_S BIT(4)
#define AR_DPL(ar) ((unsigned)((ar) >> 5) & 3)
#define AR_P BIT(7)
#define AR_RESERVED_11_8 0xf00ull
#define AR_DB BIT(14)
#define AR_G BIT(15)
#define AR_UNUSABLE BIT(16)
#define AR_RESERVED_31_17 0xfffe0000ull
#define SEL_RPL(sel) ((unsigned)(sel) & 3)
#define SEL_TI BIT(2)

/* The guest as VM entry will see it. */
struct view {
	uint64_t sel[NSEG], base[NSEG], limit[NSEG], ar[NSEG];
	bool v86, ug, ia32e, pe;
};

static bool usable(const struct view *g, int r)
{
	return !(g->ar[r] & AR_UNUSABLE);
}

static void fail_ar(struct ec *c, const struct view *g, int r, const char *rule)
{
	ec_fail(c, segs[r].ar, g->ar[r], SDM_GUEST_SEG, "%s %s", segs[r].name, rule);
}

static void check_selectors(struct ec *c, const struct view *g)
{
	if (g->sel[TR] & SEL_TI)
		ec_fail(c, GUEST_TR_SELECTOR, g->sel[TR], SDM_GUEST_SEG, "TI (bit 2) must be 0: TR selects from the GDT");
	if (usable(g, LDTR) && (g->sel[LDTR] & SEL_TI))
		ec_fail(c, GUEST_LDTR_SELECTOR, g->sel[LDTR], SDM_GUEST_SEG,
			"TI (bit 2) must be 0 for a usable LDTR: the LDT is found in the GDT");
	if (!g->v86 && !g->ug && SEL_RPL(g->sel[SS]) != SEL_RPL(g->sel[CS]))
		ec_fail(c, GUEST_SS_SELECTOR, g->sel[SS], SDM_GUEST_SEG,
			"RPL (%u) must equal the RPL of GUEST_CS_SELECTOR (%u)", SEL_RPL(g->sel[SS]),
			SEL_RPL(g->sel[CS]));
}

static void check_bases(struct ec *c, const struct view *g)
{
	for (int r = ES; r <= GS && g->v86; r++)
		if (g->base[r] != g->sel[r] << 4)
			ec_fail(c, segs[r].base, g->base[r], SDM_GUEST_SEG,
				"a virtual-8086 guest's %s base must be its selector times 16 (0x%llx)",
				segs[r].name, (unsigned long long)(g->sel[r] << 4));
	static const int canonical[] = { TR, FS, GS, LDTR };
	for (unsigned i = 0; i < 4; i++) {
		int r = canonical[i];
		if ((r != LDTR || usable(g, LDTR)) && !ec_canonical(c, g->base[r]))
			ec_fail(c, segs[r].base, g->base[r], SDM_GUEST_SEG,
				"must be a canonical address (bits 63:%u all equal)", c->linear_bits - 1);
	}
	static const int low[] = { CS, SS, DS, ES };
	for (unsigned i = 0; i < 4; i++) {
		int r = low[i];
		if ((r == CS || usable(g, r)) && (g->base[r] >> 32))
			ec_fail(c, segs[r].base, g->base[r], SDM_GUEST_SEG,
				"bits 63:32 must be 0: %s has a 32-bit base", segs[r].name);
	}
}

static void check_v86(struct ec *c, const struct view *g)
{
	for (int r = ES; r <= GS; r++) {
		if (g->limit[r] != 0xffff)
			ec_fail(c, segs[r].limit, g->limit[r], SDM_GUEST_SEG,
				"a virtual-8086 guest's %s limit must be 0xffff", segs[r].name);
		if (g->ar[r] != 0xf3)
			fail_ar(c, g, r, "of a virtual-8086 guest must be 0x000000f3 "
				    "(present read/write accessed data, DPL 3)");
	}
}

static void check_type(struct ec *c, const struct view *g, int r)
{
	unsigned type = AR_TYPE(g->ar[r]);

	if (r == CS) {
		bool code = type == 9 || type == 11 || type == 13 || type == 15;
		if (!code && !(g->ug && type == 3))
			fail_ar(c, g, r, g->ug ? "must be an accessed code segment (type 9, 11, 13 or 15) "
						 "or, unrestricted, type 3"
					       : "must be an accessed code segment (type 9, 11, 13 or 15)");
	} else if (r == SS) {
		if (type != 3 && type != 7)
			fail_ar(c, g, r, "must be a read/write accessed data segment (type 3 or 7)");
	} else {
		if (!(type & 1))
			fail_ar(c, g, r, "must be marked accessed (type bit 0)");
		if ((type & 8) && !(type & 2))
			fail_ar(c, g, r, "holds a code segment, which must be readable (type bit 1)");
	}
}

/* Privilege: CS against SS (their DPLs make the CPL), the rest against RPLs. */
static void check_dpl(struct ec *c, const struct view *g, int r)
{
	unsigned type = AR_TYPE(g->ar[r]), dpl = AR_DPL(g->ar[r]), ss_dpl = AR_DPL(g->ar[SS]);
	unsigned rpl = SEL_RPL(g->sel[r]);

	if (r == CS && type == 3 && dpl != 0)
		fail_ar(c, g, r, "of type 3 (unrestricted guest) must have DPL 0");
	if (r == CS && (type == 9 || type == 11) && dpl != ss_dpl)
		ec_fail(c, segs[r].ar, g->ar[r], SDM_GUEST_SEG,
			"CS is non-conforming code: its DPL (%u) must equal SS.DPL (%u)", dpl, ss_dpl);
	if (r == CS && (type == 13 || type == 15) && dpl > ss_dpl)
		ec_fail(c, segs[r].ar, g->ar[r], SDM_GUEST_SEG,
			"CS is conforming code: its DPL (%u) must not exceed SS.DPL (%u)", dpl, ss_dpl);
	if (r == SS && !g->ug && dpl != rpl)
		ec_fail(c, segs[r].ar, g->ar[r], SDM_GUEST_SEG,
			"SS.DPL (%u) must equal the RPL of GUEST_SS_SELECTOR (%u)", dpl, rpl);
	if (r == SS && (AR_TYPE(g->ar[CS]) == 3 || !g->pe) && dpl != 0)
		fail_ar(c, g, r, "must have DPL 0 in real mode or while CS is of type 3");
	if (r != CS && r != SS && !g->ug && type <= 11 && dpl < rpl)
		ec_fail(c, segs[r].ar, g->ar[r], SDM_GUEST_SEG,
			"%s.DPL (%u) must not be below the RPL of its selector (%u)", segs[r].name, dpl, rpl);
}

static void want_present(struct ec *c, const struct view *g, int r)
{
	if (!(g->ar[r] & AR_P))
		fail_ar(c, g, r, "must be present (P, bit 7)");
	if (g->ar[r] & AR_RESERVED_11_8)
		fail_ar(c, g, r, "reserved bits 11:8 must be 0");
}

/* The limit is in bytes; G says how the descriptor held it. */
static void want_granularity(struct ec *c, const struct view *g, int r)
{
	uint64_t limit = g->limit[r];

	if ((limit & 0xfff) != 0xfff && (g->ar[r] & AR_G))
		ec_fail(c, segs[r].ar, g->ar[r], SDM_GUEST_SEG,
			"%s.G (bit 15) must be 0: its limit 0x%08llx has a 0 in bits 11:0", segs[r].name,
			(unsigned long long)limit);
	if ((limit & 0xfff00000ull) && !(g->ar[r] & AR_G))
		ec_fail(c, segs[r].ar, g->ar[r], SDM_GUEST_SEG,
			"%s.G (bit 15) must be 1: its limit 0x%08llx sets bits 31:20", segs[r].name,
			(unsigned long long)limit);
}

static void want_high_reserved(struct ec *c, const struct view *g, int r)
{
	if (g->ar[r] & AR_RESERVED_31_17)
		fail_ar(c, g, r, "reserved bits 31:17 must be 0");
}

/* CS, SS, DS, ES, FS, GS outside virtual-8086 mode; unusable ones (never CS) are skipped. */
static void check_code_and_data(struct ec *c, const struct view *g)
{
	static const int order[] = { CS, SS, DS, ES, FS, GS };

	for (unsigned i = 0; i < 6; i++) {
		int r = order[i];
		uint64_t ar = g->ar[r];
		if (r != CS && !usable(g, r))
			continue;
		check_type(c, g, r);
		if (!(ar & AR_S))
			fail_ar(c, g, r, "must be a code or data segment (S, bit 4, = 1)");
		check_dpl(c, g, r);
		want_present(c, g, r);
		if (r == CS && g->ia32e && (ar & AR_L) && (ar & AR_DB))
			fail_ar(c, g, r, "cannot set both L (bit 13) and D/B (bit 14) in an IA-32e mode guest");
		want_granularity(c, g, r);
		want_high_reserved(c, g, r);
	}
}

static void check_tr_ldtr(struct ec *c, const struct view *g)
{
	unsigned type = AR_TYPE(g->ar[TR]);

	if (g->ia32e ? type != 11 : (type != 3 && type != 11))
		fail_ar(c, g, TR, g->ia32e ? "must be a busy 64-bit TSS (type 11) in an IA-32e mode guest"
					   : "must be a busy TSS (type 3 or 11)");
	if (g->ar[TR] & AR_S)
		fail_ar(c, g, TR, "must be a system segment (S, bit 4, = 0)");
	want_present(c, g, TR);
	want_granularity(c, g, TR);
	if (!usable(g, TR))
		fail_ar(c, g, TR, "must be usable (bit 16 = 0): every task has a TSS");
	want_high_reserved(c, g, TR);
	if (!usable(g, LDTR))
		return;
	if (AR_TYPE(g->ar[LDTR]) != 2)
		fail_ar(c, g, LDTR, "must be an LDT (type 2) when usable");
	if (g->ar[LDTR] & AR_S)
		fail_ar(c, g, LDTR, "must be a system segment (S, bit 4, = 0)");
	want_present(c, g, LDTR);
	want_granularity(c, g, LDTR);
	want_high_reserved(c, g, LDTR);
}

/* §27.3.1.2, in the SDM's order: selectors, bases, limits, access rights. */
void ec_check_guest_segments(struct ec *c)
{
	struct view g = {
		.v86 = ec_read(c, GUEST_RFLAGS) & RFLAGS_VM,
		.ug = c->proc2 & VMX_PROC2_UNRESTRICTED_GUEST,
		.ia32e = c->entry & VMX_ENTRY_IA32E_MODE_GUEST,
		.pe = ec_read(c, GUEST_CR0) & CR0_PE,
	};

	for (int r = 0; r < NSEG; r++) {
		g.sel[r] = ec_read(c, segs[r].sel);
		g.base[r] = ec_read(c, segs[r].base);
		g.limit[r] = ec_read(c, segs[r].limit);
		g.ar[r] = ec_read(c, segs[r].ar);
	}
	check_selectors(c, &g);
	check_bases(c, &g);
	if (g.v86)
		check_v86(c, &g);
	else
		check_code_and_data(c, &g);
	check_tr_ldtr(c, &g);
}
