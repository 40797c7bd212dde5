/* power.c — power off and fatal stops. */
#include "power.h"

#include <stdarg.h>

#include "acpi.h"
#include "cpu.h"
#include "fmt.h"
#include "log.h"
#include "trap.h"

enum panic_action stop_action = PANIC_HALT;

static __attribute__((noreturn)) void halt_forever(void)
{
	for (;;) {
		cli();
		hlt();
	}
}

void power_off(void)
{
	log_info("power: off");
	log_flush();
	cli();
	bochs_magic_break();
	acpi_power_off();
	/* Bochs' shutdown port (iodev/unmapped.cc): the word "Shutdown". */
	for (const char *s = "Shutdown"; *s; s++)
		outb(0x8900, (uint8_t)*s);
	log_error("power: the machine did not power off; halting");
	halt_forever();
}

void platform_stop(void)
{
	if (stop_action == PANIC_POWEROFF)
		power_off();
	log_raw("stopped: halting (panic=poweroff powers off instead)\n");
	log_flush();	/* lines held for the guest's open console line too */
	halt_forever();
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	cli();
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_raw("PANIC: %s\n", msg);
	const uint64_t *fp = __builtin_frame_address(0);
	print_backtrace(fp[1], fp[0]);
	platform_stop();
}
