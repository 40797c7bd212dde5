/* attack_memory.c — read, then write, the hypervisor's own physical memory
 * (paging is off: addresses are physical).  vmxdbg leaves its pages out of
 * the guest's EPT, so the read should end this guest with an EPT
 * violation that vmxdbg reports; nothing after it may print. */
#include "attacks.h"
#include "print.h"
#include "probe.h"
#include "say.h"

void attack_memory(uint32_t hv_base)
{
	kprintf("HOSTILE about to read hv memory\n");
	uint32_t value;
	int fault = probe_read32(hv_base, &value);
	if (fault != PROBE_NONE) {
		kprintf("HOSTILE read 0x%08x: %s\n", hv_base, fault_text(fault));
		return;
	}
	kprintf("HOSTILE read 0x%08x: value 0x%08x\n", hv_base, value);

	uint32_t poison = ~value, back = 0;
	fault = probe_write32(hv_base, poison);
	if (fault == PROBE_NONE)
		fault = probe_read32(hv_base, &back);
	if (fault != PROBE_NONE) {
		kprintf("HOSTILE write 0x%08x: %s\n", hv_base, fault_text(fault));
		return;
	}
	/* Put it back: the point is to learn, not to crash the host. */
	probe_write32(hv_base, value);
	kprintf("HOSTILE write 0x%08x: wrote 0x%08x, read back 0x%08x (%s)\n", hv_base, poison, back,
		back == poison ? "write reached memory" : "write did not stick");
}
