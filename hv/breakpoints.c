/* breakpoints.c — software breakpoints (int3 through guest-physical
 * memory) and hardware ones (DR0-DR3 with DR7; SDM Vol. 3B §19.2), by gdb's
 * Z types.  While the debugger holds a hardware slot it owns the debug
 * registers: MOV-DR exits and the guest's own DR values live in a shadow. */
#include "debugger.h"

#include "exits.h"
#include "guest.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "vmx.h"
#include "vmx_msr.h"

#define MAX_SW_BREAKPOINTS 64
#define INT3 0xcc

struct sw_breakpoint {
	bool used;
	uint64_t gva, gpa;
	uint8_t orig;
};

struct hw_slot {
	bool used;
	enum target_bp_type type;
	uint64_t addr;
	unsigned len;
};

static struct sw_breakpoint sw[MAX_SW_BREAKPOINTS];
static struct hw_slot hw[4];
static bool own_drs;
static uint64_t shadow_dr[4], shadow_dr7;

#define EXC_DB (1u << 1)
#define EXC_BP (1u << 3)

void debugger_update_exception_bitmap(struct vcpu *v)
{
	uint32_t bits = v->user_exceptions;
	for (int i = 0; i < MAX_SW_BREAKPOINTS; i++)
		if (sw[i].used)
			bits |= EXC_BP;
	if (own_drs || v->stepping || v->rearm_step)
		bits |= EXC_DB;
	vmwrite(EXCEPTION_BITMAP, bits);
}

/* Identity-mapped guest RAM; checked with guest_phys_reachable() first. */
static uint8_t *code_byte(uint64_t gpa)
{
	return (uint8_t *)(uintptr_t)gpa;
}

static int sw_insert(struct vcpu *v, uint64_t gva)
{
	uint64_t gpa;
	int free_slot = -1;
	for (int i = 0; i < MAX_SW_BREAKPOINTS; i++) {
		if (sw[i].used && sw[i].gva == gva)
			return 0;	/* gdb may insert twice */
		if (!sw[i].used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	if (target_virt_to_phys(v, gva, &gpa) || !guest_phys_reachable(gpa, 1))
		return -EFAULT;
	struct sw_breakpoint *b = &sw[free_slot];
	*b = (struct sw_breakpoint){ .used = true, .gva = gva, .gpa = gpa, .orig = *code_byte(gpa) };
	*code_byte(gpa) = INT3;
	return 0;
}

static int sw_remove(uint64_t gva)
{
	for (int i = 0; i < MAX_SW_BREAKPOINTS; i++) {
		if (sw[i].used && sw[i].gva == gva) {
			*code_byte(sw[i].gpa) = sw[i].orig;
			sw[i].used = false;
			return 0;
		}
	}
	return -ENOENT;
}

bool debugger_is_our_breakpoint(uint64_t gva)
{
	for (int i = 0; i < MAX_SW_BREAKPOINTS; i++)
		if (sw[i].used && sw[i].gva == gva)
			return true;
	return false;
}

void debugger_hide_breakpoints(uint64_t gpa, uint8_t *buf, size_t len)
{
	for (int i = 0; i < MAX_SW_BREAKPOINTS; i++)
		if (sw[i].used && sw[i].gpa >= gpa && sw[i].gpa < gpa + len)
			buf[sw[i].gpa - gpa] = sw[i].orig;
}

void debugger_write_through_breakpoints(uint64_t gpa, const uint8_t *buf, size_t len)
{
	for (int i = 0; i < MAX_SW_BREAKPOINTS; i++) {
		if (sw[i].used && sw[i].gpa >= gpa && sw[i].gpa < gpa + len) {
			sw[i].orig = buf[sw[i].gpa - gpa];
			*code_byte(sw[i].gpa) = INT3;
		}
	}
}

/* DR7: L<n> enables slot n; R/W<n> 00 execute, 01 write, 11 read/write;
 * LEN<n> 00 1 byte, 01 2, 11 4, 10 8 (SDM Vol. 3B §19.2.4). */
static uint64_t dr7_for_slots(void)
{
	static const unsigned rw[] = { [BP_HARDWARE] = 0, [BP_WRITE] = 1, [BP_READ] = 3, [BP_ACCESS] = 3 };
	uint64_t dr7 = 0x400;	/* bit 10 reads as 1 */
	for (int i = 0; i < 4; i++) {
		if (!hw[i].used)
			continue;
		unsigned len = hw[i].len == 8 ? 2 : hw[i].len == 4 ? 3 : hw[i].len - 1;
		if (hw[i].type == BP_HARDWARE)
			len = 0;
		dr7 |= 1ull << (2 * i) | (uint64_t)rw[hw[i].type] << (16 + 4 * i) | (uint64_t)len << (18 + 4 * i);
	}
	return dr7;
}

static void write_dr(int n, uint64_t v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(v)); break;
	default: __asm__ volatile("mov %0, %%dr3" : : "r"(v)); break;
	}
}

static uint64_t read_dr(int n)
{
	uint64_t v;
	switch (n) {
	case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
	case 6: __asm__ volatile("mov %%dr6, %0" : "=r"(v)); break;
	default: v = 0; break;
	}
	return v;
}

/* Take the debug registers from the guest, or give them back.  DR0-DR3
 * are not switched by VM entry/exit: root mode shares them with the guest. */
static void sync_drs(struct vcpu *v)
{
	bool any = hw[0].used || hw[1].used || hw[2].used || hw[3].used;
	if (any && !own_drs) {
		for (int i = 0; i < 4; i++)
			shadow_dr[i] = read_dr(i);
		shadow_dr7 = vmread(GUEST_DR7);
		v->proc_ctls |= VMX_PROC_MOV_DR_EXITING;
	} else if (!any && own_drs) {
		for (int i = 0; i < 4; i++)
			write_dr(i, shadow_dr[i]);
		vmwrite(GUEST_DR7, shadow_dr7);
		v->proc_ctls &= ~VMX_PROC_MOV_DR_EXITING;
	}
	own_drs = any;
	if (own_drs) {
		for (int i = 0; i < 4; i++)
			write_dr(i, hw[i].used ? hw[i].addr : 0);
		vmwrite(GUEST_DR7, dr7_for_slots());
	}
	vmwrite(PRIMARY_VM_EXEC_CONTROL, v->proc_ctls);
	debugger_update_exception_bitmap(v);
}

static int hw_insert(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	if (type == BP_HARDWARE)
		len = 1;
	else if ((len != 1 && len != 2 && len != 4 && len != 8) || (addr & (len - 1)))
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (!hw[i].used) {
			hw[i] = (struct hw_slot){ true, type, addr, len };
			sync_drs(v);
			return 0;
		}
	}
	return -ENOSPC;
}

static int hw_remove(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	for (int i = 0; i < 4; i++) {
		if (hw[i].used && hw[i].type == type && hw[i].addr == addr && (type == BP_HARDWARE || hw[i].len == len)) {
			hw[i].used = false;
			sync_drs(v);
			return 0;
		}
	}
	return -ENOENT;
}

int target_bp_insert(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	int rc;
	if (type == BP_SOFTWARE)
		rc = sw_insert(v, addr);
	else if (type >= BP_HARDWARE && type <= BP_ACCESS)
		rc = hw_insert(v, type, addr, len);
	else
		return -EINVAL;
	/* Out of debug registers: data watches go on EPT page protection. */
	if (rc == -ENOSPC && type >= BP_WRITE)
		rc = ept_watch_insert(v, type, addr, len);
	debugger_update_exception_bitmap(v);
	return rc;
}

int target_bp_remove(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	int rc;
	if (type == BP_SOFTWARE)
		rc = sw_remove(addr);
	else if (type >= BP_HARDWARE && type <= BP_ACCESS)
		rc = hw_remove(v, type, addr, len);
	else
		return -EINVAL;
	if (rc == -ENOENT && type >= BP_WRITE)
		rc = ept_watch_remove(v, type, addr, len);
	debugger_update_exception_bitmap(v);
	return rc;
}

void target_bp_clear_all(struct vcpu *v)
{
	for (int i = 0; i < MAX_SW_BREAKPOINTS; i++)
		if (sw[i].used)
			sw_remove(sw[i].gva);
	for (int i = 0; i < 4; i++)
		hw[i].used = false;
	sync_drs(v);
	ept_watch_clear_all(v);
}

/* Which hardware slot a #DB's B0-B3 bits name, as a stop. */
bool debugger_hw_hit(uint64_t dbg_bits, struct target_stop *stop)
{
	for (int i = 0; i < 4; i++) {
		if (!hw[i].used || !(dbg_bits & (1u << i)))
			continue;
		stop->kind = hw[i].type == BP_HARDWARE ? STOP_HW_BREAKPOINT : STOP_WATCHPOINT;
		stop->addr = hw[i].addr;
		stop->watch_type = hw[i].type;
		return true;
	}
	return false;
}

/* MOV DR while we own them: the guest works on its shadow copies
 * (exit qualification, SDM Table 28-4: bits 2:0 DR, bit 4 direction, 11:8 GPR). */
enum exit_action debugger_on_dr_access(struct vcpu *v)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);
	unsigned dr = q & 7, gpr = (q >> 8) & 15;
	bool from_dr = q & (1u << 4);
	uint64_t *slot = dr < 4 ? &shadow_dr[dr] : dr == 7 ? &shadow_dr7 : NULL;

	if (from_dr)
		vcpu_set_gpr(v, gpr, slot ? *slot : dr == 6 ? read_dr(6) : 0);
	else if (slot)
		*slot = vcpu_gpr(v, gpr);
	return EXIT_ADVANCE;
}
