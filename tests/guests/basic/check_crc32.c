/* check_crc32.c — the checksum's own arithmetic, against a published value. */
#include "checks.h"
#include "crc32.h"
#include "report.h"

/* The catalogued check value of CRC-32 over "123456789". */
void check_crc32(void)
{
	uint32_t got = crc32("123456789", 9);
	report_expect("crc32-selftest", got == 0xcbf43926u, "crc32(\"123456789\")=0x%08x, want 0xcbf43926", got);
}
