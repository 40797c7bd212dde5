/* msr_probe.h — does this MSR exist?  RDMSR of an MSR the processor lacks
 * raises #GP (SDM Vol. 4 introduction); the probe catches that one fault. */
#ifndef PLATFORM_MSR_PROBE_H
#define PLATFORM_MSR_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

/* True, with *value, when RDMSR of msr completes; false when it raised #GP. */
bool msr_probe(uint32_t msr, uint64_t *value);
/* For trap_dispatch: a #GP at the probe's RDMSR resumes after it. */
bool msr_probe_catch(struct trap_frame *f);

#endif
