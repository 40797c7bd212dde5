/* stack_guard.c — the Lua stack's limits.  Lua itself raises "C stack
 * overflow" once less than LHV_CSTACK_SOFT bytes are left (the check at
 * each nested C call, lua/port/lhv_user.h): that is the error a script
 * sees, back in its protected call.  Below the stack lie guard pages; a
 * C function that still reaches them (an unchecked recursion) faults at
 * an arbitrary instruction, maybe halfway through a garbage-collector
 * step, so the Lua state cannot be trusted after it: the page-fault
 * fixup (#PF has its own IST stack, platform/gdt.c, so the fault can be
 * delivered at all) resumes in stack_overflow() on a small stack of its
 * own, which drops the state without running any more Lua and jumps back
 * to lhv_port_run: Lua is off, every hook gone, the guest runs on.
 * Built -mgeneral-regs-only: the fixup runs for every #PF, Lua or not. */
#include "lua/lhv.h"
#include "lua/lhv_internal.h"
#include "platform/log.h"
#include "platform/trap.h"
#include "stack_guard.h"

#define RFLAGS_DF (1ull << 10)
#define ESCAPE_STACK_SIZE 4096
/* The deepest unchecked C below a checked call: the bounded pattern
 * matcher (~20 KiB), musl's printf (~8 KiB), Lua's error handling. */
#define LHV_CSTACK_SOFT (32 * 1024)
#define LHV_CSTACK_HARD (12 * 1024)

jmp_buf lhv_stack_escape;
static uint64_t guard_lo, guard_hi, stack_top;
static uint8_t escape_stack[ESCAPE_STACK_SIZE] __attribute__((aligned(16)));

static _Noreturn void stack_overflow(void)
{
	if (lhv.emit)
		lhv.emit(lhv.emit_ctx, "error: C stack overflow into the guard pages: Lua is off");
	log_error("lua: a C function overran the Lua stack (%llu KiB) into its guard pages; "
		  "the Lua state may be inconsistent, so Lua is off and every hook removed; "
		  "the guest continues", (unsigned long long)((stack_top - guard_hi) >> 10));
	lhv_hooks_forget();
	lhv.L = NULL;
	longjmp(lhv_stack_escape, 1);
}

/* A fault on the guard pages by code running on the Lua stack: resume in
 * stack_overflow() as if called there (RSP+8 16-byte aligned; a zero
 * return address and RBP end the backtrace). */
static bool on_page_fault(struct trap_frame *f, uint64_t cr2)
{
	if (cr2 < guard_lo || cr2 >= guard_hi || f->rsp < guard_lo || f->rsp > stack_top)
		return false;
	uint64_t *top = (uint64_t *)(escape_stack + ESCAPE_STACK_SIZE) - 1;
	*top = 0;
	f->rsp = (uint64_t)(uintptr_t)top;
	f->rbp = 0;
	f->rip = (uint64_t)(uintptr_t)stack_overflow;
	f->rflags &= ~RFLAGS_DF;	/* the ABI's direction at a call */
	return true;
}

/* Deep enough to cross any stack: stops only at the guard pages. */
static volatile unsigned long selftest_depth_limit = ~0ul;

static unsigned long recurse(unsigned long depth)
{
	volatile uint8_t frame[256];

	frame[0] = (uint8_t)depth;
	if (depth >= selftest_depth_limit)
		return depth;
	return recurse(depth + 1) + frame[0];
}

static void selftest_body(void *arg)
{
	(void)arg;
	recurse(0);
	log_error("selftest: the recursion ended without reaching the guard pages");
}

void lhv_selftest_stack(void)
{
	log_info("selftest: a C recursion runs on the Lua stack until it hits the guard pages");
	lhv_port_run(selftest_body, NULL);
}

void lhv_stack_guard_init(uint64_t guard, uint64_t guard_bytes, uint64_t top)
{
	guard_lo = guard;
	guard_hi = guard + guard_bytes;
	stack_top = top;
	lhv_cstack_soft = guard_hi + LHV_CSTACK_SOFT;
	lhv_cstack_hard = guard_hi + LHV_CSTACK_HARD;
	trap_set_pf_fixup(on_page_fault);
}
