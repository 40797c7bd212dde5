/* vmcs_dump.h — a printable dump of the current VMCS, line by line. */
#ifndef HV_VMCS_DUMP_H
#define HV_VMCS_DUMP_H

void vmcs_dump(void (*emit)(void *ctx, const char *line), void *ctx);

#endif
