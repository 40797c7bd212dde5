/* breakpoints.c — software breakpoints (int3 through guest-physical
 * memory) and hardware ones (DR0-DR3 with DR7; SDM Vol. 3B §19.2), by gdb's
 * Z types.  While the debugger holds a hardware slot it owns the debug
 * registers: MOV-DR exits and the guest's own DR values live in a shadow.
 * A watchpoint a debug register cannot express (a length other than 1, 2,
 * 4, 8, a misaligned address, or all four in use) goes to EPT page
 * protection (ept_watch.c), int3s are sw_breakpoints.c's.  Limits: four
 * hardware breakpoints and DR watchpoints, SW_BREAKPOINTS_MAX software
 * breakpoints and the EPT watch limits of debugger.h; past one, -ENOSPC
 * (or -E2BIG) and a log line naming the limit. */
#include "breakpoints_sync.h"

#include "allstop.h"
#include "debugger.h"
#include "event_monitor.h"

#include "exits.h"
#include "platform/errno.h"
#include "platform/log.h"
#include "vmx.h"
#include "vmx_msr.h"

struct hw_slot {
	bool used;
	enum target_bp_type type;
	uint64_t addr;
	unsigned len;
};

static struct hw_slot hw[4];
static enum target_bp_mode sw_mode = BP_MODE_INT3;

void target_bp_set_mode(enum target_bp_mode mode)
{
	sw_mode = mode;
}

enum target_bp_mode target_bp_get_mode(void)
{
	return sw_mode;
}

#define EXC_DB (1u << 1)
#define EXC_BP (1u << 3)

void debugger_update_exception_bitmap(struct vcpu *v)
{
	uint32_t bits = v->user_exceptions | event_monitor_exception_bits() |
			(sw_bp_count() || stealth_bp_count() ? EXC_BP : 0);
	if (v->own_drs || v->stepping || v->rearm_step)
		bits |= EXC_DB;
	vmwrite(EXCEPTION_BITMAP, bits);
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
	if (any && !v->own_drs) {
		for (int i = 0; i < 4; i++)
			v->shadow_dr[i] = read_dr(i);
		v->shadow_dr7 = vmread(GUEST_DR7);
		v->proc_ctls |= VMX_PROC_MOV_DR_EXITING;
	} else if (!any && v->own_drs) {
		for (int i = 0; i < 4; i++)
			write_dr(i, v->shadow_dr[i]);
		vmwrite(GUEST_DR7, v->shadow_dr7);
		v->proc_ctls &= ~VMX_PROC_MOV_DR_EXITING;
	}
	v->own_drs = any;
	if (v->own_drs) {
		for (int i = 0; i < 4; i++)
			write_dr(i, hw[i].used ? hw[i].addr : 0);
		vmwrite(GUEST_DR7, dr7_for_slots());
	}
	vmwrite(PRIMARY_VM_EXEC_CONTROL, v->proc_ctls);
	debugger_update_exception_bitmap(v);
}

/* Hardware breakpoints and watchpoints hold on every vCPU, but DR0-DR3
 * belong to a processor: the owner's own vCPU takes them now, every other
 * vCPU when it leaves its park (allstop.c), on its own processor. */
static void sync_if_own(struct vcpu *v)
{
	if (v == this_vcpu())
		sync_drs(v);
}

void breakpoints_sync_vcpu(struct vcpu *v)
{
	sync_drs(v);
}

/* A debug register watches 1, 2, 4 or 8 bytes at an address aligned to
 * the length (SDM Vol. 3B §19.2.5). */
static bool dr_expressible(uint64_t addr, unsigned len)
{
	return (len == 1 || len == 2 || len == 4 || len == 8) && !(addr & (len - 1));
}

static int hw_find(enum target_bp_type type, uint64_t addr, unsigned len)
{
	for (int i = 0; i < 4; i++)
		if (hw[i].used && hw[i].type == type && hw[i].addr == addr && (type == BP_HARDWARE || hw[i].len == len))
			return i;
	return -ENOENT;
}

static int hw_insert(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	if (type == BP_HARDWARE)
		len = 1;
	if (hw_find(type, addr, len) >= 0)
		return 0;	/* gdb may insert twice */
	for (int i = 0; i < 4; i++) {
		if (!hw[i].used) {
			hw[i] = (struct hw_slot){ true, type, addr, len };
			sync_if_own(v);
			return 0;
		}
	}
	return -ENOSPC;
}

static int hw_remove(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	int i = hw_find(type, addr, len);
	if (i < 0)
		return i;
	hw[i].used = false;
	sync_if_own(v);
	return 0;
}

int target_bp_insert(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	int rc;
	if (type == BP_SOFTWARE) {
		rc = sw_mode == BP_MODE_STEALTH ? stealth_bp_insert(v, addr) : sw_bp_insert(v, addr);
	} else if (type == BP_HARDWARE) {
		rc = hw_insert(v, type, addr, len);
		if (rc == -ENOSPC)
			log_warn("breakpoints: all four debug registers in use: no hardware breakpoint at 0x%llx",
				 (unsigned long long)addr);
	} else if (type <= BP_ACCESS) {
		if (len == 0)
			return -EINVAL;
		rc = dr_expressible(addr, len) ? hw_insert(v, type, addr, len) : -ENOSPC;
		if (rc == -ENOSPC)
			rc = ept_watch_insert(v, type, addr, len);
	} else {
		return -EINVAL;
	}
	debugger_update_exception_bitmap(v);
	return rc;
}

int target_bp_remove(struct vcpu *v, enum target_bp_type type, uint64_t addr, unsigned len)
{
	if (vcpu_vmcs_use(v))
		return -EBUSY;
	int rc;
	if (type == BP_SOFTWARE) {
		rc = sw_bp_remove(addr);
		if (rc == -ENOENT)
			rc = stealth_bp_remove(v, addr);	/* made in the other mode */
	} else if (type == BP_HARDWARE) {
		rc = hw_remove(v, type, addr, len);
	} else if (type <= BP_ACCESS) {
		/* Both places: a watch re-inserted while its debug register was
		 * taken may sit in each. */
		int in_dr = hw_remove(v, type, addr, len);
		rc = ept_watch_remove(v, type, addr, len);
		if (rc == -ENOENT)
			rc = in_dr;
	} else {
		return -EINVAL;
	}
	debugger_update_exception_bitmap(v);
	return rc;
}

void target_bp_clear_all(struct vcpu *v)
{
	if (vcpu_vmcs_use(v))
		return;
	sw_bp_clear_all();
	stealth_bp_clear_debuggers(v);
	for (int i = 0; i < 4; i++)
		hw[i].used = false;
	sync_if_own(v);
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
	uint64_t *slot = dr < 4 ? &v->shadow_dr[dr] : dr == 7 ? &v->shadow_dr7 : NULL;

	if (from_dr)
		vcpu_set_gpr(v, gpr, slot ? *slot : dr == 6 ? read_dr(6) : 0);
	else if (slot)
		*slot = vcpu_gpr(v, gpr);
	return EXIT_ADVANCE;
}
