/* target.c — the debug target API over the current VMCS and guest memory. */
#include "target.h"

#include "allstop.h"
#include "apic_mmio.h"
#include "debugger.h"
#include "ept_views.h"
#include "exits.h"
#include "guest.h"
#include "guest_cpuid.h"
#include "guest_walk.h"
#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "vmcs_write_guard.h"
#include "vmx.h"

static const char *const reg_names[TREG_COUNT] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"rip", "rflags", "cs", "ss", "ds", "es", "fs", "gs",
	"fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer",
};

/* The VMCS field behind each register past the GPRs (0 = special). */
static const uint32_t reg_fields[TREG_COUNT] = {
	[TREG_RIP] = GUEST_RIP, [TREG_RFLAGS] = GUEST_RFLAGS,
	[TREG_CS] = GUEST_CS_SELECTOR, [TREG_SS] = GUEST_SS_SELECTOR, [TREG_DS] = GUEST_DS_SELECTOR,
	[TREG_ES] = GUEST_ES_SELECTOR, [TREG_FS] = GUEST_FS_SELECTOR, [TREG_GS] = GUEST_GS_SELECTOR,
	[TREG_FS_BASE] = GUEST_FS_BASE, [TREG_GS_BASE] = GUEST_GS_BASE,
	[TREG_CR3] = GUEST_CR3, [TREG_EFER] = GUEST_IA32_EFER,
};

const char *target_reg_name(enum target_reg r)
{
	return (unsigned)r < TREG_COUNT ? reg_names[r] : NULL;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int target_reg_by_name(const char *name)
{
	for (int r = 0; r < TREG_COUNT; r++) {
		const char *a = reg_names[r], *b = name;
		while (*a && *a == lower(*b))
			a++, b++;
		if (!*a && !*b)
			return r;
	}
	return -ENOENT;
}

/* CR0/CR4 as the guest believes them: its own bits from the read shadow
 * where the hypervisor owns them (SDM Vol. 3C §25.6.6). */
static uint64_t guest_visible_cr(uint32_t real_field, uint32_t shadow_field, uint64_t mask)
{
	return (vmread(real_field) & ~mask) | (vmread(shadow_field) & mask);
}

int target_reg_read(struct vcpu *v, enum target_reg r, uint64_t *value)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	if ((unsigned)r >= TREG_COUNT)
		return -EINVAL;
	if (r < 16)
		*value = vcpu_gpr(v, r);
	else if (r == TREG_CR0)
		*value = guest_visible_cr(GUEST_CR0, CR0_READ_SHADOW, v->cr0_mask);
	else if (r == TREG_CR4)
		*value = guest_visible_cr(GUEST_CR4, CR4_READ_SHADOW, v->cr4_mask);
	else if (r == TREG_CR2)	/* VMX does not switch CR2: in root mode it is the guest's */
		*value = v == this_vcpu() ? read_cr2() : v->cr2;	/* a parked vCPU's: saved */
	else if (r == TREG_CR8)
		*value = 0;		/* no TPR shadow: the guest's TPR lives in its APIC */
	else
		*value = vmread(reg_fields[r]);
	return 0;
}

int target_reg_write(struct vcpu *v, enum target_reg r, uint64_t value)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	if ((unsigned)r >= TREG_COUNT)
		return -EINVAL;
	if (r < 16) {
		vcpu_set_gpr(v, r, value);
		return 0;
	}
	switch (r) {
	case TREG_CR0:
	case TREG_CR4:
	case TREG_CR8:
	case TREG_CR2:
		return -EPERM;	/* changing paging under the guest is for the guest to do */
	case TREG_RFLAGS:
		value |= 2;	/* bit 1 is always 1 (SDM Vol. 3C §27.3.1.4) */
		break;
	default:
		break;
	}
	struct vmcs_write w = { reg_fields[r], value };
	char err[VMCS_POLICY_WHY_MAX];
	int rc = vmcs_guarded_write(v, &w, 1, err, sizeof(err));
	if (rc)
		log_warn("target: register %s <- 0x%llx refused: %s", reg_names[r], (unsigned long long)value, err);
	return rc;
}

static int phys_access(uint64_t gpa, size_t len, void **p)
{
	if (gpa + len < gpa)
		return -EFAULT;
	if (gpa < guest_mem.hv_end && gpa + len > guest_mem.hv_start)
		return -EPERM;
	if (!guest_phys_reachable(gpa, len))
		return -EFAULT;
	*p = (void *)(uintptr_t)gpa;	/* identity-mapped; page 0 included */
	return 0;
}

int target_read_phys(uint64_t gpa, void *buf, size_t len)
{
	void *p;
	int rc = phys_access(gpa, len, &p);
	if (!rc) {
		memcpy(buf, p, len);
		debugger_hide_breakpoints(gpa, buf, len);
	}
	return rc;
}

int target_write_phys(uint64_t gpa, const void *buf, size_t len)
{
	void *p;
	int rc = phys_access(gpa, len, &p);
	if (!rc) {
		memcpy(p, buf, len);
		debugger_write_through_breakpoints(gpa, buf, len);
		ept_views_wrote(gpa, len);
	}
	return rc;
}

static int walk_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	return target_read_phys(gpa, buf, len);
}

int target_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	struct guest_paging p;
	struct walk_result w;

	target_reg_read(v, TREG_CR0, &p.cr0);
	target_reg_read(v, TREG_CR4, &p.cr4);
	p.cr3 = vmread(GUEST_CR3);
	p.efer = vmread(GUEST_IA32_EFER);
	int rc = guest_walk(&p, gva, walk_read, NULL, &w);
	if (!rc)
		*gpa = w.gpa;
	return rc;
}

/* Splits at page boundaries: consecutive virtual pages need not be
 * consecutive physical ones. */
static int virt_access(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t len, bool write)
{
	while (len) {
		uint64_t gpa;
		size_t chunk = PAGE_SIZE - (gva & (PAGE_SIZE - 1));
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
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	return virt_access(v, gva, buf, len, false);
}

int target_write_virt(struct vcpu *v, uint64_t gva, const void *buf, size_t len)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	return virt_access(v, gva, (uint8_t *)buf, len, true);
}

/* A name, or a number in decimal or 0x-hex; *enc: the encoding asked for,
 * whose bit 0 may ask for the high half of a 64-bit field (SDM Vol. 3C
 * §25.11.2). */
static const struct vmcs_field_info *field_lookup(const char *field, uint32_t *enc, char *err, size_t errlen)
{
	const struct vmcs_field_info *f = vmcs_field_by_name(field);
	if (f) {
		*enc = f->encoding;
		return f;
	}
	uint64_t n = 0;
	const char *p = field;
	int base = (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) ? 16 : 10;
	if (base == 16)
		p += 2;
	for (; *p; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : lower(*p) >= 'a' && lower(*p) <= 'f' ? lower(*p) - 'a' + 10 : 99;
		if (d >= base || n > 0xffffffff) {
			vmcs_field_unknown_message(err, errlen, field);
			return NULL;
		}
		n = n * base + d;
	}
	f = p != field ? vmcs_field_by_encoding((uint32_t)n) : NULL;
	if (!f)
		vmcs_field_unknown_message(err, errlen, field);
	*enc = (uint32_t)n;
	return f;
}

/* The field's full value. */
static int field_read(const struct vmcs_field_info *f, uint64_t *full, char *err, size_t errlen)
{
	if (vmread_checked(f->encoding, full) == VMX_OK)
		return 0;
	ksnprintf(err, errlen, "%s (0x%x) is not supported by this CPU's VMCS", f->name, f->encoding);
	return -ENODEV;
}

/* The vCPU the calls without one mean: the debugger's choice while the
 * guest is stopped, else the vCPU whose exit this is. */
static struct vcpu *selected;

int target_vcpu_select(struct vcpu *v)
{
	int rc = vcpu_vmcs_use(v);
	if (!rc)
		selected = v;
	return rc;
}

struct vcpu *target_selected_vcpu(void)
{
	struct vcpu *v = selected && allstop_owner() ? selected : this_vcpu();
	vcpu_vmcs_use(v);
	return v;
}

static int vmcs_read_current(const char *field, uint64_t *value, char *err, size_t errlen)
{
	uint32_t enc;
	uint64_t full;
	const struct vmcs_field_info *f = field_lookup(field, &enc, err, errlen);
	if (!f)
		return -ENOENT;
	int rc = field_read(f, &full, err, errlen);
	if (!rc)
		*value = vmcs_access_read(enc, full);
	return rc;
}

int target_vmcs_read(const char *field, uint64_t *value, char *err, size_t errlen)
{
	target_selected_vcpu();
	return vmcs_read_current(field, value, err, errlen);
}

int target_vmcs_read_encoding(uint32_t encoding, uint64_t *value)
{
	return vmread_checked(encoding, value) == VMX_OK ? 0 : -ENODEV;
}

int target_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	guest_cpuid(leaf, subleaf, out);
	return 0;
}

/* Through the one write policy (vmcs_write_policy.h); a high-half access
 * writes bits 63:32 and keeps bits 31:0. */
static int vmcs_write_as(struct vcpu *v, const char *field, uint64_t value, char *err, size_t errlen)
{
	uint32_t enc;
	uint64_t full;
	const struct vmcs_field_info *f = field_lookup(field, &enc, err, errlen);
	if (!f)
		return -ENOENT;
	int rc = field_read(f, &full, err, errlen);
	if (rc)
		return rc;
	struct vmcs_write w = { f->encoding, 0 };
	if (!vmcs_access_write(enc, full, value, &w.value)) {
		ksnprintf(err, errlen, "0x%llx does not fit %s%s (%u bits)", (unsigned long long)value,
			  vmcs_enc_is_high(enc) ? "the high half of " : "", f->name,
			  vmcs_enc_is_high(enc) ? 32 : vmcs_width_bits(f->width));
		return -EINVAL;
	}
	return vmcs_guarded_write(v, &w, 1, err, errlen);
}

int target_vmcs_write(const char *field, uint64_t value, char *err, size_t errlen)
{
	return vmcs_write_as(target_selected_vcpu(), field, value, err, errlen);
}

/* VMREAD and VMWRITE reach the current VMCS of the processor that runs
 * them (SDM Vol. 3C §25.1), and a VMCS is current on one processor at a
 * time: another vCPU's is reachable only while it is parked (all-stop),
 * when this processor may load it (allstop.c). */
static int vmcs_reachable(struct vcpu *v, char *err, size_t errlen)
{
	if (!vcpu_vmcs_use(v) && (v == this_vcpu() || v->parked))
		return 0;
	ksnprintf(err, errlen, "vCPU %u is running; its VMCS is reachable while the guest is stopped", v->index);
	return -EBUSY;
}

int target_vcpu_vmcs_read(struct vcpu *v, const char *field, uint64_t *value, char *err, size_t errlen)
{
	int rc = vmcs_reachable(v, err, errlen);
	return rc ? rc : vmcs_read_current(field, value, err, errlen);
}

int target_vcpu_vmcs_write(struct vcpu *v, const char *field, uint64_t value, char *err, size_t errlen)
{
	int rc = vmcs_reachable(v, err, errlen);
	return rc ? rc : vmcs_write_as(v, field, value, err, errlen);
}

int target_ept_query(struct vcpu *v, uint64_t gpa, struct ept_mapping *out)
{
	return ept_query(&v->ept, gpa, out);
}

int target_ept_protect(struct vcpu *v, uint64_t gpa, uint64_t len, unsigned perms)
{
	if (gpa + len < gpa)
		return -EINVAL;
	if (gpa < guest_mem.hv_end && gpa + len > guest_mem.hv_start)
		return -EPERM;
	if (ept_views_owns(gpa, len))
		return -EBUSY;	/* a hidden breakpoint's page: its views own its rights */
	int rc = ept_protect(&v->ept, gpa, len, perms);
	/* The guest's xAPIC page keeps its write protection whoever asks:
	 * its writes are how INIT/SIPI are caught (apic_mmio.c). */
	uint64_t apic = apic_mmio_protected_page();
	if (!rc && (perms & EPT_W) && apic && apic >= gpa && apic < gpa + len)
		rc = ept_protect(&v->ept, apic, PAGE_SIZE, perms & ~EPT_W);
	if (!rc)
		invept(INVEPT_SINGLE_CONTEXT, v->eptp);
	return rc;
}

/* The event as asked for, judged by the write policy: the VM-entry
 * checker's rules on type, vector and error code (SDM Vol. 3C §27.2.1.3),
 * with the error code only where protected mode pushes one. */
int target_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error, char *err,
			    size_t errlen)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	if (vector > 31 || vector == 2 || vector == 15 || (vector >= 22 && vector <= 27)) {
		ksnprintf(err, errlen, "vector %u cannot be injected as an exception (exceptions are 0-31 except "
			  "2, 15 and 22-27; the NMI has its own call)", vector);
		return -EINVAL;
	}
	if (vmread(VM_ENTRY_INTERRUPTION_INFO) & (1u << 31)) {
		ksnprintf(err, errlen, "an event is already pending for this VM entry");
		return -EBUSY;
	}
	struct vmcs_write w[2] = {
		{ VM_ENTRY_INTERRUPTION_INFO, (1u << 31) | (3u << 8) | (has_error ? 1u << 11 : 0) | vector },
		{ VM_ENTRY_EXCEPTION_ERROR_CODE, error },
	};
	return vmcs_guarded_write(v, w, has_error ? 2 : 1, err, errlen);
}

unsigned target_vcpu_count(void)
{
	return vcpu_count;
}

struct vcpu *target_vcpu(unsigned index)
{
	return index < vcpu_count ? &vcpus[index] : NULL;
}

unsigned target_vcpu_index(const struct vcpu *v)
{
	return v->index;
}

uint32_t target_vcpu_apic_id(const struct vcpu *v)
{
	return v->apic_id;
}

bool target_vcpu_started(const struct vcpu *v)
{
	return v->state == VCPU_RUNNING;
}

/* SYSCALL's MSRs and the SWAPGS base: not in the VMCS, not in our MSR
 * load/store lists, never touched in root mode (SDM Vol. 3C §28.3, §29.4). */
static const uint32_t unswitched_msrs[] = { 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102 };

int target_guest_msr(struct vcpu *v, uint32_t msr, uint64_t *value, char *err, size_t errlen)
{
	bool listed = false;
	for (size_t i = 0; i < sizeof(unswitched_msrs) / sizeof(unswitched_msrs[0]); i++)
		listed |= unswitched_msrs[i] == msr;
	if (!listed) {
		ksnprintf(err, errlen, "MSR 0x%x: only STAR, LSTAR, CSTAR, FMASK (0xc0000081-84) and "
			  "KERNEL_GS_BASE (0xc0000102) are read here", msr);
		return -EINVAL;
	}
	if (v != this_vcpu()) {
		ksnprintf(err, errlen, "vCPU %u's MSRs live in its own processor: read them in its hook", v->index);
		return -EBUSY;
	}
	*value = rdmsr(msr);
	return 0;
}
