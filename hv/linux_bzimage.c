/* linux_bzimage.c — the x86 boot protocol, as a boot loader that enters the
 * kernel in 32-bit protected mode (boot.rst, "32-bit boot protocol"): the
 * real-mode setup code is skipped; the zero page is built here from the
 * image's setup header, which the loader copies and then fills in. */
#include "linux_bzimage.h"

#include "platform/errno.h"
#include "platform/kstring.h"

/* Offsets in the bzImage and in boot_params, which share the setup header
 * (boot.rst, "The real-mode kernel header" and "zero-page.rst"). */
#define BP_ACPI_RSDP_ADDR 0x070		/* u64, protocol 2.14 */
#define BP_EXT_RAMDISK_IMAGE 0x0c0	/* high 32 bits of the fields below */
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8		/* u8 */
#define HDR_SETUP_SECTS 0x1f1		/* u8; 0 means 4 */
#define HDR_BOOT_FLAG 0x1fe		/* 0xAA55 */
#define HDR_JUMP 0x200			/* the byte at 0x201 gives the header's end */
#define HDR_HEADER 0x202		/* "HdrS" */
#define HDR_VERSION 0x206		/* u16, 0x020f = 2.15 */
#define HDR_TYPE_OF_LOADER 0x210	/* 0xff: undefined loader */
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE 0x238		/* without the NUL */
#define HDR_PREF_ADDRESS 0x258		/* u64, protocol 2.10 */
#define HDR_INIT_SIZE 0x260		/* the decompressor's working room */
#define BP_HDR_LIMIT 0x290		/* boot_params' header area ends here */
#define BP_E820_TABLE 0x2d0		/* 128 entries of 20 bytes */
#define BP_E820_MAX 128
#define BOOT_PARAMS_SIZE 4096

#define LOADED_HIGH 0x01		/* loadflags: the kernel runs at 1 MiB or above */
#define MIN_VERSION 0x020a		/* 2.10: pref_address and init_size */

/* __BOOT_CS and __BOOT_DS, the selectors the protocol asks for. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18
static const uint64_t boot_gdt[4] = {
	0, 0,
	0x00cf9a000000ffffull,	/* 0x10: code, base 0, 4 GiB, 32-bit, execute/read */
	0x00cf92000000ffffull,	/* 0x18: data, base 0, 4 GiB, read/write */
};

static uint64_t rd(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, p, size);
	return v;
}

static void wr(uint8_t *p, uint64_t v, unsigned size)
{
	memcpy(p, &v, size);
}

bool linux_bzimage_is(const uint8_t *img, size_t len)
{
	return len > BP_HDR_LIMIT && !memcmp(img + HDR_HEADER, "HdrS", 4);
}

static uint64_t pm_offset(const uint8_t *img)
{
	unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	return (sects + 1) * 512ull;
}

/* What every later step relies on: a bzImage of protocol 2.10 or later
 * with a protected-mode part, and where that part goes. */
static int check(struct linux_boot *lb, uint64_t *load, uint64_t *end)
{
	const uint8_t *img = lb->image;
	if (!linux_bzimage_is(img, lb->len))
		return linux_fail(lb, "no boot protocol header (\"HdrS\" at 0x202)");
	unsigned version = (unsigned)rd(img + HDR_VERSION, 2);
	if (version < MIN_VERSION)
		return linux_fail(lb, "boot protocol %u.%02u; 2.10 or later needed", version >> 8, version & 0xff);
	if (!(img[HDR_LOADFLAGS] & LOADED_HIGH))
		return linux_fail(lb, "a zImage (loaded below 1 MiB); only bzImages are supported");
	if (pm_offset(img) >= lb->len)
		return linux_fail(lb, "the setup sectors run past the file");
	uint64_t size = lb->len - pm_offset(img), init_size = rd(img + HDR_INIT_SIZE, 4);
	*load = rd(img + HDR_PREF_ADDRESS, 8);
	*end = *load + (init_size > size ? init_size : size);
	if (*load < 0x100000 || *end > (1ull << 32))
		return linux_fail(lb, "pref_address 0x%llx (+0x%llx) is not between 1 MiB and 4 GiB",
				  (unsigned long long)*load, (unsigned long long)(*end - *load));
	return 0;
}

int linux_bzimage_measure(struct linux_boot *lb, struct phys_range *extent)
{
	uint64_t load, end;
	int rc = check(lb, &load, &end);
	if (!rc)
		*extent = (struct phys_range){ load, end };
	return rc;
}

static int set_initrd(struct linux_boot *lb, uint8_t *bp)
{
	uint64_t max = rd(bp + HDR_INITRD_ADDR_MAX, 4);
	if (!lb->initrd_len)
		return 0;
	if (lb->initrd + lb->initrd_len - 1 > max)
		return linux_fail(lb, "the initrd ends above initrd_addr_max 0x%llx", (unsigned long long)max);
	wr(bp + HDR_RAMDISK_IMAGE, (uint32_t)lb->initrd, 4);
	wr(bp + HDR_RAMDISK_SIZE, (uint32_t)lb->initrd_len, 4);
	wr(bp + BP_EXT_RAMDISK_IMAGE, lb->initrd >> 32, 4);
	wr(bp + BP_EXT_RAMDISK_SIZE, lb->initrd_len >> 32, 4);
	return 0;
}

static int set_e820(struct linux_boot *lb, uint8_t *bp)
{
	if (lb->nmap > BP_E820_MAX)
		return linux_fail(lb, "%u memory regions; the zero page holds %u", lb->nmap, BP_E820_MAX);
	for (unsigned i = 0; i < lb->nmap; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		wr(e, lb->map[i].base, 8);
		wr(e + 8, lb->map[i].len, 8);
		wr(e + 16, lb->map[i].type, 4);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)lb->nmap;
	return 0;
}

/* boot_params: zeroed, then the image's setup header copied from 0x1f1 to
 * the end the jump at 0x200 names, then the loader's fields. */
static int build_boot_params(struct linux_boot *lb, uint64_t load, uint64_t *gpa)
{
	const uint8_t *img = lb->image;
	uint8_t *bp = linux_area_alloc(lb, BOOT_PARAMS_SIZE, BOOT_PARAMS_SIZE, gpa);
	uint64_t cmdline = linux_area_string(lb, lb->cmdline), rsdp = linux_area_rsdp(lb);
	uint64_t hdr_end = HDR_JUMP + 2 + img[HDR_JUMP + 1];
	if (!bp || !cmdline || (lb->rsdp && !rsdp))
		return linux_fail(lb, "the boot-information area is full");
	if (hdr_end > BP_HDR_LIMIT)
		hdr_end = BP_HDR_LIMIT;
	memcpy(bp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);

	if (strlen(lb->cmdline) > rd(bp + HDR_CMDLINE_SIZE, 4))
		return linux_fail(lb, "the command line is longer than the kernel's cmdline_size %u",
				  (unsigned)rd(bp + HDR_CMDLINE_SIZE, 4));
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	wr(bp + HDR_CODE32_START, load, 4);
	wr(bp + HDR_CMD_LINE_PTR, (uint32_t)cmdline, 4);
	wr(bp + BP_EXT_CMD_LINE_PTR, cmdline >> 32, 4);
	if (rd(bp + HDR_VERSION, 2) >= 0x020e)
		wr(bp + BP_ACPI_RSDP_ADDR, rsdp, 8);
	if (set_initrd(lb, bp) || set_e820(lb, bp))
		return -EINVAL;
	return 0;
}

/* Entry state (boot.rst, "32-bit boot protocol"): protected mode, paging
 * off, a GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18) flat 4 GiB, CS and
 * DS/ES/SS loaded with them, interrupts off, ESI = boot_params, EBP, EDI
 * and EBX zero; the entry is the protected-mode kernel's load address. */
int linux_bzimage_load(struct linux_boot *lb, struct guest_entry *e)
{
	uint64_t load, end, bp, gdt;
	if (check(lb, &load, &end))
		return -EINVAL;
	uint8_t *kernel = lb->to(load, end - load);
	if (!kernel)
		return linux_fail(lb, "0x%llx-0x%llx (the kernel and its decompression room) is not guest RAM",
				  (unsigned long long)load, (unsigned long long)end - 1);
	memcpy(kernel, lb->image + pm_offset(lb->image), lb->len - pm_offset(lb->image));
	if (build_boot_params(lb, load, &bp))
		return -EINVAL;
	uint64_t *table = linux_area_alloc(lb, sizeof(boot_gdt), 8, &gdt);
	if (!table)
		return linux_fail(lb, "the boot-information area is full");
	memcpy(table, boot_gdt, sizeof(boot_gdt));

	*e = (struct guest_entry){ .mode = GUEST_MODE_PROTECTED32, .rip = load, .cs = BOOT_CS, .ds = BOOT_DS,
				   .gdt_base = gdt, .gdt_limit = sizeof(boot_gdt) - 1 };
	e->gprs.rsi = bp;
	return 0;
}
