/* trampoline.h — the AP's real-mode start code (trampoline.S) and where it goes. */
#ifndef SMP_TRAMPOLINE_H
#define SMP_TRAMPOLINE_H

/* Below 1 MiB and 4 KiB-aligned: the start-up IPI's vector is the page
 * number (0x08), the AP starts at 0800:0000 (SDM Vol. 3A §11.6.1, "Start-Up"). */
#define SMP_TRAMPOLINE_BASE	0x8000
#define SMP_AP_STACK_SIZE	8192

#ifndef __ASSEMBLER__
extern const char smp_trampoline[], smp_trampoline_end[];
/* The AP's first C code, on its own stack (ap.c). */
void ap_entry(void);
#endif

#endif
