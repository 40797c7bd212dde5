/* lhv_entry.c — the doors into the Lua engine from the rest of the
 * hypervisor: the exit path, the gdb monitor, boot.  Built without SSE in
 * the image: until lhv_port_run() has saved the guest's FPU state, not one
 * SSE instruction may run (a compiler-made struct copy would clobber the
 * guest's XMM registers).  Lua runs one call at a time. */
#include "lhv.h"
#include "lhv_entry.h"
#include "lhv_internal.h"
#include "hv/frontend.h"
#include "platform/fmt.h"

/* hv's exit_hooks_run(), through the script front end. */
static enum hook_verdict exit_hooks(struct vcpu *v, unsigned reason, char *stop_reason, size_t len)
{
	struct lhv_exit x = { v, reason, stop_reason, len, HOOK_DEFAULT };

	if (!lhv.L || lhv.busy)
		return HOOK_DEFAULT;
	lhv.busy = true;
	lhv.vcpu = v;
	lhv.exit_seq++;
	lhv_port_run(lhv_hooks_body, &x);
	lhv.vcpu = &vcpu0;
	lhv.busy = false;
	return x.verdict;
}

/* Runs body(arg) for a gdb monitor command, its output to emit. */
static void run_for_monitor(void (*body)(void *), void *arg, void (*emit)(void *ctx, const char *line), void *ctx)
{
	if (!lhv.L) {
		emit(ctx, "lua: not available (the boot log says why)");
		return;
	}
	if (lhv.busy) {
		emit(ctx, "lua: busy");
		return;
	}
	lhv.busy = true;
	lhv.emit = emit;
	lhv.emit_ctx = ctx;
	lhv_port_run(body, arg);
	lhv.emit = 0;
	lhv.emit_ctx = 0;
	lhv.busy = false;
}

void lhv_monitor_lua(const char *chunk, void (*emit)(void *ctx, const char *line), void *ctx)
{
	run_for_monitor(lhv_monitor_body, (void *)chunk, emit, ctx);
}

void lhv_monitor_file(const char *name, const char *text, size_t len, const char *args,
		      void (*emit)(void *ctx, const char *line), void *ctx)
{
	struct lhv_script s = { name, text, args, len, 0 };
	run_for_monitor(lhv_file_body, &s, emit, ctx);
}

/* The guest powers off: hv.on_poweroff's functions run, then the machine stops. */
static void poweroff(struct vcpu *v, const char *how)
{
	if (!lhv.L || lhv.busy)
		return;
	lhv.busy = true;
	lhv.vcpu = v;
	lhv_port_run(lhv_poweroff_body, (void *)how);
	lhv.vcpu = &vcpu0;
	lhv.busy = false;
}

/* What hv/ calls (hv/frontend.h): registered once the state is open. */
static const struct script_frontend frontend = { exit_hooks, poweroff };

int lhv_start(const struct lhv_open *how)
{
	struct lhv_open o = *how;

	lhv.busy = true;
	lhv_port_run(lhv_open_body, &o);
	lhv.busy = false;
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
		lhv.busy = true;
		lhv_port_run(lhv_script_body, &s);
		lhv.busy = false;
		failed += s.result != 0;
	}
	return failed;
}
