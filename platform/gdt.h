/* gdt.h — the hypervisor's GDT and TSS.  The selectors are also the VMCS
 * host-state selectors (SDM Vol. 3C §28.2.3: RPL and TI must be 0). */
#ifndef PLATFORM_GDT_H
#define PLATFORM_GDT_H

#include <stdbool.h>
#include <stdint.h>

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* Interrupt stack table slots (SDM Vol. 3A §7.14.5). */
#define IST_NMI 1
#define IST_DF 2
#define IST_MC 3
#define IST_PF 4	/* so a stack's guard-page hit can be handled (trap_set_pf_fixup) */

/* What an AP's tables and IST stacks need (16-byte and page aligned). */
#define GDT_TABLES_BYTES 256
#define GDT_IST_BYTES (IST_PF * 16 * 1024)

void gdt_init(void);
/* An AP's own GDT and TSS in `tables`, its IST stacks in `ist`. */
void gdt_init_ap(void *tables, uint8_t *ist);
/* The boot CPU's (the VMCS host state of its vCPU). */
uint64_t gdt_base(void);
uint64_t tss_base(void);
/* True when [addr, addr+8) lies on a stack the hypervisor owns: the
 * backtrace walker must never fault while reporting a fault. */
bool on_known_stack(uint64_t addr);

#endif
