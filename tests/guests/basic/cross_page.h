/* cross_page.h — stores across a page boundary, for debuggers' watchpoint
 * tests (option cross-page; README.md). */
#ifndef BASIC_CROSS_PAGE_H
#define BASIC_CROSS_PAGE_H

/* Runs the stores if the command line has the word cross-page. */
void cross_page_run(void);

#endif
