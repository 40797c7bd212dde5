/* dirty.h — known page writes for dirty-page tracking (issue 13 item 4).
 *
 *   dirty=FIRST:COUNT:STEP   one byte to each of COUNT pages of dirty_area
 *                            (640 pages at 16 MiB, outside the image),
 *                            FIRST, FIRST+STEP, ... (at offset 0x123 in the
 *                            page: a logged address need not be aligned)
 *
 * The writes run between the labels dirty_mark_start and dirty_mark_end
 * with interrupts off and no stack use, so a debugger stopped at the first
 * and then at the second sees exactly those pages written by the guest.
 * Prints "GUEST DIRTY first=F count=C step=S area=0xA" before. */
#ifndef BASIC_DIRTY_H
#define BASIC_DIRTY_H

#define DIRTY_AREA_ADDR 0x1000000	/* 16 MiB */
#define DIRTY_AREA_PAGES 640

void dirty_run_all(void);

#endif
