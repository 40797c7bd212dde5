/* machine.c — tell Bochs, QEMU/KVM and hardware apart (see machine.h). */
#include "machine.h"

#include "acpi.h"
#include "cpu.h"
#include "kstring.h"
#include "log.h"

#define CPUID1_ECX_HYPERVISOR (1u << 31)	/* reserved for hypervisors' use (SDM Vol. 2A CPUID) */
#define CPUID_HYPERVISOR_LEAF 0x40000000u

enum machine_kind machine_detect(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (c & CPUID1_ECX_HYPERVISOR) {
		uint32_t sig[3];
		cpuid(CPUID_HYPERVISOR_LEAF, 0, &a, &sig[0], &sig[1], &sig[2]);
		return !memcmp(sig, "KVMKVMKVM\0\0\0", 12) ? MACHINE_QEMU_KVM : MACHINE_HARDWARE;
	}
	return acpi_oem_is("BOCHS ") ? MACHINE_BOCHS : MACHINE_HARDWARE;
}

const char *machine_name(enum machine_kind kind)
{
	switch (kind) {
	case MACHINE_BOCHS:
		return "Bochs";
	case MACHINE_QEMU_KVM:
		return "QEMU/KVM";
	default:
		return "hardware (or an unknown hypervisor)";
	}
}

/* vmxdbg passes devices through and programs no IOMMU, so what a bus-master
 * device (IDE, UHCI, a NIC) can reach by DMA is the whole of memory: EPT
 * confines the guest's CPU accesses only.  Say so at boot (DESIGN: be
 * honest about the isolation boundary). */
void machine_report_dma(void)
{
	if (acpi_find_table("DMAR"))
		log_warn("dma: an IOMMU is present (ACPI DMAR) but vmxdbg does not program it: "
			 "devices the guest drives can DMA into the hypervisor's memory");
	else
		log_warn("dma: no IOMMU (no ACPI DMAR table): devices the guest drives can DMA "
			 "anywhere, the hypervisor's memory included; EPT isolates the guest's CPU only");
}
