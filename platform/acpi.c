/* acpi.c — find PM1a/PM1b control blocks and SLP_TYPa/b for S5.  Every
 * table is checksummed and bounds-checked: firmware tables are input too. */
#include "acpi.h"

#include <stdbool.h>

#include "cpu.h"
#include "kstring.h"
#include "log.h"

#define IDENTITY_LIMIT (4ull << 30)	/* what boot.S maps */

struct __attribute__((packed)) sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision, creator_id, creator_revision;
};

static struct {
	bool ready;
	uint16_t pm1a_cnt, pm1b_cnt;
	uint16_t slp_typa, slp_typb;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
} s5;

static bool checksum_ok(const void *p, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

static const struct sdt_header *map_table(uint64_t addr, const char *sig)
{
	if (!addr || addr + sizeof(struct sdt_header) > IDENTITY_LIMIT)
		return NULL;
	const struct sdt_header *h = (const void *)(uintptr_t)addr;
	if (h->length < sizeof(*h) || h->length > (1u << 20) || addr + h->length > IDENTITY_LIMIT)
		return NULL;
	if ((sig && memcmp(h->signature, sig, 4)) || !checksum_ok(h, h->length))
		return NULL;
	return h;
}

static const void *scan_rsdp(uint64_t from, uint64_t to)
{
	for (uint64_t a = from; a + 20 <= to; a += 16) {
		const char *p = (const char *)(uintptr_t)a;
		if (!memcmp(p, "RSD PTR ", 8) && checksum_ok(p, 20))
			return p;
	}
	return NULL;
}

static const uint8_t *rsdp_found;
static char fadt_oem[7];

/* The first table with this signature the XSDT (else the RSDT) lists. */
const void *acpi_find_table(const char *sig)
{
	if (!rsdp_found)
		return NULL;
	uint32_t rsdt;
	uint64_t xsdt = 0;
	memcpy(&rsdt, rsdp_found + 16, 4);
	if (rsdp_found[15] >= 2)
		memcpy(&xsdt, rsdp_found + 24, 8);

	const struct sdt_header *root = map_table(xsdt, "XSDT");
	unsigned width = 8;
	if (!root) {
		root = map_table(rsdt, "RSDT");
		width = 4;
	}
	if (!root)
		return NULL;
	const uint8_t *entries = (const uint8_t *)(root + 1);
	unsigned n = (root->length - sizeof(*root)) / width;
	for (unsigned i = 0; i < n; i++) {
		uint64_t addr = 0;
		memcpy(&addr, entries + i * width, width);
		const struct sdt_header *t = map_table(addr, sig);
		if (t)
			return t;
	}
	return NULL;
}

bool acpi_oem_is(const char *oem_id)
{
	return !memcmp(fadt_oem, oem_id, 6);
}

/* AML for \_S5: NameOp "_S5_" PackageOp PkgLength NumElements then the
 * SLP_TYPa/b values as ZeroOp (0), OneOp (1) or BytePrefix (0x0A) nn. */
static bool parse_s5(const struct sdt_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	for (; end - p >= 8; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		const uint8_t *q = p + 5;
		q += 1 + (*q >> 6);	/* PkgLength: lead byte bits 7:6 count the extra bytes */
		q++;			/* NumElements */
		uint16_t typ[2];
		for (int i = 0; i < 2; i++) {
			if (q >= end)
				return false;
			if (*q == 0x0a && end - q >= 2) {
				typ[i] = q[1];
				q += 2;
			} else if (*q == 0x00 || *q == 0x01) {
				typ[i] = *q++;
			} else {
				return false;
			}
		}
		s5.slp_typa = typ[0];
		s5.slp_typb = typ[1];
		return true;
	}
	return false;
}

void acpi_init(const void *rsdp)
{
	if (!rsdp)
		rsdp = scan_rsdp(0x80000, 0xa0000);
	if (!rsdp)
		rsdp = scan_rsdp(0xe0000, 0x100000);
	if (!rsdp) {
		log_warn("acpi: no RSDP; power-off falls back to emulator ports");
		return;
	}
	rsdp_found = rsdp;
	const struct sdt_header *fadt = acpi_find_table("FACP");
	if (fadt)
		memcpy(fadt_oem, fadt->oem_id, 6);
	if (!fadt || fadt->length < 76) {
		log_warn("acpi: no valid FADT; power-off falls back to emulator ports");
		return;
	}
	const uint8_t *f = (const uint8_t *)fadt;
	uint32_t dsdt_addr, pm1a, pm1b;
	memcpy(&dsdt_addr, f + 40, 4);
	memcpy(&s5.smi_cmd, f + 48, 4);
	s5.acpi_enable = f[52];
	memcpy(&pm1a, f + 64, 4);
	memcpy(&pm1b, f + 68, 4);
	s5.pm1a_cnt = (uint16_t)pm1a;
	s5.pm1b_cnt = (uint16_t)pm1b;

	const struct sdt_header *dsdt = map_table(dsdt_addr, "DSDT");
	const char *missing = !pm1a ? "no PM1a control block in the FADT" :
			      !dsdt ? "no valid DSDT" :
			      !parse_s5(dsdt) ? "no \\_S5 package in the DSDT" : NULL;
	if (missing) {
		log_warn("acpi: %s; power-off falls back to emulator ports", missing);
		return;
	}
	s5.ready = true;
	log_debug("acpi: S5 via PM1a_CNT 0x%x SLP_TYPa %u", s5.pm1a_cnt, s5.slp_typa);
}

bool acpi_s5(uint16_t *pm1a_cnt, uint16_t *slp_typa)
{
	*pm1a_cnt = s5.pm1a_cnt;
	*slp_typa = s5.slp_typa;
	return s5.ready;
}

void acpi_power_off(void)
{
	if (!s5.ready)
		return;
	/* Firmware may still own ACPI (SCI_EN clear): ask it to hand over. */
	if (!(inw(s5.pm1a_cnt) & 1) && s5.smi_cmd && s5.acpi_enable) {
		outb((uint16_t)s5.smi_cmd, s5.acpi_enable);
		for (int i = 0; i < 1000000 && !(inw(s5.pm1a_cnt) & 1); i++)
			pause();
	}
	outw(s5.pm1a_cnt, (uint16_t)(s5.slp_typa << 10 | 1 << 13));
	if (s5.pm1b_cnt)
		outw(s5.pm1b_cnt, (uint16_t)(s5.slp_typb << 10 | 1 << 13));
	for (int i = 0; i < 1000000; i++)
		pause();
}
