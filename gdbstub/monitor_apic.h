/* monitor_apic.h — registers `monitor apic` with the gdb stub. */
#ifndef GDBSTUB_MONITOR_APIC_H
#define GDBSTUB_MONITOR_APIC_H

void monitor_apic_register(void);

#endif
