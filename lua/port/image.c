/* image.c — the Lua engine's footing in the image: a heap, a stack with a
 * guard page, the guest's FPU state saved around every call, lhv_init.
 * Built -mgeneral-regs-only: the guest's FPU state is live until fpu_save. */
#include "heap.h"
#include "stack_guard.h"
#include "lua/lhv.h"
#include "lua/lhv_entry.h"
#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "platform/page_guard.h"
#include "platform/power.h"

/* LUAI_MAXCCALLS=64 keeps Lua near 50 KiB of C stack (docs/platform-notes.md);
 * the pattern matcher recurses up to 200 frames of ~100 bytes on top. */
#define LUA_STACK_PAGES 32
/* Four, not one: musl's fmt_fp (string.format "%f") has a 7 KiB frame that
 * could step over a single guard page into whatever lies below. */
#define GUARD_PAGES 4
#define STACK_CANARY 0x4c75615374616b21ull	/* "LuaStak!" */

#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXSAVE (1ull << 18)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define XCR0_SSE (1ull << 1)

struct heap lhv_heap;
static uint64_t heap_limit = LHV_DEFAULT_HEAP;
static uint64_t budget = LHV_DEFAULT_BUDGET;
static uint64_t ticks = LHV_DEFAULT_TICKS;
static uint64_t stack_top;
static volatile uint64_t *stack_canary;	/* only without guard pages */
static uint8_t *fpu_area;	/* the guest's x87/SSE/AVX state while Lua runs */
static bool xsave_ok;		/* CPUID.1:ECX.XSAVE and CR4.OSXSAVE */
static bool saved_by_xsave;
static const uint32_t mxcsr_default = 0x1f80;	/* all exceptions masked, round to nearest */

void lhv_set_limits(uint64_t heap_bytes, uint64_t per_call, uint64_t ticks_per_call)
{
	if (heap_bytes)
		heap_limit = heap_bytes;
	if (per_call)
		budget = per_call;
	if (ticks_per_call)
		ticks = ticks_per_call;
}

/* ---- the guest's FPU state (SDM Vol. 1 ch. 13, "Managing State Using the XSAVE Feature Set") */

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/* XCR0 is not switched by VM exits: the guest's value is live.  XSAVE
 * with every bit requested saves what it enabled; while it has not
 * enabled SSE there (XCR0 = x87 only), FXSAVE is what covers XMM0-15. */
static void fpu_save(void)
{
	saved_by_xsave = xsave_ok && (xgetbv0() & XCR0_SSE);
	if (saved_by_xsave)
		__asm__ volatile("xsave64 (%0)" : : "r"(fpu_area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(fpu_area) : "memory");
	__asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr_default));
}

static void fpu_restore(void)
{
	if (saved_by_xsave)
		__asm__ volatile("xrstor64 (%0)" : : "r"(fpu_area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(fpu_area) : "memory");
}

/* ---- the Lua stack */

/* fn(arg) with RSP at top; RBP keeps the old stack (callee-saved), so the
 * exception report's frame-pointer backtrace still walks through. */
void lhv_call_on_stack(void (*fn)(void *), void *arg, uint64_t top);
__asm__(".pushsection .text.lhv_call_on_stack, \"ax\", @progbits\n"
	".globl lhv_call_on_stack\n"
	".type lhv_call_on_stack, @function\n"
	"lhv_call_on_stack:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	mov %rdx, %rsp\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	call *%rax\n"
	"	mov %rbp, %rsp\n"
	"	pop %rbp\n"
	"	ret\n"
	".size lhv_call_on_stack, . - lhv_call_on_stack\n"
	".popsection\n");

void lhv_port_run(void (*fn)(void *arg), void *arg)
{
	fpu_save();
	if (!setjmp(lhv_stack_escape))	/* back here, Lua off, after a guard-page hit */
		lhv_call_on_stack(fn, arg, stack_top);
	if (stack_canary && *stack_canary != STACK_CANARY)
		panic("lua: the Lua stack overflowed (%u KiB)", LUA_STACK_PAGES * 4);
	fpu_restore();
}

static void *zeroed_pages(uint64_t bytes)
{
	uint64_t n = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t p = pmm_alloc_contig(&phys_pages, n, PAGE_SIZE);
	if (p)
		memset((void *)(uintptr_t)p, 0, n * PAGE_SIZE);
	return (void *)(uintptr_t)p;
}

/* A hit on the guard pages becomes a Lua error (stack_guard.c); without
 * them, a canary at the bottom is checked after each call. */
static int setup_stack(void)
{
	uint64_t base = pmm_alloc_contig(&phys_pages, LUA_STACK_PAGES + GUARD_PAGES, PAGE_SIZE);
	int rc = 0;

	if (!base)
		return -ENOMEM;
	stack_top = base + (LUA_STACK_PAGES + GUARD_PAGES) * PAGE_SIZE;
	for (unsigned i = 0; i < GUARD_PAGES && !rc; i++)
		rc = page_guard(base + i * PAGE_SIZE);
	if (!rc) {
		lhv_stack_guard_init(base, GUARD_PAGES * PAGE_SIZE, stack_top);
		return 0;
	}
	log_warn("lua: no guard pages below the Lua stack (error %d); only a canary checks it", -rc);
	stack_canary = (volatile uint64_t *)(uintptr_t)(base + GUARD_PAGES * PAGE_SIZE);
	*stack_canary = STACK_CANARY;
	return 0;
}

/* SSE must work in root mode: the image's CR0/CR4 are the host state
 * loaded at every VM exit (HOST_CR0/HOST_CR4 copy them at VMCS setup). */
static int check_cpu(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	uint32_t a, b, c, d;

	if ((cr0 & (CR0_EM | CR0_TS)) || !(cr4 & CR4_OSFXSR)) {
		log_error("lua: disabled: SSE is off in root mode (CR0.EM=%d CR0.TS=%d CR4.OSFXSR=%d)",
			  !!(cr0 & CR0_EM), !!(cr0 & CR0_TS), !!(cr4 & CR4_OSFXSR));
		return -ENODEV;
	}
	cpuid(1, 0, &a, &b, &c, &d);
	xsave_ok = (c & CPUID_1_ECX_XSAVE) && (cr4 & CR4_OSXSAVE);
	uint64_t bytes = 512;
	if (xsave_ok) {
		cpuid(0xd, 0, &a, &b, &c, &d);
		bytes = c;	/* the largest area any XCR0 value needs */
	}
	fpu_area = zeroed_pages(bytes);	/* XSAVE header zero: XRSTOR checks it */
	return fpu_area ? 0 : -ENOMEM;
}

int lhv_init(const struct boot_info *bi)
{
	uint64_t heap_pages = (heap_limit + PAGE_SIZE - 1) / PAGE_SIZE;
	int rc = check_cpu();

	if (!rc && (rc = setup_stack()))
		log_error("lua: disabled: no memory for its %u KiB stack", LUA_STACK_PAGES * 4);
	if (rc)
		return rc;
	uint64_t heap = pmm_alloc_contig(&phys_pages, heap_pages, PAGE_SIZE);
	if (!heap || !heap_init(&lhv_heap, (void *)(uintptr_t)heap, heap_pages * PAGE_SIZE)) {
		log_error("lua: disabled: no room for a %llu KiB heap in the hypervisor's %llu MiB (lua-heap=)",
			  (unsigned long long)heap_pages * 4, (unsigned long long)(HV_REGION_SIZE >> 20));
		return -ENOMEM;
	}
	struct lhv_open how = { heap_lua_alloc, &lhv_heap, (int64_t)budget, ticks, 0 };
	if ((rc = lhv_start(&how))) {
		log_error("lua: disabled: the state did not open (%d)", rc);
		return rc;
	}
	log_info("lua: Lua 5.4 ready: heap %llu KiB (%llu KiB in use), stack %u KiB, "
		 "budget %llu instructions and %llu ticks per call, guest FPU state by %s",
		 (unsigned long long)heap_pages * 4, (unsigned long long)(lhv_heap.used >> 10),
		 LUA_STACK_PAGES * 4, (unsigned long long)budget, (unsigned long long)ticks,
		 xsave_ok ? "XSAVE" : "FXSAVE");
	int failed = lhv_run_boot_scripts(bi);
	if (failed)
		log_warn("lua: %d boot script%s failed; the guest starts anyway", failed, failed > 1 ? "s" : "");
	return 0;
}
