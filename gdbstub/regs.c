/* regs.c — the register views: gdb's register numbers (the order of
 * target.xml, which also fixes the layout of `g`) mapped to the debug
 * target API.  Written once; target_xml.c, `g`/`G`, `p`/`P` and the stop
 * replies all read the view of the connection (arch.c chooses it).
 *
 * amd64 follows gdb's own amd64 description, so the numbers are the ones
 * gdb users know: org.gnu.gdb.i386.core (0-39: GPRs in gdb's order
 * rax rbx rcx rdx rsi rdi rbp rsp r8-r15, rip, eflags, six selectors, st0-7
 * and the eight x87 control registers), org.gnu.gdb.i386.sse (40-56:
 * xmm0-15, mxcsr), org.gnu.gdb.i386.segments (57-58: fs_base, gs_base), and
 * our own org.vmxdbg.system (59-64: cr0 cr2 cr3 cr4 cr8 efer), which gdb
 * shows as extra registers in the "system" group.
 *
 * i386 follows gdb's 32-bit description (gdb manual, "i386 Features"; the
 * order of its 32bit-core.xml and 32bit-sse.xml): core 0-31 (eax ecx edx
 * ebx esp ebp esi edi — the hardware's order, unlike amd64's — eip, eflags,
 * the selectors, st0-7, the x87 control registers), sse 32-40 (xmm0-7,
 * mxcsr), then the same system registers at 41-46, still 64 bits wide
 * (EFER is an MSR; the control registers are shown whole).  No segments
 * feature: FS/GS bases are not what 32-bit code works with.  The 32-bit
 * registers are the low halves of the target's 64-bit ones: reads
 * truncate, writes zero-extend, as a 32-bit MOV does in 64-bit mode.
 *
 * Values go little-endian in as many bytes as the register has bits. */
#include "stub.h"

#include "platform/errno.h"
#include "platform/kstring.h"

/* The x87 control registers as gdb names them, from the FXSAVE image. */
enum gdb_fpu_ctrl { FCTRL, FSTAT, FTAG, FISEG, FIOFF, FOSEG, FOOFF, FOP };

#define GPR(name, treg, type) { name, 64, GDB_REG_TARGET, treg, GDB_FEAT_CORE, type, NULL }
#define GPR32(name, treg, type) { name, 32, GDB_REG_TARGET, treg, GDB_FEAT_CORE, type, NULL }
#define EFLAGS { "eflags", 32, GDB_REG_TARGET, TREG_RFLAGS, GDB_FEAT_CORE, "i386_eflags", NULL }
#define SEL(name, treg) { name, 32, GDB_REG_TARGET, treg, GDB_FEAT_CORE, "int32", NULL }
#define SELECTORS SEL("cs", TREG_CS), SEL("ss", TREG_SS), SEL("ds", TREG_DS), \
	SEL("es", TREG_ES), SEL("fs", TREG_FS), SEL("gs", TREG_GS)
#define ST(i) { "st" #i, 80, GDB_REG_ST, i, GDB_FEAT_CORE, "i387_ext", NULL }
#define FCR(name, f) { name, 32, GDB_REG_FPU_CTRL, f, GDB_FEAT_CORE, "int", "float" }
#define X87 ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7), \
	FCR("fctrl", FCTRL), FCR("fstat", FSTAT), FCR("ftag", FTAG), FCR("fiseg", FISEG), \
	FCR("fioff", FIOFF), FCR("foseg", FOSEG), FCR("fooff", FOOFF), FCR("fop", FOP)
#define XMM(i) { "xmm" #i, 128, GDB_REG_XMM, i, GDB_FEAT_SSE, "vec128", NULL }
#define MXCSR { "mxcsr", 32, GDB_REG_MXCSR, 0, GDB_FEAT_SSE, "i386_mxcsr", "vector" }
#define SYS(name, treg, type) { name, 64, GDB_REG_TARGET, treg, GDB_FEAT_SYSTEM, type, "system" }

static const struct gdb_reg amd64_regs[] = {
	GPR("rax", 0, "int64"), GPR("rbx", 3, "int64"), GPR("rcx", 1, "int64"),
	GPR("rdx", 2, "int64"), GPR("rsi", 6, "int64"), GPR("rdi", 7, "int64"),
	GPR("rbp", 5, "data_ptr"), GPR("rsp", 4, "data_ptr"),
	GPR("r8", 8, "int64"), GPR("r9", 9, "int64"), GPR("r10", 10, "int64"),
	GPR("r11", 11, "int64"), GPR("r12", 12, "int64"), GPR("r13", 13, "int64"),
	GPR("r14", 14, "int64"), GPR("r15", 15, "int64"),
	GPR("rip", TREG_RIP, "code_ptr"), EFLAGS, SELECTORS, X87,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15), MXCSR,
	{ "fs_base", 64, GDB_REG_TARGET, TREG_FS_BASE, GDB_FEAT_SEGMENTS, "int", NULL },
	{ "gs_base", 64, GDB_REG_TARGET, TREG_GS_BASE, GDB_FEAT_SEGMENTS, "int", NULL },
	SYS("cr0", TREG_CR0, "vmxdbg_cr0"), SYS("cr2", TREG_CR2, "data_ptr"),
	SYS("cr3", TREG_CR3, "int64"), SYS("cr4", TREG_CR4, "vmxdbg_cr4"),
	SYS("cr8", TREG_CR8, "int64"), SYS("efer", TREG_EFER, "vmxdbg_efer"),
};

/* cr2 is int64 here: data_ptr is as wide as the architecture's pointers,
 * 32 bits on i386, and gdb refuses a 64-bit register of that type. */
static const struct gdb_reg i386_regs[] = {
	GPR32("eax", 0, "int32"), GPR32("ecx", 1, "int32"), GPR32("edx", 2, "int32"),
	GPR32("ebx", 3, "int32"), GPR32("esp", 4, "data_ptr"), GPR32("ebp", 5, "data_ptr"),
	GPR32("esi", 6, "int32"), GPR32("edi", 7, "int32"),
	GPR32("eip", TREG_RIP, "code_ptr"), EFLAGS, SELECTORS, X87,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7), MXCSR,
	SYS("cr0", TREG_CR0, "vmxdbg_cr0"), SYS("cr2", TREG_CR2, "int64"),
	SYS("cr3", TREG_CR3, "int64"), SYS("cr4", TREG_CR4, "vmxdbg_cr4"),
	SYS("cr8", TREG_CR8, "int64"), SYS("efer", TREG_EFER, "vmxdbg_efer"),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* Expedited in stop replies: gdb's numbers of the frame pointer, the stack
 * pointer and the PC (its amd64 and i386 register numbering). */
const struct gdb_view gdb_view_amd64 = {
	"amd64", "i386:x86-64", amd64_regs, COUNT(amd64_regs), { 6, 7, 16 },
};
const struct gdb_view gdb_view_i386 = {
	"i386", "i386", i386_regs, COUNT(i386_regs), { 5, 4, 8 },
};

size_t gdb_view_bytes(const struct gdb_view *view)
{
	size_t n = 0;
	for (unsigned i = 0; i < view->count; i++)
		n += view->regs[i].bits / 8;
	return n;
}

static void put_le(uint8_t *bytes, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		bytes[i] = (uint8_t)v;
}

static uint64_t get_le(const uint8_t *bytes, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | bytes[i];
	return v;
}

/* The FPU state is read once per packet (gdb_fpu_forget() at each). */
static int fpu_load(struct gdb_stub *g)
{
	struct gdb_fpu *f = &g->fpu;
	if (!f->loaded) {
		f->rc = target_fpu_read(g->v, &f->fx);
		if (!f->rc)
			f->orig = f->fx;
		f->loaded = true;
	}
	return f->rc;
}

void gdb_fpu_forget(struct gdb_stub *g)
{
	g->fpu.loaded = false;
}

/* FXSAVE keeps one "not empty" bit per physical register; gdb wants the
 * full x87 tag word, two bits each: 0 valid, 1 zero, 2 special, 3 empty,
 * derived from the contents (SDM Vol. 1 §10.5.1.1, Table 10-2).  The
 * stack register holding physical register p is st((p - TOP) mod 8). */
static unsigned full_tag(const struct target_fxsave *fx)
{
	unsigned top = (fx->fsw >> 11) & 7, tag = 0;
	for (unsigned p = 0; p < 8; p++) {
		const uint8_t *st = fx->st[(p - top) & 7];
		uint64_t mant = get_le(st, 8);
		unsigned exp = (unsigned)(st[9] & 0x7f) << 8 | st[8], t;
		if (!(fx->ftw >> p & 1))
			t = 3;
		else if (exp == 0x7fff)
			t = 2;
		else if (exp == 0)
			t = mant ? 2 : 1;
		else
			t = mant >> 63 ? 0 : 2;
		tag |= t << (2 * p);
	}
	return tag;
}

static uint8_t abridged_tag(uint64_t full)
{
	uint8_t ftw = 0;
	for (unsigned p = 0; p < 8; p++)
		if ((full >> (2 * p) & 3) != 3)
			ftw |= (uint8_t)(1u << p);
	return ftw;
}

static uint64_t fpu_ctrl_get(const struct target_fxsave *fx, unsigned which)
{
	switch (which) {
	case FCTRL: return fx->fcw;
	case FSTAT: return fx->fsw;
	case FTAG: return full_tag(fx);
	case FISEG: return fx->fcs;
	case FIOFF: return fx->fip;
	case FOSEG: return fx->fds;
	case FOOFF: return fx->fdp;
	default: return fx->fop & 0x7ff;
	}
}

static void fpu_ctrl_set(struct target_fxsave *fx, unsigned which, uint64_t v)
{
	switch (which) {
	case FCTRL: fx->fcw = (uint16_t)v; break;
	case FSTAT: fx->fsw = (uint16_t)v; break;
	case FTAG: fx->ftw = abridged_tag(v); break;
	case FISEG: fx->fcs = (uint16_t)v; break;
	case FIOFF: fx->fip = (uint32_t)v; break;
	case FOSEG: fx->fds = (uint16_t)v; break;
	case FOOFF: fx->fdp = (uint32_t)v; break;
	default: fx->fop = (uint16_t)(v & 0x7ff); break;
	}
}

/* Register n of the connection's view into bytes (bits/8 of them). */
int gdb_reg_get(struct gdb_stub *g, unsigned n, uint8_t *bytes)
{
	const struct gdb_view *view = gdb_view(g);
	if (n >= view->count)
		return -ENOENT;
	const struct gdb_reg *r = &view->regs[n];
	if (r->kind == GDB_REG_TARGET) {
		uint64_t v;
		int rc = target_reg_read(g->v, (enum target_reg)r->index, &v);
		if (!rc)
			put_le(bytes, v, r->bits / 8);
		return rc;
	}
	int rc = fpu_load(g);
	if (rc)
		return rc;
	const struct target_fxsave *fx = &g->fpu.fx;
	if (r->kind == GDB_REG_ST)
		memcpy(bytes, fx->st[r->index], 10);
	else if (r->kind == GDB_REG_XMM)
		memcpy(bytes, fx->xmm[r->index], 16);
	else if (r->kind == GDB_REG_MXCSR)
		put_le(bytes, fx->mxcsr, 4);
	else
		put_le(bytes, fpu_ctrl_get(fx, r->index), 4);
	return 0;
}

/* The reserved MXCSR bits fault FXRSTOR (#GP): refuse them here.  A zero
 * MXCSR_MASK means the default, 0xffbf (SDM Vol. 1 §11.6.6). */
static int mxcsr_set(struct target_fxsave *fx, uint64_t v)
{
	uint32_t mask = fx->mxcsr_mask ? fx->mxcsr_mask : 0xffbf;
	if (v & ~(uint64_t)mask)
		return -EINVAL;
	fx->mxcsr = (uint32_t)v;
	return 0;
}

/* Register n from bytes.  A register that already holds the value is not
 * written: `G` sends every register back, and the target refuses writes to
 * some (CR0, CR4...) that `G` merely repeats; for a 32-bit register of
 * the i386 view only the low half is compared, and a new value is written
 * zero-extended.  FPU changes collect in g->fpu until gdb_fpu_flush(). */
int gdb_reg_set(struct gdb_stub *g, unsigned n, const uint8_t *bytes)
{
	const struct gdb_view *view = gdb_view(g);
	if (n >= view->count)
		return -ENOENT;
	const struct gdb_reg *r = &view->regs[n];
	uint64_t v = r->bits <= 64 ? get_le(bytes, r->bits / 8) : 0;
	if (r->kind == GDB_REG_TARGET) {
		uint64_t old, mask = r->bits == 64 ? ~0ull : (1ull << r->bits) - 1;
		int rc = target_reg_read(g->v, (enum target_reg)r->index, &old);
		if (!rc && (old & mask) == v)
			return 0;
		return target_reg_write(g->v, (enum target_reg)r->index, v);
	}
	int rc = fpu_load(g);
	if (rc)
		return rc;
	struct target_fxsave *fx = &g->fpu.fx;
	if (r->kind == GDB_REG_ST)
		memcpy(fx->st[r->index], bytes, 10);
	else if (r->kind == GDB_REG_XMM)
		memcpy(fx->xmm[r->index], bytes, 16);
	else if (r->kind == GDB_REG_MXCSR && (rc = mxcsr_set(fx, v)) != 0)
		return rc;
	else if (r->kind == GDB_REG_FPU_CTRL)
		fpu_ctrl_set(fx, r->index, v);
	return 0;
}

/* Writes the FPU state back if a register of it changed. */
int gdb_fpu_flush(struct gdb_stub *g)
{
	struct gdb_fpu *f = &g->fpu;
	if (!f->loaded || f->rc || memcmp(&f->fx, &f->orig, sizeof(f->fx)) == 0)
		return 0;
	int rc = target_fpu_write(g->v, &f->fx);
	if (!rc)
		f->orig = f->fx;
	return rc;
}
