/* percpu.h — the per-CPU block, reached through FS base.  Its head has the
 * layout musl's thread pointer expects (docs/platform-notes.md: self at 0x00,
 * canary at 0x28, errno at 0x34, locale at 0xa8), so Lua's libc works in
 * VMX root.  FS base is reloaded from HOST_FS_BASE on every VM exit. */
#ifndef PLATFORM_PERCPU_H
#define PLATFORM_PERCPU_H

#include <stdint.h>

struct percpu {
	struct percpu *self;		/* 0x00: musl's __pthread_self() */
	uint8_t musl_pad0[0x20];
	uint64_t canary;		/* 0x28 */
	uint32_t musl_pad1;
	int errno_value;		/* 0x34 */
	uint8_t musl_pad2[0xa8 - 0x38];
	const void *locale;		/* 0xa8: a "C" locale, six NULL categories */
	uint8_t musl_pad3[0x100 - 0xb0];
	/* Ours from here on. */
	uint32_t cpu_index;
	uint32_t apic_id;
	volatile uint64_t nmis;		/* NMIs taken in root mode (trap.c) */
};

#define PERCPU_MAX 64	/* MADT_MAX_CPUS */

/* cpu_index < PERCPU_MAX (smp.c starts no more); run on the CPU itself. */
void percpu_init(uint32_t cpu_index);
struct percpu *this_cpu(void);

#endif
