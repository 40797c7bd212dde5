/* ept_walk.c — the EPT walk for `monitor ept GPA`: the entries the CPU
 * reads for one guest-physical address (SDM Vol. 3C §29.3.2, Tables
 * 29-1..29-6), the book's figure of the four-level walk (ch. 6) live. */
#include "ept_walk.h"

#include "platform/errno.h"
#include "platform/fmt.h"

static const char *const level_names[5] = { "", "PTE", "PDE", "PDPTE", "PML4E" };

static bool is_leaf(int level, uint64_t v)
{
	return level == 1 || ((level == 2 || level == 3) && (v & EPT_ENTRY_LARGE));
}

int ept_walk(const struct ept *e, uint64_t gpa, struct ept_walk_step steps[4])
{
	if (gpa >= EPT_GPA_LIMIT)
		return -EINVAL;
	uint64_t table = e->pml4_phys;
	int n = 0;
	for (int level = 4; level >= 1; level--) {
		unsigned index = (gpa >> (12 + 9 * (level - 1))) & 511;
		const uint64_t *t = e->ops.phys_to_virt(e->ops.ctx, table);
		uint64_t v = t[index];
		steps[n++] = (struct ept_walk_step){ level, table + 8ull * index, v };
		/* Bits 2:0 all clear: not present, the walk ends (§29.3.2). */
		if (!(v & EPT_RWX) || is_leaf(level, v))
			break;
		table = v & EPT_ENTRY_ADDR_MASK;
	}
	return n;
}

static const char *memtype_name(unsigned mt)
{
	static const char *const names[8] = { "UC", "WC", "reserved", "reserved", "WT", "WP", "WB", "reserved" };
	return names[mt & 7];
}

int ept_walk_describe(const struct ept_walk_step *s, char *buf, size_t len)
{
	char perms[4];
	uint64_t v = s->value;
	int at = ksnprintf(buf, len, "%-5s @0x%llx = 0x%016llx: ", level_names[s->level],
			   (unsigned long long)s->entry_hpa, (unsigned long long)v);
	size_t used = (size_t)at < len ? (size_t)at : len;
	if (!(v & EPT_RWX))
		return at + ksnprintf(buf + used, len - used, "not present (R, W, X all clear)%s",
				      v & EPT_ENTRY_MAPPED ? "; vmxdbg keeps the translation (bit 11)" : "");
	if (!is_leaf(s->level, v))
		return at + ksnprintf(buf + used, len - used, "%s, next table 0x%llx%s", ept_perms_string(v & 7, perms),
				      (unsigned long long)(v & EPT_ENTRY_ADDR_MASK),
				      v & EPT_ENTRY_ACCESSED ? ", accessed" : "");
	unsigned mt = (v >> EPT_ENTRY_MT_SHIFT) & 7;
	return at + ksnprintf(buf + used, len - used, "%s, %s page 0x%llx, memory type %s (%u)%s%s%s%s",
			      ept_perms_string(v & 7, perms),
			      s->level == 3 ? "1 GiB" : s->level == 2 ? "2 MiB" : "4 KiB",
			      (unsigned long long)(v & EPT_ENTRY_ADDR_MASK), memtype_name(mt), mt,
			      v & EPT_ENTRY_IGNORE_PAT ? ", ignore-PAT" : "", s->level > 1 ? ", large" : "",
			      v & EPT_ENTRY_ACCESSED ? ", accessed" : "", v & EPT_ENTRY_DIRTY ? ", dirty" : "");
}
