/* main.c — the hostile guest: attack vmxdbg, report each result as
 * "HOSTILE <attempt>: <what happened>", then "HOSTILE DONE" and power off.
 *
 * Options: hv-base=ADDR, the physical address to read and write last
 * (default 0x08000000, where vmxdbg is linked). */
#include "attacks.h"
#include "boot.h"
#include "cmdline.h"
#include "poweroff.h"
#include "print.h"
#include "say.h"
#include "x86.h"

#define DEFAULT_HV_BASE	0x08000000u

static uint32_t hv_base_option(void)
{
	struct cmdline_value v;
	uint32_t base = DEFAULT_HV_BASE;
	if (cmdline_find("hv-base", &v) && !parse_u32(v.text, v.len, &base)) {
		say("options", "bad \"hv-base=%.*s\", using 0x%08x", (int)v.len, v.text, DEFAULT_HV_BASE);
		base = DEFAULT_HV_BASE;
	}
	return base;
}

void guest_main(void)
{
	kprintf("HOSTILE start: vmxdbg hostile test guest, cmdline \"%s\"\n", cmdline_text());
	uint32_t hv_base = hv_base_option();
	attack_vmx_instructions();
	attack_vmx_state();
	attack_com2();
	attack_memory(hv_base);
	kprintf("HOSTILE DONE\n");
	poweroff(0);
}

void guest_unexpected_trap(const struct trap_frame *f)
{
	kprintf("HOSTILE unexpected trap: %s (vector %u) error=0x%x eip=0x%x cr2=0x%x\n",
		trap_name(f->vector), f->vector, f->error, f->eip, read_cr2());
	poweroff(1);
}
