/* selfsum.c — integrity checking as anti-debugging code does it: N times,
 * call a function, then checksum the page it is on, once with CRC-32 from
 * another page and once with code on the page itself.  A breakpoint made
 * with int3 in memory changes both sums; a hidden one (an execute-only EPT
 * view) changes neither, so the line equals the bare run's.  The test
 * counts the breakpoint's hits on its side.  The DONE checksum is not
 * touched. */
#include "selfsum.h"
#include "cmdline.h"
#include "crc32.h"
#include "report.h"

void selfsum_run(void)
{
	struct cmdline_value v;
	uint32_t n, calls = 0, crc = 0, near = 0;

	if (!cmdline_find("selfsum", &v))
		return;
	if (!parse_u32(v.text, v.len, &n)) {
		report_fail("selfsum", "bad option \"selfsum=%.*s\", want selfsum=N", (int)v.len, v.text);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		calls += selfsum_target(i);
		crc += crc32(selfsum_page, sizeof(selfsum_page));
		near += selfsum_near();
	}
	report_info("selfsum", "rounds=%u calls=0x%08x crc=0x%08x near=0x%08x", n, calls, crc, near);
}
