/* qemu_tcg.h — recognise QEMU's TCG emulator, for the few places where it
 * departs from the SDM and a bare run would otherwise fail or hang. */
#ifndef GUEST_QEMU_TCG_H
#define GUEST_QEMU_TCG_H

#include <stdbool.h>

/* True when the hypervisor CPUID leaf 0x40000000 says "TCGTCGTCGTCG". */
bool running_under_qemu_tcg(void);

#endif
