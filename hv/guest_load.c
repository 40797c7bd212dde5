/* guest_load.c — the guest comes as a GRUB module tagged `guest`: its
 * kernel image, then its own command line ("guest ARGS").  Modules tagged
 * `guest-module` are handed on to it.  Multiboot v1 and v2 kernels are
 * loaded here (ELF, or the a.out kludge's load addresses); the boot
 * information they get is built by guest_bootinfo.c. */
#include "guest.h"

#include "elf_load.h"
#include "guest_bootinfo.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"

#define MB1_HEADER_MAGIC 0x1badb002
#define MB1_FLAG_AOUT_KLUDGE (1u << 16)
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB_SEARCH_LEN 32768	/* v1 looks in the first 8 KiB, v2 in 32 KiB */

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
		       uint32_t load_addr, uint32_t load_end, uint32_t bss_end, struct elf_image *out)
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
	uint8_t *d = dest(load_addr, mem);
	if (!d) {
		log_error("guest: a.out kludge: 0x%x (+0x%llx) is not guest RAM", load_addr, (unsigned long long)mem);
		return -EINVAL;
	}
	memcpy(d, img + file_off, size);
	memset(d + size, 0, mem - size);
	out->load_start = load_addr;
	out->load_end = load_addr + mem;
	out->elf_class = 0;
	return 0;
}

static int load_elf(const uint8_t *img, size_t len, struct elf_image *out)
{
	char err[96];
	int rc = elf_load(img, len, dest, out, err, sizeof(err));
	if (rc)
		log_error("guest: cannot load the ELF image: %s", err);
	return rc;
}

static int load_mb1(const uint8_t *img, size_t len, const uint32_t *h, struct elf_image *out)
{
	if (h[1] & MB1_FLAG_AOUT_KLUDGE) {
		if ((const uint8_t *)h + 32 > img + len)
			return -EINVAL;
		int rc = load_kludge(img, len, h, h[3], h[4], h[5], h[6], out);
		out->entry = h[7];
		return rc;
	}
	return load_elf(img, len, out);
}

/* v2 tags: 2 = address (the kludge), 3 = entry address (§3.1.5-3.1.6). */
static int load_mb2(const uint8_t *img, size_t len, const uint32_t *h, struct elf_image *out)
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
	int rc = addr_tag ? load_kludge(img, len, h, addr_tag[2], addr_tag[3], addr_tag[4], addr_tag[5], out)
			  : load_elf(img, len, out);
	if (!rc && entry_tag)
		out->entry = entry_tag[2];
	else if (!rc && addr_tag && !entry_tag) {
		log_error("guest: multiboot2 address tag without an entry tag");
		rc = -EINVAL;
	}
	return rc;
}

int guest_load(const struct boot_info *bi, struct guest_entry *entry)
{
	const struct boot_module *mod = NULL;
	for (unsigned i = 0; i < bi->nmodules && !mod; i++)
		if (word_is(bi->modules[i].cmdline, "guest"))
			mod = &bi->modules[i];
	if (!mod)
		return -ENOENT;

	const uint8_t *img = (const uint8_t *)(uintptr_t)mod->start;
	size_t len = mod->end - mod->start;
	const char *args = args_after_tag(mod->cmdline);
	const uint32_t *h1 = find_mb1(img, len), *h2 = find_mb2(img, len);
	struct elf_image loaded;
	int rc;

	if (h2)
		rc = load_mb2(img, len, h2, &loaded);
	else if (h1)
		rc = load_mb1(img, len, h1, &loaded);
	else {
		log_error("guest: the module has no multiboot or multiboot2 header");
		return -EINVAL;
	}
	if (rc)
		return rc;
	if (loaded.entry >= (1ull << 32)) {
		log_error("guest: entry point 0x%llx is not reachable from 32-bit protected mode",
			  (unsigned long long)loaded.entry);
		return -EINVAL;
	}
	log_info("guest: multiboot%s kernel, %llu KiB at 0x%llx, entry 0x%llx, args \"%s\"", h2 ? "2" : "",
		 (unsigned long long)(loaded.load_end - loaded.load_start) >> 10,
		 (unsigned long long)loaded.load_start, (unsigned long long)loaded.entry, args);

	*entry = (struct guest_entry){ .mode = GUEST_MODE_PROTECTED32, .rip = loaded.entry };
	uint64_t info;
	rc = h2 ? guest_bootinfo_mb2(bi, args, loaded.load_end, &info)
		: guest_bootinfo_mb1(bi, args, loaded.load_end, &info);
	if (rc)
		return rc;
	entry->gprs.rax = h2 ? 0x36d76289 : 0x2badb002;
	entry->gprs.rbx = info;
	return 0;
}
