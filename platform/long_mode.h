/* long_mode.h — for assembly: the switch from 32-bit protected mode to
 * IA-32e mode, in the order SDM Vol. 3A §10.8.5 "Initializing IA-32e Mode"
 * gives (PAE, CR3, EFER.LME, CR0.PG), shared by the BSP's boot.S and the
 * APs' smp_trampoline.S.  A far jump to a 64-bit code segment follows. */
#ifndef PLATFORM_LONG_MODE_H
#define PLATFORM_LONG_MODE_H

#define CR0_PE		(1 << 0)
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define EFER_MSR	0xc0000080
#define EFER_LME	(1 << 8)

/* cr3: an operand giving the PML4's physical address (below 4 GiB).
 * Clobbers eax, ecx, edx. */
.macro LONG_MODE_ON cr3:req
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov \cr3, %eax
	mov %eax, %cr3
	mov $EFER_MSR, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PE | CR0_PG), %eax
	mov %eax, %cr0
.endm

#endif
