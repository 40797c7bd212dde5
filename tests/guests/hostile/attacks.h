/* attacks.h — what the hostile guest tries, in the order it tries it.
 * The memory attack is last: vmxdbg may stop the guest on it. */
#ifndef HOSTILE_ATTACKS_H
#define HOSTILE_ATTACKS_H

#include <stdint.h>

void attack_vmx_instructions(void);
void attack_vmx_state(void);
void attack_com2(void);
void attack_memory(uint32_t hv_base);

#endif
