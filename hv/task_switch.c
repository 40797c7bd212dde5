/* task_switch.c — the task-switch state machine of SDM Vol. 3A §8.3.
 * Two phases, as the SDM orders them: the checks on the new TSS (§8.3 steps
 * 1-5) fault in the old task's context, before anything is written; past
 * them the switch commits (old TSS saved, busy flags, TR, CR0.TS) and the
 * checks on the new task's segments (§8.3 step 12, Table 8-1) fault in the
 * new task's context, with the state already loaded. */
#include "platform/errno.h"

#include "task_switch.h"

/* The 32-bit TSS (SDM Vol. 3A §8.2.1 Figure 8-2). */
#define TSS_LINK 0x00
#define TSS_CR3 0x1c
#define TSS_EIP 0x20
#define TSS_EFLAGS 0x24
#define TSS_GPR 0x28
#define TSS_SEG 0x48		/* ES CS SS DS FS GS, 4 bytes apart */
#define TSS_LDT 0x60
#define TSS_TRAP 0x64
#define TSS_MIN_LIMIT 0x67	/* a 32-bit TSS is at least 104 bytes */

#define EFLAGS_NT (1u << 14)
#define EFLAGS_VM (1u << 17)
#define EFLAGS_FIXED1 (1u << 1)
#define CR0_TS (1u << 3)
#define CR0_PG (1u << 31)

/* VMX access-rights bits (SDM Vol. 3C Table 25-2). */
#define AR_TYPE(ar) ((ar) & 0xf)
#define AR_S (1u << 4)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P (1u << 7)
#define AR_DB (1u << 14)
#define AR_UNUSABLE (1u << 16)
#define TYPE_CODE (1u << 3)
#define TYPE_CONFORMING (1u << 2)	/* code */
#define TYPE_READABLE (1u << 1)		/* code */
#define TYPE_WRITABLE (1u << 1)		/* data */
#define TYPE_ACCESSED (1u << 0)
/* System types (SDM Vol. 3A Table 3-2). */
#define SYS_TSS16_AVAIL 0x1
#define SYS_LDT 0x2
#define SYS_TSS16_BUSY 0x3
#define SYS_TSS32_AVAIL 0x9
#define SYS_TSS32_BUSY 0xb
#define TYPE_BUSY (1u << 1)		/* TSS: 0x9 available, 0xb busy */
#define DESC_BUSY ((uint64_t)TYPE_BUSY << 40)
#define DESC_ACCESSED (1ull << 40)

void ts_desc_decode(uint64_t raw, uint16_t sel, struct ts_seg *out)
{
	uint32_t limit = (uint32_t)(raw & 0xffff) | (uint32_t)((raw >> 32) & 0xf0000);
	out->sel = sel;
	out->base = (uint32_t)((raw >> 16) & 0xffffff) | (uint32_t)((raw >> 32) & 0xff000000u);
	out->ar = (uint32_t)((raw >> 40) & 0xff) | (uint32_t)((raw >> 40) & 0xf000);
	/* G scales the limit by 4 KiB, the low 12 bits all ones (§3.4.5). */
	out->limit = (raw & (1ull << 55)) ? (limit << 12) | 0xfff : limit;
}

static uint32_t table_base(const struct ts_cpu *c, uint16_t sel, uint32_t *limit)
{
	if (sel & 4) {
		*limit = (c->ldtr.ar & AR_UNUSABLE) ? 0 : c->ldtr.limit;
		return (c->ldtr.ar & AR_UNUSABLE) ? 0 : c->ldtr.base;
	}
	*limit = c->gdtr_limit;
	return c->gdtr_base;
}

int ts_desc_read(const struct ts_cpu *c, const struct ts_mem *m, uint16_t sel, uint64_t *raw)
{
	uint32_t limit, base = table_base(c, sel, &limit);
	uint32_t off = sel & 0xfff8u;
	if ((sel & 4) && (c->ldtr.ar & AR_UNUSABLE))
		return -ERANGE;
	if (off + 7 > limit)
		return -ERANGE;
	return m->read(m->ctx, c, base + off, raw, 8) < 0 ? -EIO : 0;
}

static int desc_write(const struct ts_cpu *c, const struct ts_mem *m, uint16_t sel, uint64_t raw)
{
	uint32_t limit, base = table_base(c, sel, &limit);
	return m->write(m->ctx, c, base + (sel & 0xfff8u), &raw, 8) < 0 ? -EIO : 0;
}

static void fault(struct ts_result *out, unsigned vector, uint32_t error)
{
	out->outcome = TS_FAULT;
	out->fault_vector = vector;
	out->fault_error = error;
}

static void refuse(struct ts_result *out, const char *why)
{
	out->outcome = TS_REFUSED;
	out->why = why;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Steps 1-5: the new TSS descriptor and the old TR, faulting in the old
 * task (#GP for CALL/JMP, #TS for IRET, whose back link names the TSS;
 * §8.3 and the instruction pages of CALL, JMP and IRET in Vol. 2). */
static bool check_new_tss(const struct ts_cpu *c, const struct ts_request *r, const struct ts_mem *m,
			  struct ts_seg *ntr, uint64_t *raw, struct ts_result *out)
{
	bool iret = r->source == TS_SRC_IRET;
	uint32_t err = (r->sel & 0xfffc) | (r->external ? 1 : 0);
	unsigned bad = iret ? TS_VEC_TS : TS_VEC_GP;

	if (AR_TYPE(c->tr.ar) == SYS_TSS16_BUSY || AR_TYPE(c->tr.ar) == SYS_TSS16_AVAIL) {
		refuse(out, "the current TSS is 16-bit: not emulated");
		return false;
	}
	if (c->tr.limit < TSS_MIN_LIMIT) {
		refuse(out, "the current TR is shorter than a 32-bit TSS");
		return false;
	}
	if (r->sel & 4) {
		fault(out, bad, err);
		return false;
	}
	int rc = ts_desc_read(c, m, r->sel, raw);
	if (rc == -ERANGE) {
		fault(out, bad, err);
		return false;
	}
	if (rc) {
		refuse(out, "the new TSS descriptor is not in guest memory");
		return false;
	}
	ts_desc_decode(*raw, r->sel, ntr);
	unsigned type = AR_TYPE(ntr->ar);
	if (!(ntr->ar & AR_S) && (type == SYS_TSS16_AVAIL || type == SYS_TSS16_BUSY)) {
		refuse(out, "the new TSS is 16-bit: not emulated");
		return false;
	}
	/* IRET returns to a busy task; the others start an available one. */
	if ((ntr->ar & AR_S) || type != (iret ? SYS_TSS32_BUSY : SYS_TSS32_AVAIL)) {
		fault(out, bad, err);
		return false;
	}
	if (!(ntr->ar & AR_P)) {
		fault(out, TS_VEC_NP, err);
		return false;
	}
	if (ntr->limit < TSS_MIN_LIMIT) {
		fault(out, TS_VEC_TS, err);
		return false;
	}
	/* CALL/JMP straight to a TSS: max(CPL, RPL) <= DPL (§8.3 step 2). */
	unsigned cpl = AR_DPL(c->seg[TS_SS].ar);
	unsigned rpl = r->sel & 3;
	if ((r->source == TS_SRC_CALL || r->source == TS_SRC_JMP) &&
	    (cpl > AR_DPL(ntr->ar) || rpl > AR_DPL(ntr->ar))) {
		fault(out, TS_VEC_GP, err);
		return false;
	}
	return true;
}

/* Step 7 and 8: the old task's dynamic fields and the busy/NT bookkeeping. */
static bool commit(struct ts_cpu *c, const struct ts_request *r, const struct ts_mem *m, struct ts_seg *ntr,
		   uint64_t new_raw, uint8_t *tss, struct ts_result *out)
{
	uint8_t old[TSS_SEG + 4 * TS_NSEG - TSS_EIP];
	uint32_t eflags = c->eflags;
	if (r->source == TS_SRC_JMP || r->source == TS_SRC_IRET) {
		uint64_t raw;
		if (ts_desc_read(c, m, c->tr.sel, &raw) || desc_write(c, m, c->tr.sel, raw & ~DESC_BUSY)) {
			refuse(out, "the current TSS descriptor is not in guest memory");
			return false;
		}
		if (r->source == TS_SRC_IRET)
			eflags &= ~EFLAGS_NT;
	}
	put32(old, r->next_eip);
	put32(old + 4, eflags);
	for (unsigned i = 0; i < 8; i++)
		put32(old + 8 + 4 * i, c->gpr[i]);
	for (unsigned i = 0; i < TS_NSEG; i++)
		put32(old + (TSS_SEG - TSS_EIP) + 4 * i, c->seg[i].sel);
	if (m->write(m->ctx, c, c->tr.base + TSS_EIP, old, sizeof(old)) < 0) {
		refuse(out, "the current TSS is not in guest memory");
		return false;
	}
	/* CALL and task gates nest: back link and NT (§8.4). */
	if (r->source == TS_SRC_CALL || r->source == TS_SRC_GATE) {
		uint8_t link[2] = { (uint8_t)c->tr.sel, (uint8_t)(c->tr.sel >> 8) };
		if (m->write(m->ctx, c, ntr->base + TSS_LINK, link, 2) < 0) {
			refuse(out, "the new TSS is not in guest memory");
			return false;
		}
		put32(tss + TSS_EFLAGS, get32(tss + TSS_EFLAGS) | EFLAGS_NT);
	}
	if (r->source != TS_SRC_IRET && desc_write(c, m, r->sel, new_raw | DESC_BUSY)) {
		refuse(out, "the new TSS descriptor is not in guest memory");
		return false;
	}
	ntr->ar |= TYPE_BUSY;
	c->tr = *ntr;
	c->cr0 |= CR0_TS;	/* step 9 (§2.5: the next x87/SSE use faults, #NM) */
	return true;
}

static void set_accessed(const struct ts_cpu *c, const struct ts_mem *m, uint16_t sel, uint64_t raw)
{
	/* The CPU sets the accessed flag of each descriptor it loads (§3.4.5.1). */
	if (!(raw & DESC_ACCESSED))
		desc_write(c, m, sel, raw | DESC_ACCESSED);
}

/* One descriptor for a segment register of the new task; faults per SDM
 * Vol. 3A §8.3 step 12 and the #TS/#NP/#SS rows of §6.15's interrupt pages. */
static bool load_seg(struct ts_cpu *c, const struct ts_mem *m, unsigned which, uint16_t sel, uint32_t ext,
		     struct ts_result *out)
{
	unsigned cpl = c->seg[TS_CS].sel & 3;
	uint32_t err = (sel & 0xfffc) | ext;
	uint64_t raw;
	struct ts_seg s;

	if ((sel & 0xfffc) == 0) {
		if (which == TS_CS || which == TS_SS) {
			fault(out, TS_VEC_TS, err);
			return false;
		}
		c->seg[which] = (struct ts_seg){ .sel = sel, .ar = AR_UNUSABLE };
		return true;
	}
	int rc = ts_desc_read(c, m, sel, &raw);
	if (rc == -ERANGE) {
		fault(out, TS_VEC_TS, err);
		return false;
	}
	if (rc) {
		refuse(out, "a new segment descriptor is not in guest memory");
		return false;
	}
	ts_desc_decode(raw, sel, &s);
	unsigned type = AR_TYPE(s.ar), dpl = AR_DPL(s.ar);
	bool ok = (s.ar & AR_S) != 0;
	if (which == TS_CS)
		ok = ok && (type & TYPE_CODE) && ((type & TYPE_CONFORMING) ? dpl <= cpl : dpl == cpl);
	else if (which == TS_SS)
		ok = ok && !(type & TYPE_CODE) && (type & TYPE_WRITABLE) && dpl == cpl && (sel & 3) == cpl;
	else if (!(type & TYPE_CODE) || !(type & TYPE_CONFORMING))
		ok = ok && (!(type & TYPE_CODE) || (type & TYPE_READABLE)) && dpl >= cpl && dpl >= (sel & 3u);
	else
		ok = ok && (type & TYPE_READABLE);
	if (!ok) {
		fault(out, TS_VEC_TS, err);
		return false;
	}
	if (!(s.ar & AR_P)) {
		fault(out, which == TS_SS ? TS_VEC_SS : TS_VEC_NP, err);
		return false;
	}
	set_accessed(c, m, sel, raw);
	s.ar |= TYPE_ACCESSED;
	c->seg[which] = s;
	return true;
}

static bool load_ldtr(struct ts_cpu *c, const struct ts_mem *m, uint16_t sel, uint32_t ext, struct ts_result *out)
{
	uint32_t err = (sel & 0xfffc) | ext;
	uint64_t raw;
	if ((sel & 0xfffc) == 0) {
		c->ldtr = (struct ts_seg){ .sel = sel, .ar = AR_UNUSABLE };
		return true;
	}
	int rc = (sel & 4) ? -ERANGE : ts_desc_read(c, m, sel, &raw);
	if (rc == -EIO) {
		refuse(out, "the new LDT descriptor is not in guest memory");
		return false;
	}
	struct ts_seg s;
	if (!rc)
		ts_desc_decode(raw, sel, &s);
	if (rc || (s.ar & AR_S) || AR_TYPE(s.ar) != SYS_LDT || !(s.ar & AR_P)) {
		fault(out, TS_VEC_TS, err);
		return false;
	}
	c->ldtr = s;
	return true;
}

/* Steps 10-12: the new task's registers, then its descriptors. */
static void load_new(struct ts_cpu *c, const struct ts_request *r, const struct ts_mem *m, const uint8_t *tss,
		     struct ts_result *out)
{
	uint32_t ext = r->external ? 1 : 0;
	if (c->cr0 & CR0_PG) {
		c->cr3 = get32(tss + TSS_CR3);
		out->cr3_loaded = true;
	}
	c->eip = get32(tss + TSS_EIP);
	c->eflags = get32(tss + TSS_EFLAGS) | EFLAGS_FIXED1;
	for (unsigned i = 0; i < 8; i++)
		c->gpr[i] = get32(tss + TSS_GPR + 4 * i);
	/* The selectors load first, the descriptors after (a fault leaves the
	 * new selectors in place, §8.3 step 12). */
	for (unsigned i = 0; i < TS_NSEG; i++)
		c->seg[i].sel = (uint16_t)get32(tss + TSS_SEG + 4 * i);
	c->ldtr.sel = (uint16_t)get32(tss + TSS_LDT);
	if (!load_ldtr(c, m, c->ldtr.sel, ext, out))
		return;
	static const unsigned order[TS_NSEG] = { TS_CS, TS_SS, TS_DS, TS_ES, TS_FS, TS_GS };
	for (unsigned i = 0; i < TS_NSEG; i++)
		if (!load_seg(c, m, order[i], c->seg[order[i]].sel, ext, out))
			return;
	if (r->push_error) {
		/* An exception delivered through a task gate pushes its error code
		 * onto the new task's stack (§6.12.2). */
		bool big = c->seg[TS_SS].ar & AR_DB;	/* ESP, else SP */
		uint32_t esp = big ? c->gpr[4] - 4 : (c->gpr[4] & 0xffff0000u) | ((c->gpr[4] - 4) & 0xffff);
		uint8_t e[4];
		put32(e, r->error);
		if (m->write(m->ctx, c, c->seg[TS_SS].base + (big ? esp : esp & 0xffff), e, 4) < 0) {
			refuse(out, "the new task's stack is not in guest memory");
			return;
		}
		c->gpr[4] = esp;
	}
}

void task_switch(struct ts_cpu *c, const struct ts_request *r, const struct ts_mem *m, struct ts_result *out)
{
	struct ts_seg ntr;
	uint64_t raw;
	uint8_t tss[TSS_MIN_LIMIT + 1];

	*out = (struct ts_result){ .outcome = TS_DONE };
	if (!check_new_tss(c, r, m, &ntr, &raw, out))
		return;
	if (m->read(m->ctx, c, ntr.base, tss, sizeof(tss)) < 0) {
		refuse(out, "the new TSS is not in guest memory");
		return;
	}
	if (get32(tss + TSS_EFLAGS) & EFLAGS_VM) {
		refuse(out, "new task is virtual-8086 (EFLAGS.VM): not emulated");
		return;
	}
	if (get32(tss + TSS_TRAP) & 1) {
		refuse(out, "new TSS sets T: its #DB trap is not emulated");
		return;
	}
	if (!commit(c, r, m, &ntr, raw, tss, out))
		return;
	load_new(c, r, m, tss, out);
}
