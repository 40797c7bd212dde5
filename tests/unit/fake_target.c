/* fake_target.c — the debug target API and the debug line over in-memory
 * state, for the gdb stub's unit tests and fuzzer (see fake_target.h).
 * Behaves like hv/target.c where the stub can tell: error codes, refused
 * register writes, page-by-page virtual access. */
#include "fake_target.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "platform/errno.h"
#include "platform/log.h"
#include "hv/ept_dirty.h"
#include "hv/trace.h"

bool fake_dirty_no_ad;
static enum dirty_method fake_dirty = DIRTY_OFF;
static bool fake_dirty_started;

struct fake_target fake;
struct fake_line line;
char fake_last_log[256];

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fake_last_log, sizeof(fake_last_log), fmt, ap);
	va_end(ap);
}

static const char *const reg_names[TREG_COUNT] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"rip", "rflags", "cs", "ss", "ds", "es", "fs", "gs",
	"fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer",
};

static void map(uint64_t gva, uint64_t gpa)
{
	fake.maps[fake.map_count].gva = gva;
	fake.maps[fake.map_count].gpa = gpa;
	fake.map_count++;
}

void fake_target_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake_last_log[0] = 0;
	/* Every register a different, recognisable value: 0x1100 + 0x11 * r. */
	for (int r = 0; r < TREG_COUNT; r++)
		fake.regs[r] = 0x1100 + 0x11 * (uint64_t)r;
	fake.regs[TREG_RIP] = FAKE_VA_DATA + 0x10;
	fake.regs[4] = FAKE_VA_DATA + 0x1ff0;	/* rsp */
	fake.regs[TREG_RFLAGS] = 0x246;
	fake.regs[TREG_CS] = 0x10;
	fake.regs[TREG_CR0] = 0x80050033;
	fake.fx.fcw = 0x37f;
	fake.fx.mxcsr = 0x1f80;
	fake.fx.mxcsr_mask = 0xffff;
	static uint8_t pattern[FAKE_PHYS_SIZE];
	if (!pattern[1])
		for (unsigned i = 0; i < FAKE_PHYS_SIZE; i++)
			pattern[i] = (uint8_t)(i * 7 + (i >> 8));
	memcpy(fake.phys, pattern, FAKE_PHYS_SIZE);
	map(FAKE_VA_DATA, 0x1000);
	map(FAKE_VA_DATA + 0x1000, 0x2000);
	map(FAKE_VA_KERNEL, 0x3000);
	map(FAKE_VA_HV, FAKE_HV_START);
	fake.vmcs[0] = (struct fake_vmcs_field){ "GUEST_RIP", 0x681e, FAKE_VA_DATA + 0x10, false, false };
	fake.vmcs[1] = (struct fake_vmcs_field){ "GUEST_CR0", 0x6800, 0x80050033, false, false };
	fake.vmcs[2] = (struct fake_vmcs_field){ "EXIT_REASON", 0x4402, 52, true, false };
	fake.vmcs[3] = (struct fake_vmcs_field){ "EPT_POINTER", 0x201a, 0x5e, false, true };
	fake.vmcs[4] = (struct fake_vmcs_field){ "GUEST_CS_ACCESS_RIGHTS", 0x4816, 0, false, false };
	fake_set_mode(FAKE_MODE_64BIT);
	fake.vmcs_report_lines = 3;
	fake.resume_signal = -2;
	fake.injected_vector = -1;
	for (unsigned i = 0; i < FAKE_PHYS_SIZE / 0x1000; i++)
		fake.ept_perms[i] = EPT_RWX;
	fake.vcpu_count = 1;
	fake.bp_vcpu = -1;
	fake_trace_on = true;
	fake_trace_cleared = false;
	fake_dirty_no_ad = false;
	fake_dirty = DIRTY_OFF;
	fake_dirty_started = false;
}

void fake_set_vcpus(unsigned n)
{
	fake.vcpu_count = n;
	for (unsigned i = 1; i < FAKE_VCPUS; i++) {
		struct fake_ap *a = &fake.ap[i - 1];
		memset(a, 0, sizeof(*a));
		a->vcpu.index = i;
		a->vcpu.apic_id = 2 * i;
		memcpy(a->regs, fake.regs, sizeof(a->regs));
		for (unsigned r = 0; r < 16; r++)
			a->regs[r] += 0x10000ull * i;
		a->regs[4] = FAKE_VA_DATA + 0x1ff0 - 0x100ull * i;
		a->regs[TREG_RIP] = FAKE_VA_DATA + 0x10 + 0x20ull * i;
		a->regs[TREG_CR3] += 0x1000ull * i;
		a->fx = fake.fx;
		a->waiting_sipi = i == 2;
	}
}

/* NULL for vCPU 0 (and any pointer that is not an AP's). */
static struct fake_ap *ap_of(const struct vcpu *v)
{
	for (unsigned i = 0; i + 1 < FAKE_VCPUS; i++)
		if (v == &fake.ap[i].vcpu)
			return &fake.ap[i];
	return NULL;
}

static unsigned index_of(const struct vcpu *v)
{
	struct fake_ap *a = ap_of(v);
	return a ? a->vcpu.index : 0;
}

static uint64_t *regs_of(const struct vcpu *v)
{
	struct fake_ap *a = ap_of(v);
	return a ? a->regs : fake.regs;
}

unsigned target_vcpu_count(void)
{
	return fake.vcpu_count;
}

/* The stub selects a vCPU for the VMCS calls (Hg): the fake records it. */
int target_vcpu_select(struct vcpu *v)
{
	fake.selected = v;
	return 0;
}

struct vcpu *target_vcpu(unsigned index)
{
	if (index >= fake.vcpu_count)
		return NULL;
	return index ? &fake.ap[index - 1].vcpu : &fake.vcpu;
}

unsigned target_vcpu_index(const struct vcpu *v)
{
	return index_of(v);
}

uint32_t target_vcpu_apic_id(const struct vcpu *v)
{
	struct fake_ap *a = ap_of(v);
	return a ? a->vcpu.apic_id : 0;
}

bool target_vcpu_started(const struct vcpu *v)
{
	struct fake_ap *a = ap_of(v);
	return !a || !a->waiting_sipi;
}

/* EFER (SCE LME LMA NXE, or none) and the code segment's access rights:
 * present, code, execute/read, accessed, 4 KiB granularity, and L (64-bit)
 * or D (32-bit default size) — SDM Vol. 3C §25.4.1. */
void fake_set_mode(enum fake_mode mode)
{
	fake.regs[TREG_EFER] = mode == FAKE_MODE_PROTECTED ? 0 : 0xd01;
	fake.vmcs[4].value = mode == FAKE_MODE_64BIT ? 0xa09b : 0xc09b;
}

const char *target_reg_name(enum target_reg r)
{
	return (unsigned)r < TREG_COUNT ? reg_names[r] : NULL;
}

int target_reg_by_name(const char *name)
{
	for (int r = 0; r < TREG_COUNT; r++)
		if (strcasecmp(reg_names[r], name) == 0)
			return r;
	return -ENOENT;
}

int target_reg_read(struct vcpu *v, enum target_reg r, uint64_t *value)
{
	if ((unsigned)r >= TREG_COUNT)
		return -EINVAL;
	if (fake.reg_read_error[r])
		return fake.reg_read_error[r];
	*value = regs_of(v)[r];
	return 0;
}

int target_reg_write(struct vcpu *v, enum target_reg r, uint64_t value)
{
	if ((unsigned)r >= TREG_COUNT)
		return -EINVAL;
	if (r == TREG_CR0 || r == TREG_CR2 || r == TREG_CR4 || r == TREG_CR8)
		return -EPERM;
	if (r == TREG_RFLAGS)
		value |= 2;
	regs_of(v)[r] = value;
	fake.reg_writes++;
	return 0;
}

static int phys_check(uint64_t gpa, size_t len)
{
	if (gpa + len < gpa || gpa + len > FAKE_PHYS_SIZE)
		return -EFAULT;
	if (gpa < FAKE_HV_END && gpa + len > FAKE_HV_START)
		return -EPERM;
	return 0;
}

int target_read_phys(uint64_t gpa, void *buf, size_t len)
{
	int rc = phys_check(gpa, len);
	if (!rc)
		memcpy(buf, fake.phys + gpa, len);
	return rc;
}

int target_write_phys(uint64_t gpa, const void *buf, size_t len)
{
	int rc = phys_check(gpa, len);
	if (!rc)
		memcpy(fake.phys + gpa, buf, len);
	return rc;
}

/* Each vCPU's CR3 maps FAKE_VA_DATA's two pages to pages of its own. */
int target_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	for (unsigned i = 0; i < fake.map_count; i++) {
		if ((gva & ~0xfffull) == fake.maps[i].gva) {
			*gpa = fake.maps[i].gpa + (gva & 0xfff);
			if (gva - FAKE_VA_DATA < 0x2000)
				*gpa += 0x4000ull * index_of(v);
			return 0;
		}
	}
	return -EFAULT;
}

static int virt_access(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t len, bool write)
{
	while (len) {
		uint64_t gpa;
		size_t chunk = 0x1000 - (gva & 0xfff);
		chunk = chunk < len ? chunk : len;
		int rc = target_virt_to_phys(v, gva, &gpa);
		if (!rc)
			rc = write ? target_write_phys(gpa, buf, chunk) : target_read_phys(gpa, buf, chunk);
		if (rc)
			return rc;
		gva += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int target_read_virt(struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
	return virt_access(v, gva, buf, len, false);
}

int target_write_virt(struct vcpu *v, uint64_t gva, const void *buf, size_t len)
{
	return virt_access(v, gva, (uint8_t *)buf, len, true);
}

static struct fake_vmcs_field *vmcs_find(const char *field, char *err, size_t errlen)
{
	for (int i = 0; i < FAKE_VMCS_FIELDS; i++)
		if (fake.vmcs[i].name && strcasecmp(fake.vmcs[i].name, field) == 0)
			return &fake.vmcs[i];
	snprintf(err, errlen, "no VMCS field is called '%s'", field);
	return NULL;
}

int target_vmcs_read(const char *field, uint64_t *value, char *err, size_t errlen)
{
	struct fake_vmcs_field *f = vmcs_find(field, err, errlen);
	if (!f)
		return -ENOENT;
	*value = f->value;
	return 0;
}

int target_vmcs_write(const char *field, uint64_t value, char *err, size_t errlen)
{
	struct fake_vmcs_field *f = vmcs_find(field, err, errlen);
	if (!f)
		return -ENOENT;
	if (f->read_only) {
		snprintf(err, errlen, "%s is a read-only VM-exit information field", f->name);
		return -EPERM;
	}
	if (f->hypervisor) {
		snprintf(err, errlen, "%s belongs to the hypervisor", f->name);
		return -EPERM;
	}
	f->value = value;
	return 0;
}

int target_vmcs_read_encoding(uint32_t encoding, uint64_t *value)
{
	for (int i = 0; i < FAKE_VMCS_FIELDS; i++) {
		if (fake.vmcs[i].name && fake.vmcs[i].encoding == encoding) {
			*value = fake.vmcs[i].value;
			return 0;
		}
	}
	return -ENODEV;
}

/* Leaf 0: "GenuineIntel" up to leaf 0xd; leaf 1: SSE2, no VMX (ECX bit 5). */
int target_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)v;
	(void)subleaf;
	memset(out, 0, 4 * sizeof(out[0]));
	if (leaf == 0) {
		out[0] = 0xd;
		memcpy(&out[1], "Genu", 4);
		memcpy(&out[3], "ineI", 4);
		memcpy(&out[2], "ntel", 4);
	} else if (leaf == 1) {
		out[0] = 0x50654;
		out[2] = 0x80202001;
		out[3] = 0x178bfbff;
	}
	return 0;
}

int target_ept_query(struct vcpu *v, uint64_t gpa, struct ept_mapping *out)
{
	(void)v;
	memset(out, 0, sizeof(*out));
	if (gpa >= EPT_GPA_LIMIT)
		return -EINVAL;
	if (gpa < FAKE_HV_START) {
		out->present = true;
		out->hpa = 0x100000000ull + gpa;
		out->perms = fake.ept_perms[gpa / 0x1000];
		out->memtype = EPT_MT_WB;
		out->level = 1;
		out->page_size = 0x1000;
	}
	return 0;
}

int target_ept_protect(struct vcpu *v, uint64_t gpa, uint64_t len, unsigned perms)
{
	(void)v;
	if (gpa + len < gpa)
		return -EINVAL;
	if (gpa < FAKE_HV_END && gpa + len > FAKE_HV_START)
		return -EPERM;
	if (gpa + len > FAKE_PHYS_SIZE)
		return -ENOENT;
	for (uint64_t page = gpa / 0x1000; page * 0x1000 < gpa + len; page++)
		fake.ept_perms[page] = perms;
	return 0;
}

int target_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error, char *err,
			    size_t errlen)
{
	(void)v;
	(void)has_error;
	(void)error;
	if (vector > 31) {
		snprintf(err, errlen, "vector %u cannot be injected as an exception", vector);
		return -EINVAL;
	}
	fake.injected_vector = (int)vector;
	return 0;
}

int target_inject_interrupt(struct vcpu *v, unsigned vector)
{
	(void)v;
	if (vector < 32 || vector > 255)
		return -EINVAL;
	fake.injected_vector = (int)vector;
	return 0;
}

int target_inject_nmi(struct vcpu *v)
{
	(void)v;
	fake.injected_vector = 2;
	return 0;
}

int target_fpu_read(struct vcpu *v, struct target_fxsave *out)
{
	struct fake_ap *a = ap_of(v);
	if (fake.fpu_read_error)
		return fake.fpu_read_error;
	*out = a ? a->fx : fake.fx;
	return 0;
}

int target_fpu_write(struct vcpu *v, const struct target_fxsave *in)
{
	struct fake_ap *a = ap_of(v);
	*(a ? &a->fx : &fake.fx) = *in;
	fake.fpu_writes++;
	return 0;
}

unsigned fake_bp_count(enum target_bp_type type)
{
	unsigned n = 0;
	for (int i = 0; i < FAKE_BPS; i++)
		n += fake.bps[i].used && fake.bps[i].type == type;
	return n;
}

struct fake_bp *fake_bp_find(enum target_bp_type type, uint64_t addr)
{
	for (int i = 0; i < FAKE_BPS; i++)
		if (fake.bps[i].used && fake.bps[i].type == type && fake.bps[i].addr == addr)
			return &fake.bps[i];
	return NULL;
}

int target_bp_insert(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	uint64_t gpa;
	fake.bp_vcpu = (int)index_of(v);
	if ((unsigned)type > BP_ACCESS)
		return -EINVAL;
	if (type >= BP_WRITE ? len == 0 : len != 1)
		return -EINVAL;
	if (target_virt_to_phys(v, addr, &gpa))
		return -EFAULT;
	if (fake_bp_find(type, addr))
		return -EEXIST;
	if (type == BP_HARDWARE && fake_bp_count(BP_HARDWARE) == FAKE_HW_SLOTS)
		return -ENOSPC;
	for (int i = 0; i < FAKE_BPS; i++) {
		if (!fake.bps[i].used) {
			fake.bps[i] = (struct fake_bp){ true, type, addr, len };
			return 0;
		}
	}
	return -ENOSPC;
}

int target_bp_remove(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	(void)len;
	fake.bp_vcpu = (int)index_of(v);
	struct fake_bp *b = fake_bp_find(type, addr);
	if (!b)
		return -ENOENT;
	b->used = false;
	return 0;
}

void target_bp_clear_all(struct vcpu *v)
{
	(void)v;
	memset(fake.bps, 0, sizeof(fake.bps));
	fake.bp_clear_calls++;
}

/* bp-mode: kept, and reported in one line (monitor_bp.c's tests). */
static enum target_bp_mode fake_bp_mode;

void target_bp_set_mode(enum target_bp_mode mode)
{
	fake_bp_mode = mode;
}

enum target_bp_mode target_bp_get_mode(void)
{
	return fake_bp_mode;
}

void target_report_bp_mode(target_emit_fn emit, void *ctx)
{
	emit(ctx, fake_bp_mode == BP_MODE_STEALTH ? "bp-mode stealth" : "bp-mode int3");
}

/* No hidden breakpoints in the fake: sw_breakpoints.c asks. */
bool stealth_bp_is_debuggers(uint64_t gva)
{
	(void)gva;
	return false;
}

/* vCPU 0 dies with the guest (fake.dead), an AP by itself. */
int target_resume(struct vcpu *v, enum target_resume_mode mode, int signal)
{
	struct fake_ap *a = ap_of(v);
	if (a && a->dead)
		return -EPERM;
	if (!a && fake.dead && (!fake.entry_failed || mode == RESUME_DETACH))
		return -EPERM;
	if (!a && fake.dead) {
		fake.rechecks++;
		if (fake.broken_rules)
			return -EAGAIN;
		fake.dead = fake.entry_failed = false;
	}
	struct fake_resume *r = &fake.vresume[index_of(v)];
	r->calls++;
	r->order = fake.resumes++;
	r->mode = fake.resume_mode = mode;
	r->signal = fake.resume_signal = signal;
	if (mode == RESUME_STEP)
		regs_of(v)[TREG_RIP]++;
	return 0;
}

void target_report_dead(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	char buf[96];

	if (ap_of(v)) {
		if (ap_of(v)->dead)
			emit(ctx, "the AP cannot run: triple fault");
		return;
	}
	if (!fake.dead)
		return;
	emit(ctx, fake.entry_failed ? "the guest cannot run: VM entry failed" :
				      "the guest cannot run: triple fault");
	for (int i = 0; fake.entry_failed && i < fake.broken_rules; i++) {
		snprintf(buf, sizeof(buf), "vmentry:   rule %d is broken", i + 1);
		emit(ctx, buf);
	}
}

enum target_image target_guest_image(void)
{
	return fake.image;
}

void target_report_vmcs(target_emit_fn emit, void *ctx)
{
	char buf[96];
	for (unsigned i = 0; i < fake.vmcs_report_lines; i++) {
		snprintf(buf, sizeof(buf), "vmcs line %u: GUEST_RIP = 0x%016llx", i,
			 (unsigned long long)fake.regs[TREG_RIP]);
		emit(ctx, buf);
	}
}

void target_report_caps(target_emit_fn emit, void *ctx)
{
	emit(ctx, "IA32_VMX_BASIC = 0x00d810000000002b");
	emit(ctx, "EPT: yes, VPID: yes");
}

/* vCPU i had 12 + i CPUID exits. */
void target_report_exits(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "CPUID %u", 12 + index_of(v));
	emit(ctx, buf);
	emit(ctx, "PREEMPTION_TIMER 3");
}

void target_report_exits_total(target_emit_fn emit, void *ctx)
{
	char buf[48];
	unsigned total = 0;
	for (unsigned i = 0; i < fake.vcpu_count; i++)
		total += 15 + i;
	snprintf(buf, sizeof(buf), "all %u vCPUs: %u VM exits", fake.vcpu_count, total);
	emit(ctx, buf);
}

void target_report_info(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	char buf[96];
	snprintf(buf, sizeof(buf), "vCPU %u: guest memory: 64 KiB; paging: 4-level; stepping: RFLAGS.TF",
		 index_of(v));
	emit(ctx, buf);
}

void target_report_ept(struct vcpu *v, uint64_t gpa, target_emit_fn emit, void *ctx)
{
	struct ept_mapping m;
	char buf[96];
	target_ept_query(v, gpa, &m);
	if (m.present)
		snprintf(buf, sizeof(buf), "GPA 0x%llx -> HPA 0x%llx rwx 4K", (unsigned long long)gpa,
			 (unsigned long long)m.hpa);
	else
		snprintf(buf, sizeof(buf), "GPA 0x%llx is not mapped", (unsigned long long)gpa);
	emit(ctx, buf);
}

void target_report_exit(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "vCPU %u: reason 10 CPUID", index_of(v));
	emit(ctx, buf);
}

void target_report_why(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	if (fake.dead)
		target_report_dead(v, emit, ctx);
	else
		emit(ctx, "the VMCS passes every check the checker knows");
}

void target_report_apic(struct vcpu *v, target_emit_fn emit, void *ctx)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "vCPU %u, physical APIC (apic=passthrough)", index_of(v));
	emit(ctx, buf);
}

/* ---- the debug line ---- */

void fake_line_reset(void)
{
	line.in_len = line.in_pos = 0;
	line.out_len = line.out_pos = 0;
	line.at_end = GDB_IO_HANGUP;
	line.idle = NULL;
	line.auto_ack = true;
	line.gdb_no_ack = line.no_ack_asked = false;
	line.none_between = line.none_toggle = false;
	line.acks = line.naks = 0;
}

static int line_getc(void *ctx)
{
	(void)ctx;
	if (line.none_between && (line.none_toggle = !line.none_toggle))
		return GDB_IO_NONE;
	if (line.in_pos < line.in_len)
		return line.in[line.in_pos++];
	if (line.idle)
		longjmp(*line.idle, 1);
	return line.at_end;
}

/* gdb acknowledges a packet as soon as it has it, before it sends the
 * next one: the '+' goes in at the read position. */
static void line_write(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	if (line.out_len + n <= FAKE_LINE_OUT) {
		memcpy(line.out + line.out_len, buf, n);
		line.out_len += n;
	}
	bool packet = n > 1 && ((const uint8_t *)buf)[0] == '$';
	if (line.auto_ack && packet && !line.gdb_no_ack && line.in_len < FAKE_LINE_IN) {
		memmove(line.in + line.in_pos + 1, line.in + line.in_pos, line.in_len - line.in_pos);
		line.in[line.in_pos] = '+';
		line.in_len++;
	}
	/* gdb acknowledges the OK to its QStartNoAckMode, then no more. */
	if (packet && line.no_ack_asked) {
		line.no_ack_asked = false;
		line.gdb_no_ack = n == 6 && memcmp(buf, "$OK#9a", 6) == 0;
	}
}

struct gdb_io fake_line_io(void)
{
	return (struct gdb_io){ NULL, line_getc, line_write };
}

void fake_line_raw(const void *bytes, size_t n)
{
	if (line.in_len + n > FAKE_LINE_IN)
		n = FAKE_LINE_IN - line.in_len;
	memcpy(line.in + line.in_len, bytes, n);
	line.in_len += n;
}

void fake_line_str(const char *s)
{
	if (s[0] == '+')
		line.gdb_no_ack = false;	/* a new gdb's first byte */
	fake_line_raw(s, strlen(s));
}

void fake_line_packet_bytes(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint8_t sum = 0;
	char tail[4];
	for (size_t i = 0; i < n; i++)
		sum += p[i];
	if (n == 15 && memcmp(data, "QStartNoAckMode", 15) == 0)
		line.no_ack_asked = true;
	fake_line_raw("$", 1);
	fake_line_raw(data, n);
	snprintf(tail, sizeof(tail), "#%02x", sum);
	fake_line_raw(tail, 3);
}

void fake_line_packet(const char *data)
{
	fake_line_packet_bytes(data, strlen(data));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Expands runs the way gdb does (before unescaping); NULL on a bad frame. */
const char *fake_line_next(size_t *len)
{
	static char buf[FAKE_LINE_OUT];
	size_t n = 0;
	uint8_t sum = 0;

	while (line.out_pos < line.out_len && line.out[line.out_pos] != '$') {
		line.acks += line.out[line.out_pos] == '+';
		line.naks += line.out[line.out_pos] == '-';
		line.out_pos++;
	}
	if (line.out_pos >= line.out_len)
		return NULL;
	size_t p = line.out_pos + 1;
	for (; p < line.out_len && line.out[p] != '#'; p++) {
		uint8_t c = line.out[p];
		sum += c;
		if (c == '*' && n > 0 && p + 1 < line.out_len) {
			uint8_t count = line.out[++p];
			sum += count;
			for (int k = count - 29; k > 0; k--, n++)
				buf[n] = buf[n - 1];
		} else {
			buf[n++] = (char)c;
		}
	}
	if (p + 2 >= line.out_len || hexval(line.out[p + 1]) < 0 || hexval(line.out[p + 2]) < 0 ||
	    (hexval(line.out[p + 1]) << 4 | hexval(line.out[p + 2])) != sum)
		return NULL;
	line.out_pos = p + 3;
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

const char *fake_line_rest(void)
{
	static char buf[FAKE_LINE_OUT + 1];
	size_t n = line.out_len - line.out_pos;
	memcpy(buf, line.out + line.out_pos, n);
	buf[n] = 0;
	return buf;
}

const char *fake_hex_text(const char *hex)
{
	static char buf[512];
	size_t n = strlen(hex) / 2;
	for (size_t i = 0; i < n && i < sizeof(buf) - 1; i++) {
		unsigned b;
		sscanf(hex + 2 * i, "%2x", &b);
		buf[i] = (char)b;
	}
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = 0;
	return buf;
}

const char *fake_frame(const char *data)
{
	static char buf[FAKE_LINE_OUT];
	uint8_t sum = 0;
	for (const char *p = data; *p; p++)
		sum += (uint8_t)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", data, sum);
	return buf;
}

int fake_serve(struct gdb_stub *g, const struct target_stop *why)
{
	jmp_buf env;
	volatile int outcome = FAKE_IDLE;
	line.idle = &env;
	if (!setjmp(env))
		outcome = (int)gdb_serve(g, why);
	line.idle = NULL;
	return outcome;
}

int fake_setup(void **state)
{
	(void)state;
	fake_target_reset();
	fake_line_reset();
	struct gdb_io io = fake_line_io();
	gdb_init(&gdb_stub0, &io, &fake.vcpu);
	return 0;
}

int fake_setup_agreed(void **state)
{
	fake_setup(state);
	fake_ask(FAKE_XML);
	return 0;
}

const char *fake_ask(const char *packet)
{
	static const struct target_stop attach = { .kind = STOP_ATTACH };
	fake_line_packet(packet);
	fake_serve(&gdb_stub0, &attach);
	return fake_line_next(NULL);
}

/* ---- the exit trace (hv/trace.h): three exits of vCPU 0 and one of
 * vCPU 1, merged by TSC; on/off and clear recorded */

static const struct trace_entry fake_trace[] = {
	{ .tsc = 1000, .rip = 0x100a, .qual = 0, .ticks = 106, .reason = 10, .vcpu = 0 },
	{ .tsc = 2000, .rip = 0x2000, .qual = 0x3f8, .ticks = 128, .reason = 30, .vcpu = 1 },
	{ .tsc = 3000, .rip = 0x100c, .qual = 0, .ticks = 2326, .reason = 10, .vcpu = 0, .verdict = 1 },
	{ .tsc = 4000, .rip = 0x100e, .qual = 0, .ticks = TRACE_TICKS_OPEN, .reason = 0, .vcpu = 0 },
};
#define FAKE_TRACE_N (sizeof(fake_trace) / sizeof(fake_trace[0]))
bool fake_trace_on = true;
bool fake_trace_cleared;

bool trace_enabled(void) { return fake_trace_on; }
void trace_enable(bool on) { fake_trace_on = on; }
void trace_clear(void) { fake_trace_cleared = true; }
unsigned trace_capacity(void) { return 4096; }

unsigned trace_count(int vcpu)
{
	unsigned n = 0;
	for (unsigned i = 0; i < FAKE_TRACE_N && !fake_trace_cleared; i++)
		n += vcpu < 0 || fake_trace[i].vcpu == (unsigned)vcpu;
	return n;
}

unsigned trace_walk(int vcpu, unsigned n, trace_fn fn, void *ctx)
{
	unsigned held = trace_count(vcpu), given = 0, seen = 0;
	for (unsigned i = 0; i < FAKE_TRACE_N && !fake_trace_cleared; i++) {
		if (vcpu >= 0 && fake_trace[i].vcpu != (unsigned)vcpu)
			continue;
		if (seen++ + n >= held) {
			fn(ctx, &fake_trace[i]);
			given++;
		}
	}
	return given;
}

int trace_format(char *buf, unsigned len, const struct trace_entry *e)
{
	return snprintf(buf, len, "tsc=%llu vcpu=%u reason=%u", (unsigned long long)e->tsc, e->vcpu, e->reason);
}

int trace_format_csv(char *buf, unsigned len, const struct trace_entry *e)
{
	return snprintf(buf, len, "%llu,%u,%u", (unsigned long long)e->tsc, e->vcpu, e->reason);
}

/* ---- dirty-page tracking (hv/ept_dirty.h): pages 0x3000, 0x4000, 0x9000
 * and one above RAM written; no A/D flags when fake_dirty_no_ad. */


int ept_dirty_start(bool scan, char *msg, size_t len)
{
	if (fake_dirty_no_ad) {
		snprintf(msg, len, "dirty: refused: no A/D");
		return -ENODEV;
	}
	fake_dirty = scan ? DIRTY_SCAN : DIRTY_PML;
	fake_dirty_started = true;
	snprintf(msg, len, "dirty: tracking with %s", scan ? "scan" : "PML");
	return 0;
}

int ept_dirty_stop(void)
{
	if (fake_dirty == DIRTY_OFF)
		return -ENOENT;
	fake_dirty = DIRTY_OFF;
	return 0;
}

enum dirty_method ept_dirty_method(void) { return fake_dirty; }

long ept_dirty_list(dirty_page_fn fn, void *ctx, uint64_t *outside)
{
	static const uint64_t pages[] = { 0x3000, 0x4000, 0x9000 };
	if (!fake_dirty_started)
		return -ENOENT;
	for (unsigned i = 0; i < 3; i++)
		fn(ctx, pages[i]);
	*outside = 1;
	return 3;
}
