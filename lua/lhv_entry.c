/* lhv_entry.c — the doors into the Lua engine from the rest of the
 * hypervisor: the exit path, the gdb monitor, boot, power-off.  Built
 * without SSE in the image: until lhv_port_run() has saved the guest's FPU
 * state, not one SSE instruction may run (a compiler-made struct copy
 * would clobber the guest's XMM registers).
 *
 * One Lua state serves every processor, one call at a time: each door
 * takes lhv_lock around its whole run (the state, the Lua stack and the
 * FPU save area of lua/port/image.c are one each).  The limits (budget,
 * lua-ticks=) count per call from inside the lock, so a wait is not
 * charged to the script.  A processor that comes back in while it holds
 * the lock (a door reached from inside Lua, say an NMI that parks it for
 * another vCPU's stop and serves gdb there) would spin on itself forever:
 * the owner's processor index says so, and that door declines instead.
 * A hook waits for another processor's call (it ends within its limits,
 * or its processor is parked for a stop, and so will this one be); the
 * doors used while the guest is stopped — `monitor lua`, and power-off
 * (gdb's kill) — wait at most one call's ticks, since the holder may be a
 * vCPU parked for this very stop, and then decline. */
#include "lhv.h"
#include "lhv_entry.h"
#include "lhv_internal.h"
#include "hv/frontend.h"
#include "platform/cpu.h"
#include "platform/fmt.h"
#include "platform/log.h"
#include "platform/spinlock.h"

#define NO_OWNER (-1)

static struct spinlock lhv_lock;
static volatile int lhv_owner = NO_OWNER;	/* processor index of the holder */

enum enter_result { ENTERED, REENTRY, HELD_ELSEWHERE };

/* Takes lhv_lock for this processor; patience: TSC ticks to wait for
 * another holder, 0 for as long as it takes. */
static enum enter_result lhv_enter(uint64_t patience)
{
	int me = (int)this_vcpu()->index;

	if (__atomic_load_n(&lhv_owner, __ATOMIC_RELAXED) == me)
		return REENTRY;	/* only this processor writes its own index there */
	if (!patience) {
		spin_lock(&lhv_lock);
	} else {
		uint64_t start = rdtsc();
		while (!spin_trylock(&lhv_lock)) {
			if (rdtsc() - start >= patience)
				return HELD_ELSEWHERE;
			__builtin_ia32_pause();
		}
	}
	lhv_owner = me;
	return ENTERED;
}

static void lhv_leave(void)
{
	lhv_owner = NO_OWNER;
	spin_unlock(&lhv_lock);
}

/* Who kept the lock from a door that stopped waiting. */
static void held_elsewhere(char *line, size_t size, const char *what)
{
	int owner = lhv_owner;
	if (owner >= 0)
		ksnprintf(line, size, "lua: %s: vCPU %d holds the Lua state and did not let go", what, owner);
	else
		ksnprintf(line, size, "lua: %s: another vCPU held the Lua state too long", what);
}

/* How long the doors used while the guest is stopped wait for the lock. */
static uint64_t stopped_patience(void)
{
	return lhv.ticks_per_call ? lhv.ticks_per_call : 1;
}

/* Runs body(arg) with v as the current vCPU; all_stopped: every vCPU is
 * stopped for the debugger. */
static void run_locked(void (*body)(void *), void *arg, struct vcpu *v, bool all_stopped)
{
	lhv.vcpu = v;
	lhv.all_stopped = all_stopped;
	lhv_port_run(body, arg);
	lhv.vcpu = NULL;
	lhv.all_stopped = false;
}

static enum hook_verdict run_hooks(struct lhv_exit *x)
{
	if (!lhv.L || lhv_enter(0) != ENTERED)
		return HOOK_DEFAULT;
	if (lhv.L) {	/* another processor's call may have turned Lua off */
		lhv.exit_seq++;
		run_locked(lhv_hooks_body, x, x->v, false);
	}
	lhv_leave();
	return x->verdict;
}

/* hv's exit_hooks_run(), through the script front end. */
static enum hook_verdict exit_hooks(struct vcpu *v, unsigned reason, char *stop_reason, size_t len)
{
	struct lhv_exit x = { v, reason, stop_reason, len, HOOK_DEFAULT, false, 0 };
	return run_hooks(&x);
}

/* hv's script_event_hooks_run(): hv.on_exception's hooks of this vector. */
static enum hook_verdict event_hooks(struct vcpu *v, uint32_t info, char *stop_reason, size_t len)
{
	struct lhv_exit x = { v, EXIT_REASON_EXCEPTION_NMI, stop_reason, len, HOOK_DEFAULT, true, info };
	return run_hooks(&x);
}

/* hv's breakpoint_hook_run(): a script's hidden breakpoint was hit. */
static enum hook_verdict bp_hit(struct vcpu *v, unsigned id, uint64_t gva, char *stop_reason, size_t len)
{
	struct lhv_bp_hit h = { v, id, gva, stop_reason, len, HOOK_DEFAULT };

	if (!lhv.L || lhv_enter(0) != ENTERED)
		return HOOK_DEFAULT;
	if (lhv.L)
		run_locked(lhv_bp_body, &h, v, false);
	lhv_leave();
	return h.verdict;
}

/* Runs body(arg) for a gdb monitor command on v, the selected vCPU, with
 * every vCPU stopped; its output to emit. */
static void run_for_monitor(void (*body)(void *), void *arg, struct vcpu *v,
			    void (*emit)(void *ctx, const char *line), void *ctx)
{
	if (!lhv.L) {
		emit(ctx, "lua: not available (the boot log says why)");
		return;
	}
	enum enter_result e = lhv_enter(stopped_patience());
	if (e == REENTRY) {
		emit(ctx, "lua: busy: this processor is inside Lua already");
		return;
	}
	if (e == HELD_ELSEWHERE) {
		char line[96];
		held_elsewhere(line, sizeof(line), "busy");
		emit(ctx, line);
		return;
	}
	if (lhv.L) {
		lhv.emit = emit;
		lhv.emit_ctx = ctx;
		run_locked(body, arg, v, true);
		lhv.emit = 0;
		lhv.emit_ctx = 0;
	} else {
		emit(ctx, "lua: not available (the boot log says why)");
	}
	lhv_leave();
}

void lhv_monitor_lua(struct vcpu *v, const char *chunk, void (*emit)(void *ctx, const char *line), void *ctx)
{
	run_for_monitor(lhv_monitor_body, (void *)chunk, v, emit, ctx);
}

void lhv_monitor_file(struct vcpu *v, const char *name, const char *text, size_t len, const char *args,
		      void (*emit)(void *ctx, const char *line), void *ctx)
{
	struct lhv_script s = { name, text, args, len, 0 };
	run_for_monitor(lhv_file_body, &s, v, emit, ctx);
}

/* The guest powers off: hv.on_poweroff's functions run on the vCPU that
 * saw it, then the machine stops. */
static void poweroff(struct vcpu *v, const char *how)
{
	if (!lhv.L)
		return;
	enum enter_result e = lhv_enter(stopped_patience());
	if (e == HELD_ELSEWHERE) {
		char line[96];
		held_elsewhere(line, sizeof(line), "power-off hooks skipped");
		log_warn("%s", line);
	}
	if (e != ENTERED)
		return;
	if (lhv.L)
		run_locked(lhv_poweroff_body, (void *)how, v, false);
	lhv_leave();
}

/* What hv/ calls (hv/frontend.h): registered once the state is open. */
static const struct script_frontend frontend = {
	.exit_hooks = exit_hooks, .poweroff = poweroff, .breakpoint = bp_hit, .event_hooks = event_hooks,
};

int lhv_start(const struct lhv_open *how)
{
	struct lhv_open o = *how;

	lhv_enter(0);
	run_locked(lhv_open_body, &o, this_vcpu(), false);
	lhv_leave();
	if (!o.result)
		script_frontend_set(&frontend);
	return o.result;
}

/* No libc here: musl's string functions may use SSE. */
static int word_len(const char *s)
{
	int n = 0;
	while (s[n] && s[n] != ' ')
		n++;
	return n;
}

bool lhv_is_script_module(const char *cmdline)
{
	const char *tag = "script";
	int n = 0;
	while (tag[n] && cmdline[n] == tag[n])
		n++;
	return !tag[n] && (!cmdline[n] || cmdline[n] == ' ' || cmdline[n] == ':');
}

/* The chunk name of a boot script: "@NAME" from a `script:NAME` tag (Lua
 * then calls it NAME in messages and tracebacks), else "=script N". */
static void script_chunk_name(const char *cmdline, int count, char *name, size_t size)
{
	if (cmdline[6] == ':' && cmdline[7] && cmdline[7] != ' ')
		ksnprintf(name, size, "@%.*s", word_len(cmdline + 7), cmdline + 7);
	else
		ksnprintf(name, size, "=script %d", count);
}

int lhv_run_boot_scripts(const struct boot_info *bi)
{
	char name[LHV_CHUNK_NAME_MAX];
	int failed = 0, count = 0;

	for (unsigned i = 0; i < bi->nmodules && lhv.L; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (!lhv_is_script_module(m->cmdline))
			continue;
		const char *args = m->cmdline + word_len(m->cmdline);
		while (*args == ' ')
			args++;
		script_chunk_name(m->cmdline, ++count, name, sizeof(name));
		struct lhv_script s = { name, (const char *)(uintptr_t)m->start, args,
					(size_t)(m->end - m->start), 0 };
		lhv_enter(0);
		run_locked(lhv_script_body, &s, this_vcpu(), false);
		lhv_leave();
		failed += s.result != 0;
	}
	return failed;
}
