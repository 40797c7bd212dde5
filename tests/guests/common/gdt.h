/* gdt.h — our own flat GDT: the loader's may live in memory we do not own. */
#ifndef GUEST_GDT_H
#define GUEST_GDT_H

#define GDT_CODE_SEL	0x08
#define GDT_DATA_SEL	0x10

void gdt_init(void);

#endif
