/* start.c — from entry.S to guest_main: boot information, descriptor
 * tables, COM1, command line. */
#include "boot.h"
#include "cmdline.h"
#include "gdt.h"
#include "mbinfo.h"
#include "poweroff.h"
#include "uart.h"

/* In .data, not .bss: entry.S fills it before it clears .bss. */
struct boot_state boot_state __attribute__((section(".data")));

const char *boot_cmdline(void)
{
	const char *line = mbinfo()->cmdline;
	return line ? line : "";
}

/* Called by entry.S, with a stack and a zeroed .bss. */
void guest_start(void);

void guest_start(void)
{
	mbinfo_init(boot_state.eax, boot_state.ebx);
	gdt_init();
	idt_init();
	uart_init();
	/* Copied now: later checks turn paging on and poke memory. */
	cmdline_init(boot_cmdline());
	guest_main();
	poweroff(0);
}
