/* hooks.c — the hooked-reason bitmap, and the answer when no script engine
 * is linked in. */
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
