/* guest_load.c — the guest comes as a GRUB module tagged `guest`: its
 * kernel image, then its own command line ("guest ARGS").  Modules tagged
 * `guest-module` are handed on to it.  Multiboot v1 and v2 kernels are
 * loaded here (ELF, or the a.out kludge's load addresses); the boot
 * information they get is built by guest_bootinfo.c.  A Linux kernel -- a
 * vmlinux with the PVH note, or a bzImage -- goes to linux_pvh.c or
 * linux_bzimage.c, with the module tagged `initrd` (else the first
 * `guest-module`) as its initrd.  The image is measured before anything is
 * written: what GRUB left where the guest's kernel and boot information go
 * is first set aside (set_aside()). */
#include "guest.h"

#include "elf_load.h"
#include "guest_bootinfo.h"
#include "linux_bzimage.h"
#include "linux_pvh.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/pmm.h"

#define MB1_HEADER_MAGIC 0x1badb002
#define MB1_FLAG_AOUT_KLUDGE (1u << 16)
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB_SEARCH_LEN 32768	/* v1 looks in the first 8 KiB, v2 in 32 KiB */
#define MB_ADDR_LIMIT (1ull << 32)	/* the boot information holds 32-bit addresses */

static bool word_is(const char *cmdline, const char *word)
{
	size_t n = strlen(word);
	return !strncmp(cmdline, word, n) && (cmdline[n] == '\0' || cmdline[n] == ' ');
}

static const char *args_after_tag(const char *cmdline)
{
	while (*cmdline && *cmdline != ' ')
		cmdline++;
	while (*cmdline == ' ')
		cmdline++;
	return cmdline;
}

static void *dest(uint64_t gpa, uint64_t len)
{
	return guest_phys_ptr(gpa, len);
}

static uint64_t page_up(uint64_t a)
{
	return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* Multiboot v1 header: magic, flags, checksum; with bit 16 the a.out
 * kludge fields follow (Multiboot 0.6.96 §3.1). */
static const uint32_t *find_mb1(const uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 12 <= len && off < 8192; off += 4) {
		const uint32_t *h = (const uint32_t *)(img + off);
		if (h[0] == MB1_HEADER_MAGIC && h[0] + h[1] + h[2] == 0)
			return h;
	}
	return NULL;
}

/* Multiboot2 header: magic, architecture, length, checksum (§3.1.1). */
static const uint32_t *find_mb2(const uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 16 <= len && off < MB_SEARCH_LEN; off += 8) {
		const uint32_t *h = (const uint32_t *)(img + off);
		if (h[0] == MB2_HEADER_MAGIC && h[0] + h[1] + h[2] + h[3] == 0 && h[2] >= 16 &&
		    h[2] <= len - off)
			return h;
	}
	return NULL;
}

/* The a.out kludge: header_addr says where the header itself lands, so the
 * file offset of load_addr follows (Multiboot 0.6.96 §3.1.3). */
static int load_kludge(const uint8_t *img, size_t len, const uint32_t *h, uint32_t header_addr,
		       uint32_t load_addr, uint32_t load_end, uint32_t bss_end, guest_dest_fn to,
		       struct elf_image *out)
{
	uint64_t header_off = (const uint8_t *)h - img;
	if (load_addr > header_addr || header_addr - load_addr > header_off) {
		log_error("guest: a.out kludge: load_addr 0x%x is after header_addr 0x%x", load_addr, header_addr);
		return -EINVAL;
	}
	uint64_t file_off = header_off - (header_addr - load_addr);
	uint64_t size = load_end ? (uint64_t)load_end - load_addr : len - file_off;
	uint64_t mem = bss_end ? (uint64_t)bss_end - load_addr : size;
	if (load_end && load_end < load_addr) {
		log_error("guest: a.out kludge: load_end_addr 0x%x is below load_addr 0x%x", load_end, load_addr);
		return -EINVAL;
	}
	if (size > len - file_off || mem < size) {
		log_error("guest: a.out kludge: the load range runs past the file or the bss");
		return -EINVAL;
	}
	uint8_t *d = to ? to(load_addr, mem) : NULL;
	if (to && !d) {
		log_error("guest: a.out kludge: 0x%x (+0x%llx) is not guest RAM", load_addr, (unsigned long long)mem);
		return -EINVAL;
	}
	if (d) {
		memcpy(d, img + file_off, size);
		memset(d + size, 0, mem - size);
	}
	out->load_start = load_addr;
	out->load_end = load_addr + mem;
	out->elf_class = 0;
	return 0;
}

static int load_elf(const uint8_t *img, size_t len, guest_dest_fn to, struct elf_image *out)
{
	char err[96];
	int rc = elf_load(img, len, to, out, err, sizeof(err));
	if (rc)
		log_error("guest: cannot load the ELF image: %s", err);
	return rc;
}

static int load_mb1(const uint8_t *img, size_t len, const uint32_t *h, guest_dest_fn to,
		    struct elf_image *out)
{
	if (h[1] & MB1_FLAG_AOUT_KLUDGE) {
		if ((const uint8_t *)h + 32 > img + len)
			return -EINVAL;
		int rc = load_kludge(img, len, h, h[3], h[4], h[5], h[6], to, out);
		out->entry = h[7];
		return rc;
	}
	return load_elf(img, len, to, out);
}

/* v2 tags: 2 = address (the kludge), 3 = entry address (§3.1.5-3.1.6). */
static int load_mb2(const uint8_t *img, size_t len, const uint32_t *h, guest_dest_fn to,
		    struct elf_image *out)
{
	const uint32_t *addr_tag = NULL, *entry_tag = NULL;
	const uint8_t *p = (const uint8_t *)h + 16, *end = (const uint8_t *)h + h[2];
	while (p + 8 <= end) {
		uint16_t type = *(const uint16_t *)p;
		uint32_t size = *(const uint32_t *)(p + 4);
		if (type == 0 || size < 8 || size > (uint64_t)(end - p))
			break;
		if (type == 2 && size >= 24)
			addr_tag = (const uint32_t *)p;
		if (type == 3 && size >= 12)
			entry_tag = (const uint32_t *)p;
		p += (size + 7) & ~7u;
	}
	int rc = addr_tag ? load_kludge(img, len, h, addr_tag[2], addr_tag[3], addr_tag[4], addr_tag[5], to, out)
			  : load_elf(img, len, to, out);
	if (!rc && entry_tag)
		out->entry = entry_tag[2];
	else if (!rc && addr_tag && !entry_tag) {
		log_error("guest: multiboot2 address tag without an entry tag");
		rc = -EINVAL;
	}
	return rc;
}

/* Measures (to NULL) or loads the image by whichever header it has. */
static int load_image(const uint8_t *img, size_t len, guest_dest_fn to, struct elf_image *out, bool *mb2)
{
	const uint32_t *h1 = find_mb1(img, len), *h2 = find_mb2(img, len);
	*mb2 = h2 != NULL;
	if (h2)
		return load_mb2(img, len, h2, to, out);
	if (h1)
		return load_mb1(img, len, h1, to, out);
	log_error("guest: the module has no multiboot or multiboot2 header");
	return -EINVAL;
}

/* Where the multiboot loader is about to write: the boot information's
 * area, the kernel, and the modules' copies above it (all modules counted:
 * an upper bound). */
static unsigned write_ranges(const struct boot_info *bi, const struct elf_image *k, struct phys_range *w)
{
	uint64_t copies = 0;
	for (unsigned i = 0; i < bi->nmodules; i++)
		copies += page_up(bi->modules[i].end - bi->modules[i].start);
	w[0] = (struct phys_range){ GUEST_INFO_AREA_START, GUEST_INFO_AREA_END };
	w[1] = (struct phys_range){ k->load_start, k->load_end };
	w[2] = (struct phys_range){ page_up(k->load_end), page_up(k->load_end) + copies };
	return 3;
}

/* Whether GRUB's structure, a module or one of the ranges w overlaps
 * [a, b); if so, *lowest is the lowest start among those that do. */
static bool clash(const struct boot_info *bi, const struct phys_range *w, unsigned nw, uint64_t a, uint64_t b,
		  uint64_t *lowest)
{
	struct phys_range r[BOOT_MAX_MODULES + 4];
	unsigned n = 0;
	r[n++] = (struct phys_range){ bi->info_addr, bi->info_addr + bi->info_len };
	for (unsigned i = 0; i < bi->nmodules; i++)
		r[n++] = (struct phys_range){ bi->modules[i].start, bi->modules[i].end };
	for (unsigned i = 0; i < nw; i++)
		r[n++] = w[i];
	bool found = false;
	for (unsigned i = 0; i < n; i++)
		if (r[i].start < b && a < r[i].end && (!found || r[i].start < *lowest)) {
			*lowest = r[i].start;
			found = true;
		}
	return found;
}

/* `size` bytes at the top of the highest usable guest RAM below 4 GiB,
 * under everything in clash(). */
static bool find_room(const struct boot_info *bi, const struct phys_range *w, unsigned nw, uint64_t size,
		      uint64_t *at)
{
	const struct mem_region *top = NULL;
	for (unsigned i = 0; i < guest_mem.nregions; i++) {
		const struct mem_region *r = &guest_mem.regions[i];
		if (r->type == MEM_USABLE && r->base < MB_ADDR_LIMIT && (!top || r->base > top->base))
			top = r;
	}
	if (!top)
		return false;
	uint64_t end = top->base + top->len < MB_ADDR_LIMIT ? top->base + top->len : MB_ADDR_LIMIT, lowest;
	for (end &= ~(PAGE_SIZE - 1); end >= top->base + size; end = lowest & ~(PAGE_SIZE - 1)) {
		if (!clash(bi, w, nw, end - size, end, &lowest)) {
			*at = end - size;
			return true;
		}
	}
	return false;
}

/* Copies [start, end) to *at if it is guest RAM (what lies in the
 * hypervisor's region is safe where it is); returns how far it moved. */
static uint64_t move_aside(uint64_t start, uint64_t end, uint64_t *at)
{
	void *from = end > start ? guest_phys_ptr(start, end - start) : NULL;
	if (!from)
		return 0;
	memcpy(guest_phys_ptr(*at, end - start), from, end - start);
	uint64_t moved = *at - start;
	*at = page_up(*at + end - start);
	return moved;
}

static const void *rebase(const void *p, uint64_t lo, uint64_t hi, uint64_t moved)
{
	uintptr_t a = (uintptr_t)p;
	return a >= lo && a < hi ? (const void *)(a + moved) : p;
}

/* The boot loader chooses where modules and the information structure go
 * (Multiboot2 §3.6.6, §3.6.1); GRUB puts vmxdbg's -- the guest's image among
 * them, and the structure holding their command lines -- just above 1 MiB,
 * where a multiboot kernel asks to be loaded (ELF p_paddr, or the address
 * fields: Multiboot 0.6.96 §3.1.3, Multiboot2 §3.1.5).  Loading a kernel
 * that reaches that far used to overwrite them: the guest started with no
 * command line and no modules, and nothing said so.  Now, when any of it
 * lies where the loader writes, all of it is first copied to the top of
 * guest RAM, and *bi becomes that copy. */
static int set_aside(const struct boot_info **bi, const struct phys_range *w, unsigned nw)
{
	static struct boot_info aside;
	const struct boot_info *b = *bi;
	uint64_t unused, size = page_up(b->info_len), at;
	bool in_the_way = false;
	for (unsigned i = 0; i < nw; i++)
		in_the_way |= clash(b, NULL, 0, w[i].start, w[i].end, &unused);
	if (!in_the_way)
		return 0;
	for (unsigned i = 0; i < b->nmodules; i++)
		size += page_up(b->modules[i].end - b->modules[i].start);
	if (!find_room(b, w, nw, size, &at)) {
		log_error("guest: the kernel loads over GRUB's modules and no guest RAM is left to move them to");
		return -ENOMEM;
	}
	log_info("guest: GRUB's modules lie where the kernel or its boot information go; moved to 0x%llx-0x%llx",
		 (unsigned long long)at, (unsigned long long)(at + size - 1));
	aside = *b;
	uint64_t lo = b->info_addr, hi = b->info_addr + b->info_len, moved = move_aside(lo, hi, &at);
	aside.info_addr += moved;
	aside.rsdp = rebase(b->rsdp, lo, hi, moved);
	for (unsigned i = 0; i < b->nmodules; i++) {
		struct boot_module *m = &aside.modules[i];
		m->cmdline = rebase(m->cmdline, lo, hi, moved);
		uint64_t by = move_aside(m->start, m->end, &at);
		m->start += by;
		m->end += by;
	}
	*bi = &aside;
	return 0;
}

/* Linux's initrd: the module tagged `initrd`, else the first `guest-module`
 * (so `make run GUEST_MODULES=` works too); -1 when there is none. */
static int initrd_index(const struct boot_info *bi)
{
	int first_module = -1;
	for (unsigned i = 0; i < bi->nmodules; i++) {
		if (word_is(bi->modules[i].cmdline, "initrd"))
			return (int)i;
		if (first_module < 0 && word_is(bi->modules[i].cmdline, "guest-module"))
			first_module = (int)i;
	}
	return first_module;
}

static void linux_inputs(const struct boot_info *bi, unsigned index, struct linux_boot *lb)
{
	const struct boot_module *mod = &bi->modules[index];
	int rd = initrd_index(bi);
	*lb = (struct linux_boot){ .image = (const uint8_t *)(uintptr_t)mod->start, .len = mod->end - mod->start,
				   .cmdline = args_after_tag(mod->cmdline), .rsdp = bi->rsdp,
				   .rsdp_len = bi->rsdp_len, .map = guest_mem.regions, .nmap = guest_mem.nregions,
				   .area = GUEST_INFO_AREA_START, .area_end = GUEST_INFO_AREA_END, .to = dest };
	if (rd >= 0) {
		lb->initrd = bi->modules[rd].start;
		lb->initrd_len = bi->modules[rd].end - bi->modules[rd].start;
	}
}

/* Measure, set GRUB's leftovers aside, then load: the initrd stays where it
 * is (Linux reserves it), which set_aside() made clear of the kernel. */
static int load_linux(const struct boot_info *bi, unsigned index, bool pvh, struct guest_entry *entry)
{
	struct linux_boot lb;
	struct phys_range w[2] = { { GUEST_INFO_AREA_START, GUEST_INFO_AREA_END } };
	const char *how = pvh ? "PVH vmlinux" : "bzImage";

	linux_inputs(bi, index, &lb);
	int rc = pvh ? linux_pvh_measure(&lb, &w[1]) : linux_bzimage_measure(&lb, &w[1]);
	if (!rc)
		rc = set_aside(&bi, w, 2);
	if (rc) {
		if (lb.err[0])
			log_error("guest: cannot load the %s: %s", how, lb.err);
		return rc;
	}
	linux_inputs(bi, index, &lb);
	if (lb.initrd_len && !guest_phys_ptr(lb.initrd, lb.initrd_len)) {
		log_error("guest: the initrd at 0x%llx is not guest RAM", (unsigned long long)lb.initrd);
		return -EINVAL;
	}
	rc = pvh ? linux_pvh_load(&lb, entry) : linux_bzimage_load(&lb, entry);
	if (rc) {
		log_error("guest: cannot load the %s: %s", how, lb.err);
		return rc;
	}
	log_info("guest: Linux %s, %llu KiB at 0x%llx-0x%llx, entry 0x%llx, args \"%s\"", how,
		 (unsigned long long)(w[1].end - w[1].start) >> 10, (unsigned long long)w[1].start,
		 (unsigned long long)w[1].end - 1, (unsigned long long)entry->rip, lb.cmdline);
	if (lb.initrd_len)
		log_info("guest: initrd %llu KiB at 0x%llx", (unsigned long long)lb.initrd_len >> 10,
			 (unsigned long long)lb.initrd);
	else
		log_info("guest: no initrd (no module tagged \"initrd\" or \"guest-module\")");
	return 0;
}

enum target_image guest_image;

int guest_load(const struct boot_info *bi, struct guest_entry *entry)
{
	const struct boot_module *mod = NULL;
	for (unsigned i = 0; i < bi->nmodules && !mod; i++)
		if (word_is(bi->modules[i].cmdline, "guest"))
			mod = &bi->modules[i];
	if (!mod)
		return -ENOENT;

	struct elf_image loaded;
	bool mb2;
	uint32_t pvh_entry;
	unsigned index = (unsigned)(mod - bi->modules);
	const uint8_t *img = (const uint8_t *)(uintptr_t)mod->start;
	bool pvh = linux_pvh_entry(img, mod->end - mod->start, &pvh_entry);
	if (pvh || linux_bzimage_is(img, mod->end - mod->start)) {
		guest_image = TARGET_IMAGE_LINUX;
		return load_linux(bi, index, pvh, entry);
	}

	int rc = load_image(img, mod->end - mod->start, NULL, &loaded, &mb2);
	if (!rc) {
		struct phys_range w[3];
		rc = set_aside(&bi, w, write_ranges(bi, &loaded, w));
	}
	if (rc)
		return rc;
	mod = &bi->modules[index];
	const char *args = args_after_tag(mod->cmdline);
	rc = load_image((const uint8_t *)(uintptr_t)mod->start, mod->end - mod->start, dest, &loaded, &mb2);
	if (rc)
		return rc;
	if (loaded.entry >= (1ull << 32)) {
		log_error("guest: entry point 0x%llx is not reachable from 32-bit protected mode",
			  (unsigned long long)loaded.entry);
		return -EINVAL;
	}
	guest_image = loaded.elf_class == 64 ? TARGET_IMAGE_ELF64 :
		      loaded.elf_class == 32 ? TARGET_IMAGE_ELF32 : TARGET_IMAGE_AOUT;
	log_info("guest: multiboot%s kernel, %llu KiB at 0x%llx, entry 0x%llx, args \"%s\"", mb2 ? "2" : "",
		 (unsigned long long)(loaded.load_end - loaded.load_start) >> 10,
		 (unsigned long long)loaded.load_start, (unsigned long long)loaded.entry, args);

	*entry = (struct guest_entry){ .mode = GUEST_MODE_PROTECTED32, .rip = loaded.entry, .cs = 0x08,
				       .ds = 0x10, .gdt_limit = 0xffff };
	uint64_t info;
	rc = mb2 ? guest_bootinfo_mb2(bi, args, loaded.load_end, &info)
		 : guest_bootinfo_mb1(bi, args, loaded.load_end, &info);
	if (rc)
		return rc;
	entry->gprs.rax = mb2 ? 0x36d76289 : 0x2badb002;
	entry->gprs.rbx = info;
	return 0;
}
