/* boot.h — the machine state the loader handed over, and the hooks each guest provides. */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <stdint.h>

#include "trap.h"

/* Filled by entry.S before anything else runs (field order is fixed there). */
struct boot_state {
	uint32_t eax, ebx, cr0, eflags;
	uint32_t bss_or;	/* OR of every .bss word as loaded: 0 if the loader zeroed it */
};
extern struct boot_state boot_state;

/* The multiboot (v1 or v2) command line, or "" if the loader gave none. */
const char *boot_cmdline(void);

/* Each guest defines these two. */
void guest_main(void);
void guest_unexpected_trap(const struct trap_frame *f);

#endif
