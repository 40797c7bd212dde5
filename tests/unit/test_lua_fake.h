/* test_lua_fake.h — a fake debug target (hv/target.h) for the Lua binding
 * tests: 1 MiB of guest RAM at guest-physical 0, the "hypervisor's region"
 * at 8-16 MiB, a higher half mapping guest-virtual 0xffff800000000000+x to
 * x, EPT rights per page, pending events; FAKE_VCPUS vCPUs, each with its
 * registers and a VMCS of the real field table's names (vCPU 2 waits for
 * its SIPI), and the processor each thread runs on (fake_cpu); plus the
 * log and the port, captured.  Included once per test. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hv/hooks.h"
#include "hv/target.h"
#include "lua/lhv.h"
#include "lua/lhv_entry.h"
#include "lua/lhv_internal.h"
#include "lua/port/heap.h"
#include "platform/errno.h"
#include "platform/log.h"
#include "hv/trace.h"
#include "hv/ept_dirty.h"

#define GUEST_RAM (1u << 20)
#define HV_START 0x800000ull
#define HV_END 0x1000000ull
#define HIGH_HALF 0xffff800000000000ull
#define LOG_SIZE 65536
#define HEAP_SIZE (2u << 20)

#define FAKE_VCPUS 3

#define vcpu0 (vcpus[0])	/* the tests' shorthand for the BSP's vCPU */
struct vcpu vcpus[VCPU_MAX];
unsigned vcpu_count = FAKE_VCPUS;
static __thread unsigned fake_cpu;	/* the processor this thread plays */
static unsigned selected;		/* the vCPU gdb selected, for monitor() */
static struct guest_gprs fake_gprs[FAKE_VCPUS];
static uint64_t fake_regs[FAKE_VCPUS][TREG_COUNT];
static uint8_t guest_ram[GUEST_RAM];
static uint64_t vmcs_values[FAKE_VCPUS][512];	/* by field table index */
static unsigned ept_perms[GUEST_RAM / 4096];
static int pending_exception = -1, pending_irq = -1, pending_nmi;
static uint32_t pending_error;
static bool pending_has_error;

static char log_text[LOG_SIZE];
static size_t log_len;
static char emitted[LOG_SIZE];
static size_t emitted_len;

static struct heap test_heap;
static void *heap_region;

/* ---- the exit trace's switches (hv/trace.c; the rings are read by the
 * real hv/trace_read.c over vcpus[]) */

static bool fake_trace_on = true;
bool trace_enabled(void) { return fake_trace_on; }
void trace_enable(bool on) { fake_trace_on = on; }
unsigned trace_capacity(void) { return TRACE_RECORDS; }
void trace_clear(void)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpus[i].trace_ring)
			memset(vcpus[i].trace_ring, 0, TRACE_RECORDS * sizeof(struct trace_rec));
}

/* ---- dirty-page tracking (hv/ept_dirty.h): pages 0x2000 and 0x5000 */

static enum dirty_method fake_dirty_method;
static bool fake_dirty_started;
int ept_dirty_start(bool scan, char *msg, size_t len)
{
	fake_dirty_method = scan ? DIRTY_SCAN : DIRTY_PML;
	fake_dirty_started = true;
	snprintf(msg, len, "dirty: tracking (%s)", scan ? "scan" : "PML");
	return 0;
}
int ept_dirty_stop(void)
{
	if (fake_dirty_method == DIRTY_OFF)
		return -ENOENT;
	fake_dirty_method = DIRTY_OFF;
	return 0;
}
enum dirty_method ept_dirty_method(void) { return fake_dirty_method; }
const char *ept_dirty_method_name(enum dirty_method m) { return m == DIRTY_PML ? "PML" : m ? "scan" : "off"; }
long ept_dirty_list(dirty_page_fn fn, void *ctx, uint64_t *outside)
{
	if (!fake_dirty_started)
		return -ENOENT;
	fn(ctx, 0x2000);
	fn(ctx, 0x5000);
	*outside = 0;
	return 2;
}

/* ---- the log and the port */

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tag[] = { "E", "W", "I", "D" };
	va_list ap;
	if (log_len >= LOG_SIZE - 256)
		return;
	log_len += (size_t)snprintf(log_text + log_len, LOG_SIZE - log_len, "[%s] ", tag[level]);
	va_start(ap, fmt);
	log_len += (size_t)vsnprintf(log_text + log_len, LOG_SIZE - log_len, fmt, ap);
	va_end(ap);
	if (log_len > LOG_SIZE - 2)	/* cut: a long line must not run past the buffer */
		log_len = LOG_SIZE - 2;
	log_text[log_len++] = '\n';
	log_text[log_len] = '\0';
}

void lhv_port_run(void (*fn)(void *arg), void *arg)
{
	fn(arg);
}

static void emit(void *ctx, const char *line)
{
	(void)ctx;
	if (emitted_len >= LOG_SIZE - 1)
		return;
	emitted_len += (size_t)snprintf(emitted + emitted_len, LOG_SIZE - emitted_len, "%s\n", line);
	if (emitted_len > LOG_SIZE - 1)
		emitted_len = LOG_SIZE - 1;
}

/* ---- registers */

static const char *const fake_reg_names[TREG_COUNT] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"rip", "rflags", "cs", "ss", "ds", "es", "fs", "gs",
	"fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer",
};

const char *target_reg_name(enum target_reg r)
{
	return (unsigned)r < TREG_COUNT ? fake_reg_names[r] : NULL;
}

int target_reg_by_name(const char *name)
{
	for (int r = 0; r < TREG_COUNT; r++)
		if (!strcasecmp(name, fake_reg_names[r]))
			return r;
	return -ENOENT;
}

int target_reg_read(struct vcpu *v, enum target_reg r, uint64_t *value)
{
	if ((unsigned)r >= TREG_COUNT)
		return -EINVAL;
	*value = r < 16 ? ((uint64_t *)v->gprs)[r] : fake_regs[v->index][r];
	return 0;
}

int target_reg_write(struct vcpu *v, enum target_reg r, uint64_t value)
{
	if ((unsigned)r >= TREG_COUNT)
		return -EINVAL;
	if (r >= TREG_CR0 && r <= TREG_CR8)
		return -EPERM;
	if (r < 16)
		((uint64_t *)v->gprs)[r] = value;
	else
		fake_regs[v->index][r] = value;
	return 0;
}

/* ---- memory */

int target_read_phys(uint64_t gpa, void *buf, size_t len)
{
	if (gpa < HV_END && gpa + len > HV_START)
		return -EPERM;
	if (gpa >= GUEST_RAM || len > GUEST_RAM - gpa)
		return -EFAULT;
	memcpy(buf, guest_ram + gpa, len);
	return 0;
}

int target_write_phys(uint64_t gpa, const void *buf, size_t len)
{
	if (gpa < HV_END && gpa + len > HV_START)
		return -EPERM;
	if (gpa >= GUEST_RAM || len > GUEST_RAM - gpa)
		return -EFAULT;
	memcpy(guest_ram + gpa, buf, len);
	return 0;
}

int target_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	(void)v;
	if (gva < HIGH_HALF)
		return -EFAULT;
	*gpa = gva - HIGH_HALF;
	return 0;
}

int target_read_virt(struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
	uint64_t gpa;
	int rc = target_virt_to_phys(v, gva, &gpa);
	return rc ? rc : target_read_phys(gpa, buf, len);
}

int target_write_virt(struct vcpu *v, uint64_t gva, const void *buf, size_t len)
{
	uint64_t gpa;
	int rc = target_virt_to_phys(v, gva, &gpa);
	return rc ? rc : target_write_phys(gpa, buf, len);
}

/* ---- hidden breakpoints (bp.add) and hv.msr: the fake says what was asked */
static unsigned fake_script_bps;	/* how many are set */
static uint64_t fake_lstar = 0xffffffff81c00080ull;

int target_script_bp_add(struct vcpu *v, uint64_t gva, unsigned id)
{
	uint64_t gpa;
	(void)id;
	if (target_virt_to_phys(v, gva, &gpa))
		return -EFAULT;
	if (gpa < HV_END && gpa + 1 > HV_START)
		return -EPERM;
	fake_script_bps++;
	return 0;
}

int target_script_bp_remove(struct vcpu *v, unsigned id)
{
	(void)v;
	(void)id;
	if (!fake_script_bps)
		return -ENOENT;
	fake_script_bps--;
	return 0;
}

int target_guest_msr(struct vcpu *v, uint32_t msr, uint64_t *value, char *err, size_t errlen)
{
	(void)v;
	if (msr != 0xc0000082) {
		snprintf(err, errlen, "MSR 0x%x: only STAR, LSTAR, CSTAR, FMASK (0xc0000081-84) and "
			 "KERNEL_GS_BASE (0xc0000102) are read here", msr);
		return -EINVAL;
	}
	*value = fake_lstar;
	return 0;
}

/* ---- VMCS: the real table's names and encodings, values in an array */

static int field_index(const char *field, char *err, size_t errlen)
{
	const struct vmcs_field_info *f = vmcs_field_by_name(field);
	if (!f) {
		char *end;
		unsigned long n = strtoul(field, &end, 0);
		f = *end == '\0' && end != field ? vmcs_field_by_encoding((uint32_t)n) : NULL;
	}
	if (!f) {
		vmcs_field_unknown_message(err, errlen, field);
		return -1;
	}
	for (size_t i = 0; vmcs_field_at(i); i++)
		if (vmcs_field_at(i) == f)
			return (int)i;
	return -1;
}

int target_vcpu_vmcs_read(struct vcpu *v, const char *field, uint64_t *value, char *err, size_t errlen)
{
	int i = field_index(field, err, errlen);
	if (i < 0)
		return -ENOENT;
	*value = vmcs_values[v->index][i];
	return 0;
}

int target_vcpu_vmcs_write(struct vcpu *v, const char *field, uint64_t value, char *err, size_t errlen)
{
	int i = field_index(field, err, errlen);
	if (i < 0)
		return -ENOENT;
	const struct vmcs_field_info *f = vmcs_field_at((size_t)i);
	if (f->group == VMCS_GROUP_EXIT_INFO) {
		snprintf(err, errlen, "%s is a read-only VM-exit information field", f->name);
		return -EPERM;
	}
	if (f->group == VMCS_GROUP_HOST) {
		snprintf(err, errlen, "%s belongs to the hypervisor", f->name);
		return -EPERM;
	}
	vmcs_values[v->index][i] = value;
	return 0;
}

static void set_vmcs_on(unsigned vcpu, const char *name, uint64_t value)
{
	char err[128];
	int i = field_index(name, err, sizeof(err));
	assert_true(i >= 0);
	vmcs_values[vcpu][i] = value;
}

static __attribute__((unused)) void set_vmcs(const char *name, uint64_t value)
{
	set_vmcs_on(0, name, value);
}

static __attribute__((unused)) uint64_t get_vmcs_on(unsigned vcpu, const char *name)
{
	char err[128];
	int i = field_index(name, err, sizeof(err));
	assert_true(i >= 0);
	return vmcs_values[vcpu][i];
}

/* ---- the vCPU set: its facts kept apart from struct vcpu, so that lua/
 * can only have them through the target API */

static uint32_t fake_apic_id[FAKE_VCPUS];
static bool fake_started[FAKE_VCPUS];

struct vcpu *this_vcpu(void)
{
	return &vcpus[fake_cpu];
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
	assert_true(v >= vcpus && v < vcpus + FAKE_VCPUS);
	return (unsigned)(v - vcpus);
}

uint32_t target_vcpu_apic_id(const struct vcpu *v) { return fake_apic_id[target_vcpu_index(v)]; }
bool target_vcpu_started(const struct vcpu *v) { return fake_started[target_vcpu_index(v)]; }

/* ---- the local APIC (target_apic.c): a known virtual-APIC page ---- */

int target_apic_view(struct vcpu *v, struct apic_view *a)
{
	memset(a, 0, sizeof(*a));
	a->mode = APIC_VIEW_VIRTUAL;
	a->vcpu = target_vcpu_index(v);
	a->reg[APIC_OFF_ID / 16] = target_vcpu_index(v) << 24;
	a->reg[APIC_OFF_VERSION / 16] = 0x00050014;
	a->reg[APIC_OFF_TPR / 16] = 0x20;
	a->reg[APIC_OFF_PPR / 16] = 0x20;
	a->reg[APIC_OFF_IRR / 16 + 1] = 1u << (0x31 - 32);
	a->reg[APIC_OFF_SVR / 16] = 0x1ff;
	a->reg[APIC_OFF_LVT_TIMER / 16] = 0x000200ec;
	a->reg[APIC_OFF_TIMER_INITIAL / 16] = 100000;
	a->reg[APIC_OFF_TIMER_DIVIDE / 16] = 0x3;
	a->rvi = 0x31;
	return 0;
}

/* ---- EPT */

int target_ept_query(struct vcpu *v, uint64_t gpa, struct ept_mapping *out)
{
	(void)v;
	if (gpa >= EPT_GPA_LIMIT)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (gpa >= GUEST_RAM)
		return 0;
	*out = (struct ept_mapping){ .present = true, .hpa = gpa + 0x40000000, .perms = ept_perms[gpa / 4096],
				     .memtype = EPT_MT_WB, .level = 1, .page_size = 4096 };
	return 0;
}

int target_ept_protect(struct vcpu *v, uint64_t gpa, uint64_t len, unsigned perms)
{
	(void)v;
	if (gpa < HV_END && gpa + len > HV_START)
		return -EPERM;
	if ((gpa | len) & 4095)
		return -EINVAL;
	if (gpa >= GUEST_RAM || len > GUEST_RAM - gpa)
		return -ENOENT;
	for (uint64_t a = gpa; a < gpa + len; a += 4096)
		ept_perms[a / 4096] = perms;
	return 0;
}

/* ---- events */

/* The refusals the write policy gives (hv/vmcs_write_policy.c), in its words. */
int target_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error, char *err,
			    size_t errlen)
{
	(void)v;
	if (vector > 31 || vector == 2 || vector == 15 || (vector >= 22 && vector <= 27)) {
		snprintf(err, errlen, "vector %u cannot be injected as an exception (exceptions are 0-31 "
			 "except 2, 15 and 22-27)", vector);
		return -EINVAL;
	}
	if (has_error && !(0x00227d00u >> vector & 1)) {
		snprintf(err, errlen, "exception %u pushes no error code", vector);
		return -EINVAL;
	}
	if (pending_exception >= 0) {
		snprintf(err, errlen, "an event is already pending for this VM entry");
		return -EBUSY;
	}
	pending_exception = (int)vector;
	pending_has_error = has_error;
	pending_error = error;
	return 0;
}

int target_inject_interrupt(struct vcpu *v, unsigned vector)
{
	(void)v;
	if (vector < 32 || vector > 255)
		return -EINVAL;
	if (pending_irq >= 0)
		return -EBUSY;
	pending_irq = (int)vector;
	return 0;
}

int target_inject_nmi(struct vcpu *v)
{
	(void)v;
	if (pending_nmi)
		return -EBUSY;
	pending_nmi = 1;
	return 0;
}

/* ---- exits this made-up CPU can produce: all, unless MTF is taken away */

static bool fake_no_mtf;

int target_exit_reason_possible(unsigned reason, char *why, size_t len)
{
	if (reason != EXIT_REASON_MONITOR_TRAP_FLAG || !fake_no_mtf)
		return 0;
	snprintf(why, len, "MTF is not available on this CPU");
	return -ENODEV;
}

bool target_steps_with_mtf(char *why, size_t len)
{
	snprintf(why, len, fake_no_mtf ? "MTF: not advertised" : "MTF: advertised and its exit observed");
	return !fake_no_mtf;
}

/* ---- the event watch (hv/event_monitor.c): what the engine asked for */

static bool fake_watch_ext;
static uint32_t fake_watch_exceptions;

void target_event_watch_set(bool ext_interrupts, uint32_t exceptions)
{
	fake_watch_ext = ext_interrupts;
	fake_watch_exceptions = exceptions;
}

int target_exception_hook_possible(unsigned vector, char *why, size_t len)
{
	if (vector < 32 && vector != 15 && vector != 18 && vector < 22)
		return 0;
	snprintf(why, len, "vector %u cannot be hooked", vector);
	return vector < 32 ? -ENODEV : -EINVAL;
}

/* ---- CPUID: a made-up CPU */

/* Called from inside Lua by hv.cpuid when set: where a test makes
 * something happen while a script runs. */
static void (*fake_on_cpuid)(void);

int target_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)v;
	if (fake_on_cpuid)
		fake_on_cpuid();
	if (leaf == 0) {
		out[0] = 0x16;
		memcpy(&out[1], "Genu", 4);
		memcpy(&out[3], "ineI", 4);
		memcpy(&out[2], "ntel", 4);
	} else {
		out[0] = leaf;
		out[1] = subleaf;
		out[2] = 0x7ffaf39f;
		out[3] = 0xbfebfbff;
	}
	return 0;
}

/* ---- a fresh engine per test */

static int fake_setup(void **state)
{
	(void)state;
	memset(vcpus, 0, sizeof(vcpus));
	memset(fake_gprs, 0, sizeof(fake_gprs));
	memset(fake_regs, 0, sizeof(fake_regs));
	memset(guest_ram, 0, sizeof(guest_ram));
	memset(vmcs_values, 0, sizeof(vmcs_values));
	for (size_t i = 0; i < GUEST_RAM / 4096; i++)
		ept_perms[i] = EPT_RWX;
	pending_exception = pending_irq = -1;
	selected = 0;
	pending_nmi = 0;
	fake_no_mtf = false;
	fake_on_cpuid = NULL;
	fake_cpu = 0;
	vcpu_count = FAKE_VCPUS;
	for (unsigned i = 0; i < FAKE_VCPUS; i++) {
		vcpus[i].index = i;
		vcpus[i].gprs = &fake_gprs[i];
		fake_apic_id[i] = 2 * i;	/* not the index: the APIC ids of a machine with HT off */
		fake_started[i] = i < 2;	/* vCPU 2 waits for its SIPI */
	}
	log_len = emitted_len = 0;
	log_text[0] = emitted[0] = '\0';
	heap_region = aligned_alloc(4096, HEAP_SIZE);
	assert_true(heap_init(&test_heap, heap_region, HEAP_SIZE));
	struct lhv_open how = { heap_lua_alloc, &test_heap, 100000, 1ull << 40, 0 };
	assert_int_equal(lhv_start(&how), 0);
	return 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	lhv_core_close();
	assert_null(heap_check(&test_heap));
	free(heap_region);
	return 0;
}

/* Runs `monitor lua CHUNK` with vCPU `selected` selected; the emitted
 * lines since the last call. */
static __attribute__((unused)) const char *monitor(const char *chunk)
{
	emitted_len = 0;
	emitted[0] = '\0';
	lhv_monitor_lua(&vcpus[selected], chunk, emit, NULL);
	return emitted;
}

/* The chunk's output must contain want. */
static __attribute__((unused)) void expect_output(const char *chunk, const char *want)
{
	const char *out = monitor(chunk);
	if (!strstr(out, want))
		fail_msg("monitor lua %s\n printed: %s\n wanted: %s", chunk, out, want);
}

static __attribute__((unused)) void expect_log(const char *want)
{
	if (!strstr(log_text, want))
		fail_msg("the log lacks \"%s\":\n%s", want, log_text);
}
