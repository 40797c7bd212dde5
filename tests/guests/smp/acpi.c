/* acpi.c — RSDP → RSDT/XSDT → "APIC".  Paging is off: physical addresses
 * are pointers, as long as they are below 4 GiB.  Every table is
 * checksummed and its length bounded before use; the MADT's entries are
 * platform/acpi_madt.c's to parse. */
#include <stdbool.h>
#include <stdint.h>

#include "acpi.h"
#include "kstring.h"

#define EBDA_SEGMENT_PTR	0x40e		/* BIOS data area word: EBDA >> 4 */
#define EBDA_SCAN_LEN		1024		/* §5.2.5.1: the EBDA's first 1 KiB */
#define BIOS_ROM_FIRST		0x000e0000u	/* §5.2.5.1: then 0xE0000-0xFFFFF */
#define BIOS_ROM_END		0x00100000u
#define RSDP_V1_LEN		20
#define TABLE_MAX_LEN		(1u << 20)
#define SDT_HEADER_LEN		36

struct __attribute__((packed)) rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;	/* revision 2 and later from here on */
	uint64_t xsdt;
};

static bool sums_to_zero(const void *p, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

static const struct rsdp *rsdp_in(uint32_t first, uint32_t end)
{
	for (uint32_t a = first; a + RSDP_V1_LEN <= end; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8) && sums_to_zero((const void *)a, RSDP_V1_LEN))
			return (const struct rsdp *)a;
	return NULL;
}

/* The table at addr if it has this signature (any, if NULL), a sane length and a good checksum. */
static const uint8_t *table_at(uint64_t addr, const char *sig)
{
	if (!addr || addr >= (1ull << 32) - TABLE_MAX_LEN)
		return NULL;
	const uint8_t *t = (const uint8_t *)(uint32_t)addr;
	uint32_t len;
	memcpy(&len, t + 4, 4);
	if (len < SDT_HEADER_LEN || len > TABLE_MAX_LEN || (sig && memcmp(t, sig, 4)))
		return NULL;
	return sums_to_zero(t, len) ? t : NULL;
}

/* A word of the BIOS data area.  Through an opaque pointer: gcc takes any
 * pointer into the first page for a null one plus an offset. */
static uint16_t bda_word(uint32_t addr)
{
	const volatile uint16_t *p;
	__asm__("" : "=r"(p) : "0"(addr));
	return *p;
}

const void *acpi_find_madt(void)
{
	uint32_t ebda = (uint32_t)bda_word(EBDA_SEGMENT_PTR) << 4;
	const struct rsdp *r = ebda ? rsdp_in(ebda, ebda + EBDA_SCAN_LEN) : NULL;
	if (!r)
		r = rsdp_in(BIOS_ROM_FIRST, BIOS_ROM_END);
	if (!r)
		return NULL;
	/* The XSDT (8-byte entries) if the RSDP is revision 2 and has one, else the RSDT (4-byte). */
	bool wide = r->revision >= 2 && table_at(r->xsdt, "XSDT");
	const uint8_t *sdt = wide ? table_at(r->xsdt, "XSDT") : table_at(r->rsdt, "RSDT");
	if (!sdt)
		return NULL;
	uint32_t len, step = wide ? 8 : 4;
	memcpy(&len, sdt + 4, 4);
	for (uint32_t at = SDT_HEADER_LEN; at + step <= len; at += step) {
		uint64_t entry = 0;
		memcpy(&entry, sdt + at, step);
		const uint8_t *t = table_at(entry, "APIC");
		if (t)
			return t;
	}
	return NULL;
}
