/* acpi_madt.c — processor entries of the MADT (ACPI 6.5 §5.2.12.2 Processor
 * Local APIC, §5.2.12.12 Processor Local x2APIC).  Flags bit 0 "Enabled":
 * the processor is usable now; bit 1 "Online Capable": it is not, but could
 * be hot-added (§5.2.12.2 Table 5.23).  An entry is two bytes of type and
 * length, then its body: a length under 2 or past the table's end stops the
 * walk, a length the type does not have skips the entry. */
#include "acpi_madt.h"

#include "errno.h"
#include "kstring.h"

#define MADT_HEADER_LEN 44	/* SDT header (36) + local APIC address + flags */
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_X2APIC 9
#define MADT_LAPIC_LEN 8
#define MADT_X2APIC_LEN 16
#define MADT_FLAG_ENABLED (1u << 0)
#define MADT_FLAG_ONLINE_CAPABLE (1u << 1)

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static bool listed(const struct madt_info *out, uint32_t apic_id)
{
	for (unsigned i = 0; i < out->ncpus; i++)
		if (out->cpus[i].apic_id == apic_id)
			return true;
	return false;
}

static void add_cpu(struct madt_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags, bool x2apic)
{
	if (!(flags & MADT_FLAG_ENABLED)) {
		if (flags & MADT_FLAG_ONLINE_CAPABLE)
			out->online_capable++;
		return;
	}
	if (listed(out, apic_id)) {
		out->duplicates++;
		return;
	}
	if (out->ncpus == MADT_MAX_CPUS) {
		out->overflow++;
		return;
	}
	out->cpus[out->ncpus++] = (struct madt_cpu){ apic_id, uid, x2apic };
}

int madt_parse(const void *table, struct madt_info *out)
{
	const uint8_t *t = table;
	memset(out, 0, sizeof(*out));
	if (!t || memcmp(t, "APIC", 4))
		return -EINVAL;
	uint32_t len = get32(t + 4);
	if (len < MADT_HEADER_LEN)
		return -EINVAL;
	out->lapic_addr = get32(t + 36);

	for (uint32_t at = MADT_HEADER_LEN; at < len;) {
		if (len - at < 2 || t[at + 1] < 2 || t[at + 1] > len - at) {
			out->truncated = true;
			break;
		}
		const uint8_t *e = t + at;
		uint8_t type = e[0], elen = e[1];
		if (type == MADT_TYPE_LAPIC) {
			if (elen == MADT_LAPIC_LEN)
				add_cpu(out, e[3], e[2], get32(e + 4), false);
			else
				out->malformed++;
		} else if (type == MADT_TYPE_X2APIC) {
			if (elen == MADT_X2APIC_LEN)
				add_cpu(out, get32(e + 4), get32(e + 12), get32(e + 8), true);
			else
				out->malformed++;
		}
		at += elen;
	}
	return 0;
}
