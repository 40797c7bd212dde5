/* injected.h — events a debugger injects that the guest did not cause
 * (vmxdbg's inject.exception/interrupt/nmi; scripts/inject_demo.lua).
 * injected=V (decimal or 0x-hex, repeatable) names a vector to expect. */
#ifndef BASIC_INJECTED_H
#define BASIC_INJECTED_H

/* Takes each vector named by injected=: reports every arrival as
 * "GUEST INFO injected: ..." and resumes the guest. */
void injected_init(void);
/* Opens an interrupt window for the interrupts held while IF was 0, then
 * PASS injected if every vector arrived.  Nothing without injected=. */
void injected_finish(void);

#endif
