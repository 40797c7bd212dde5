/* check_boot.c — did the loader hand over the machine state its protocol
 * promises (Multiboot 0.6.96 §3.2, Multiboot2 §3.3): the magic for the
 * header this image carries, protected mode, paging off, IF and VM clear,
 * and a zeroed .bss as the ELF program headers or the a.out kludge's
 * bss_end_addr ask.  Then the boot information (check_bootinfo.c). */
#include "boot.h"
#include "checks.h"
#include "mbinfo.h"
#include "report.h"
#include "x86.h"

void check_boot(void)
{
	const struct boot_state *b = &boot_state;
	const struct mb_info *mb = mbinfo();
	enum mb_protocol want = mbinfo_header_protocol();
	uint32_t want_magic = want == MB_V2 ? MB2_BOOT_MAGIC : MB1_BOOT_MAGIC;

	report_info("boot-protocol", "%s (EAX=0x%08x), header %s, info at 0x%08x, loader \"%s\"",
		    mbinfo_protocol_name(mb->protocol), b->eax, mbinfo_protocol_name(want), b->ebx,
		    mb->loader ? mb->loader : "?");
	report_expect("multiboot-magic", b->eax == want_magic,
		      "eax=0x%08x, want 0x%08x for a %s header", b->eax, want_magic, mbinfo_protocol_name(want));

	bool ok = (b->cr0 & CR0_PE) && !(b->cr0 & CR0_PG) &&
		  !(b->eflags & EFLAGS_IF) && !(b->eflags & EFLAGS_VM);
	report_expect("multiboot-entry-state", ok,
		      "cr0=0x%08x eflags=0x%08x, want CR0.PE=1 PG=0 EFLAGS.IF=0 VM=0", b->cr0, b->eflags);

	report_expect("multiboot-bss-zeroed", b->bss_or == 0,
		      "the OR of all .bss words at entry was 0x%08x", b->bss_or);

	check_bootinfo();
}
