/* lhv_entry.c — the doors into the Lua engine from the rest of the
 * hypervisor: the exit path, the gdb monitor, boot.  Built without SSE in
 * the image: until lhv_port_run() has saved the guest's FPU state, not one
 * SSE instruction may run (a compiler-made struct copy would clobber the
 * guest's XMM registers).  Lua runs one call at a time. */
#include "lhv.h"
#include "lhv_entry.h"
#include "lhv_internal.h"
#include "platform/fmt.h"

enum hook_verdict exit_hooks_run(struct vcpu *v, unsigned reason, char *stop_reason, size_t len)
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

void lhv_monitor_lua(const char *chunk, void (*emit)(void *ctx, const char *line), void *ctx)
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
	lhv_port_run(lhv_monitor_body, (void *)chunk);
	lhv.emit = 0;
	lhv.emit_ctx = 0;
	lhv.busy = false;
}

int lhv_start(const struct lhv_open *how)
{
	struct lhv_open o = *how;

	lhv.busy = true;
	lhv_port_run(lhv_open_body, &o);
	lhv.busy = false;
	return o.result;
}

static int word_is(const char *s, const char *word)
{
	while (*word && *s == *word)
		s++, word++;
	return !*word && (*s == '\0' || *s == ' ');
}

int lhv_run_boot_scripts(const struct boot_info *bi)
{
	char name[24];
	int failed = 0, count = 0;

	for (unsigned i = 0; i < bi->nmodules && lhv.L; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (!word_is(m->cmdline, "script"))
			continue;
		const char *args = m->cmdline + 6;
		while (*args == ' ')
			args++;
		ksnprintf(name, sizeof(name), "=script %d", ++count);
		struct lhv_script s = { name, (const char *)(uintptr_t)m->start, args,
					(size_t)(m->end - m->start), 0 };
		lhv.busy = true;
		lhv_port_run(lhv_script_body, &s);
		lhv.busy = false;
		failed += s.result != 0;
	}
	return failed;
}
