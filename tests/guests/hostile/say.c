/* say.c — one line per attempt. */
#include <stdarg.h>

#include "print.h"
#include "probe.h"
#include "say.h"

void say(const char *attempt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kprintf("HOSTILE %s: ", attempt);
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}

/* The exception's mnemonic; callers add an error code where one matters. */
const char *fault_text(int vector)
{
	if (vector == PROBE_NONE)
		return "no fault";
	return trap_name((uint32_t)vector);
}
