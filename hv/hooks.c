/* hooks.c — the hooked-reason bitmap, the answer when no script engine
 * is linked in, and the power-off callback. */
#include "hooks.h"

uint64_t exit_hook_bitmap[EXIT_HOOK_WORDS];

__attribute__((weak)) enum hook_verdict exit_hooks_run(struct vcpu *v, unsigned reason, char *stop_reason,
							size_t len)
{
	(void)v;
	(void)reason;
	(void)stop_reason;
	(void)len;
	return HOOK_DEFAULT;
}

static poweroff_hook_fn poweroff_hook;

void poweroff_hook_set(poweroff_hook_fn fn)
{
	poweroff_hook = fn;
}

void poweroff_hook_run(struct vcpu *v, const char *how)
{
	poweroff_hook_fn fn = poweroff_hook;

	poweroff_hook = NULL;	/* once, even if the callback powers off itself */
	if (fn)
		fn(v, how);
}
