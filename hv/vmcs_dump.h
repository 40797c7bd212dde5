/* vmcs_dump.h — a printable dump of the current VMCS, line by line. */
#ifndef HV_VMCS_DUMP_H
#define HV_VMCS_DUMP_H

#include "vmx_caps.h"

/* Only fields caps says exist are read (vmcs_present.h), so the dump leaves
 * VM_INSTRUCTION_ERROR as it found it; control fields, interruption
 * information, the exit reason and qualification and the VM-instruction
 * error are explained below their values (vmcs_explain.h). */
void vmcs_dump(const struct vmx_caps_raw *caps, void (*emit)(void *ctx, const char *line), void *ctx);

#endif
