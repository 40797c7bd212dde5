/* boot.h — what the multiboot v1 loader handed us, and the hooks each guest provides. */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <stdint.h>

#include "trap.h"

/* EAX at entry from a multiboot v1 loader (Multiboot 0.6.96 §3.2). */
#define MB1_BOOT_MAGIC		0x2BADB002u
/* Info block: flags bit 2 says the cmdline field is valid (§3.3). */
#define MB1_INFO_CMDLINE	(1u << 2)

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
};

/* Filled by entry.S before anything else runs (field order is fixed there). */
struct boot_state {
	uint32_t eax, ebx, cr0, eflags;
	uint32_t bss_or;	/* OR of every .bss word as loaded: 0 if the loader zeroed it */
};
extern struct boot_state boot_state;

/* The multiboot command line, or "" if the loader gave none. */
const char *boot_cmdline(void);

/* Each guest defines these two. */
void guest_main(void);
void guest_unexpected_trap(const struct trap_frame *f);

#endif
