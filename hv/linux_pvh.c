/* linux_pvh.c — the PVH entry: the ELF note, then the start-of-day
 * structure (Xen public/arch-x86/hvm/start_info.h; layout below).  Linux
 * without Xen takes its memory map only from here (version 1): without one
 * it stops at once, so the map is not optional. */
#include "linux_pvh.h"

#include "platform/errno.h"
#include "platform/kstring.h"

#define PT_NOTE 4
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578	/* "xEn3" with the 0x80 bit of the "E" set */

/* hvm_start_info, version 1: all fields little-endian, addresses physical,
 * 0 meaning absent. */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;		/* version 1 from here */
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

/* Types as in the E820/ACPI map: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable. */
struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1 is 56 bytes");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "a module entry is 32 bytes");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "a memory map entry is 24 bytes");

static uint64_t rd(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, p, size);
	return v;
}

/* The note's descriptor is the address, 4 bytes (.long) or 8 (Linux's
 * _ASM_PTR on x86-64); only the low 32 bits can be a protected-mode entry. */
static bool scan_notes(const uint8_t *p, uint64_t size, uint32_t *entry)
{
	for (uint64_t at = 0; at + 12 <= size;) {
		uint64_t namesz = rd(p + at, 4), descsz = rd(p + at + 4, 4), type = rd(p + at + 8, 4);
		uint64_t desc = at + 12 + ((namesz + 3) & ~3ull), next = desc + ((descsz + 3) & ~3ull);
		if (desc > size || descsz > size - desc)
			return false;
		if (namesz == 4 && !memcmp(p + at + 12, "Xen", 4) && type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    descsz >= 4) {
			*entry = (uint32_t)rd(p + desc, 4);
			return true;
		}
		at = next;
	}
	return false;
}

bool linux_pvh_entry(const uint8_t *img, size_t len, uint32_t *entry)
{
	if (len < 64 || memcmp(img, "\x7f" "ELF", 4) || img[5] != 1 || (img[4] != 1 && img[4] != 2))
		return false;
	bool is64 = img[4] == 2;
	uint64_t phoff = is64 ? rd(img + 32, 8) : rd(img + 28, 4);
	uint64_t entsize = rd(img + (is64 ? 54 : 42), 2), num = rd(img + (is64 ? 56 : 44), 2);
	if (entsize < (is64 ? 56u : 32u) || phoff > len || entsize * num > len - phoff)
		return false;
	for (uint64_t i = 0; i < num; i++) {
		const uint8_t *ph = img + phoff + i * entsize;
		uint64_t off = is64 ? rd(ph + 8, 8) : rd(ph + 4, 4);
		uint64_t size = is64 ? rd(ph + 32, 8) : rd(ph + 16, 4);
		if (rd(ph, 4) == PT_NOTE && off <= len && size <= len - off && scan_notes(img + off, size, entry))
			return true;
	}
	return false;
}

int linux_pvh_measure(struct linux_boot *lb, struct phys_range *extent)
{
	struct elf_image elf;
	if (elf_load(lb->image, lb->len, NULL, &elf, lb->err, sizeof(lb->err)))
		return -EINVAL;
	*extent = (struct phys_range){ elf.load_start, elf.load_end };
	return 0;
}

static int build_start_info(struct linux_boot *lb, uint64_t *gpa)
{
	struct hvm_start_info *si = linux_area_alloc(lb, sizeof(*si), 8, gpa);
	uint64_t map_gpa = 0, mod_gpa = 0;
	struct hvm_memmap_table_entry *map = linux_area_alloc(lb, sizeof(*map) * lb->nmap, 8, &map_gpa);
	struct hvm_modlist_entry *mod = lb->initrd_len ? linux_area_alloc(lb, sizeof(*mod), 8, &mod_gpa) : NULL;
	uint64_t cmdline = linux_area_string(lb, lb->cmdline), rsdp = linux_area_rsdp(lb);
	if (!si || !map || (lb->initrd_len && !mod) || !cmdline || (lb->rsdp && !rsdp))
		return linux_fail(lb, "the boot-information area is full");

	*si = (struct hvm_start_info){ .magic = HVM_START_MAGIC, .version = 1, .cmdline_paddr = cmdline,
				       .rsdp_paddr = rsdp, .memmap_paddr = map_gpa,
				       .memmap_entries = lb->nmap };
	for (unsigned i = 0; i < lb->nmap; i++)
		map[i] = (struct hvm_memmap_table_entry){ lb->map[i].base, lb->map[i].len, lb->map[i].type, 0 };
	if (mod) {	/* Linux takes module 0 as its initrd */
		*mod = (struct hvm_modlist_entry){ .paddr = lb->initrd, .size = lb->initrd_len };
		si->nr_modules = 1;
		si->modlist_paddr = mod_gpa;
	}
	return 0;
}

/* Entry state (pvh.pandoc): EBX = start info; CR0.PE only, CR4 0, paging
 * off; flat 32-bit CS and data segments; IF, TF and VM clear.  The
 * selectors are unspecified; TR (a 32-bit TSS, limit 0x67) is vmcs_setup's. */
int linux_pvh_load(struct linux_boot *lb, struct guest_entry *e)
{
	uint32_t entry;
	struct elf_image elf;
	uint64_t info;

	if (!linux_pvh_entry(lb->image, lb->len, &entry))
		return linux_fail(lb, "no XEN_ELFNOTE_PHYS32_ENTRY note");
	if (elf_load(lb->image, lb->len, lb->to, &elf, lb->err, sizeof(lb->err)))
		return -EINVAL;
	if (entry < elf.load_start || entry >= elf.load_end)
		return linux_fail(lb, "the PVH entry 0x%x lies outside the loaded segments", entry);
	if (build_start_info(lb, &info))
		return -EINVAL;
	*e = (struct guest_entry){ .mode = GUEST_MODE_PROTECTED32, .rip = entry, .cs = 0x08, .ds = 0x10,
				   .gdt_limit = 0xffff };
	e->gprs.rbx = info;
	return 0;
}
