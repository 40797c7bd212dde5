/* cpu_init.h — the boot CPU's control registers, as the hypervisor needs them. */
#ifndef PLATFORM_CPU_INIT_H
#define PLATFORM_CPU_INIT_H

void cpu_init(void);

#endif
