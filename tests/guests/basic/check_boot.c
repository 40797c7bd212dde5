/* check_boot.c — did the loader hand over the multiboot v1 machine state
 * (Multiboot 0.6.96 §3.2): EAX magic, protected mode, paging off, IF and
 * VM clear, and a zeroed .bss as the ELF program headers ask. */
#include "boot.h"
#include "checks.h"
#include "report.h"
#include "x86.h"

void check_boot(void)
{
	const struct boot_state *b = &boot_state;

	report_expect("multiboot-magic", b->eax == MB1_BOOT_MAGIC,
		      "eax=0x%08x, want 0x%08x", b->eax, MB1_BOOT_MAGIC);

	bool ok = (b->cr0 & CR0_PE) && !(b->cr0 & CR0_PG) &&
		  !(b->eflags & EFLAGS_IF) && !(b->eflags & EFLAGS_VM);
	report_expect("multiboot-entry-state", ok,
		      "cr0=0x%08x eflags=0x%08x, want CR0.PE=1 PG=0 EFLAGS.IF=0 VM=0", b->cr0, b->eflags);

	report_expect("multiboot-bss-zeroed", b->bss_or == 0,
		      "the OR of all .bss words at entry was 0x%08x", b->bss_or);
}
