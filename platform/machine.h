/* machine.h — what this machine is: Bochs, QEMU with KVM, or hardware.
 * Only the emulators have "stop now" ports (Bochs' 0x8900, QEMU's
 * isa-debug-exit at 0xf4); the hypervisor honours a guest's write to one
 * only where that device exists, so a guest behaves as it would bare. */
#ifndef PLATFORM_MACHINE_H
#define PLATFORM_MACHINE_H

enum machine_kind { MACHINE_HARDWARE, MACHINE_BOCHS, MACHINE_QEMU_KVM };

/* After acpi_init(): Bochs has no CPUID hypervisor bit and its BIOS's ACPI
 * OEM ID "BOCHS "; QEMU's SeaBIOS uses the same OEM ID, but under KVM the
 * hypervisor bit is set and leaf 0x40000000 says "KVMKVMKVM". */
enum machine_kind machine_detect(void);
const char *machine_name(enum machine_kind kind);
/* A log line on what passed-through devices can reach by DMA (no IOMMU is
 * programmed). */
void machine_report_dma(void);

#endif
