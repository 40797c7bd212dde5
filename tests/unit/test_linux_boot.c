/* The Linux loaders: a vmlinux with the PVH note gets its segments and an
 * hvm_start_info (version 1) with the memory map, command line, initrd and
 * RSDP; a bzImage gets its protected-mode part at pref_address and a zero
 * page carrying its own setup header plus the loader's fields; malformed or
 * unsuitable images are refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/linux_bzimage.h"
#include "hv/linux_pvh.h"

#define RAM_SIZE 0x200000u		/* guest RAM 0 - 2 MiB */
#define AREA 0x10000u
#define AREA_END 0x20000u
#define KERNEL_AT 0x100000u
#define INITRD_AT 0x180000u
static uint8_t ram[RAM_SIZE];
static uint8_t img[8192];

static void *fake_dest(uint64_t gpa, uint64_t len)
{
	if (len > RAM_SIZE || gpa > RAM_SIZE - len)
		return NULL;
	return ram + gpa;
}

static const struct mem_region map[] = {
	{ 0, 0x9f000, 1 }, { 0x100000, 0x7f00000, 1 }, { 0x8000000, 0x2000000, 2 },
};
static const uint8_t rsdp[20] = "RSD PTR \x42";

static struct linux_boot boot(size_t len)
{
	memset(ram, 0x55, sizeof(ram));
	return (struct linux_boot){ .image = img, .len = len, .cmdline = "console=ttyS0,115200 nokaslr",
				    .initrd = INITRD_AT, .initrd_len = 0x1234, .rsdp = rsdp, .rsdp_len = 20,
				    .map = map, .nmap = 3, .area = AREA, .area_end = AREA_END, .to = fake_dest };
}

static void put(uint8_t *p, size_t off, uint64_t v, unsigned size) { memcpy(p + off, &v, size); }
static uint64_t get(const uint8_t *p, size_t off, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, p + off, size);
	return v;
}

/* ELF64: one PT_LOAD of 0x100 bytes (memsz 0x200) to KERNEL_AT, then one
 * PT_NOTE holding a GNU note and the Xen note 18 with an 8-byte address. */
static void make_vmlinux(uint64_t entry)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 2;
	img[5] = 1;
	put(img, 18, 62, 2);
	put(img, 32, 64, 8);		/* e_phoff */
	put(img, 54, 56, 2);
	put(img, 56, 2, 2);
	put(img, 64, 1, 4);		/* PT_LOAD */
	put(img, 64 + 8, 0x1000, 8);
	put(img, 64 + 24, KERNEL_AT, 8);
	put(img, 64 + 32, 0x100, 8);
	put(img, 64 + 40, 0x200, 8);
	memset(img + 0x1000, 0xc3, 0x100);
	put(img, 120, 4, 4);		/* PT_NOTE at 0x800, 20 + 24 bytes */
	put(img, 120 + 8, 0x800, 8);
	put(img, 120 + 32, 44, 8);
	put(img, 0x800, 4, 4);		/* "GNU", type 3, 4-byte desc */
	put(img, 0x804, 4, 4);
	put(img, 0x808, 3, 4);
	memcpy(img + 0x80c, "GNU", 4);
	put(img, 0x814, 4, 4);		/* "Xen", XEN_ELFNOTE_PHYS32_ENTRY */
	put(img, 0x818, 8, 4);
	put(img, 0x81c, 18, 4);
	memcpy(img + 0x820, "Xen", 4);
	put(img, 0x824, entry, 8);
}

static void test_the_pvh_note_is_found_among_other_notes(void **state)
{
	(void)state;
	uint32_t entry = 0;
	make_vmlinux(KERNEL_AT + 0x50);
	assert_true(linux_pvh_entry(img, sizeof(img), &entry));
	assert_int_equal(entry, KERNEL_AT + 0x50);
	put(img, 0x81c, 17, 4);
	assert_false(linux_pvh_entry(img, sizeof(img), &entry));
}

static void test_a_note_running_past_its_segment_is_not_read(void **state)
{
	(void)state;
	uint32_t entry;
	make_vmlinux(KERNEL_AT);
	put(img, 0x818, 0x1000, 4);	/* descsz past the PT_NOTE's 44 bytes */
	assert_false(linux_pvh_entry(img, sizeof(img), &entry));
	make_vmlinux(KERNEL_AT);
	put(img, 120 + 32, 0x10000, 8);	/* the segment past the file */
	assert_false(linux_pvh_entry(img, sizeof(img), &entry));
	assert_false(linux_pvh_entry(img, 40, &entry));
}

static void test_pvh_loads_the_segments_and_hands_over_a_start_info(void **state)
{
	(void)state;
	struct guest_entry e;
	make_vmlinux(KERNEL_AT + 0x50);
	struct linux_boot lb = boot(sizeof(img));
	struct phys_range extent;
	assert_int_equal(linux_pvh_measure(&lb, &extent), 0);
	assert_int_equal(extent.start, KERNEL_AT);
	assert_int_equal(extent.end, KERNEL_AT + 0x200);
	assert_int_equal(linux_pvh_load(&lb, &e), 0);

	assert_int_equal(ram[KERNEL_AT], 0xc3);
	assert_int_equal(ram[KERNEL_AT + 0x100], 0);	/* bss */
	assert_int_equal(e.mode, GUEST_MODE_PROTECTED32);
	assert_int_equal(e.rip, KERNEL_AT + 0x50);
	const uint8_t *si = ram + e.gprs.rbx;
	assert_true(e.gprs.rbx >= AREA && e.gprs.rbx < AREA_END);
	assert_int_equal(get(si, 0, 4), 0x336ec578);	/* magic */
	assert_int_equal(get(si, 4, 4), 1);		/* version */
	assert_string_equal((const char *)ram + get(si, 24, 8), "console=ttyS0,115200 nokaslr");
	assert_memory_equal(ram + get(si, 32, 8), rsdp, 20);
	assert_int_equal(get(si, 12, 4), 1);		/* nr_modules */
	const uint8_t *mod = ram + get(si, 16, 8);
	assert_int_equal(get(mod, 0, 8), INITRD_AT);
	assert_int_equal(get(mod, 8, 8), 0x1234);
	assert_int_equal(get(si, 48, 4), 3);		/* memmap_entries */
	const uint8_t *mm = ram + get(si, 40, 8);
	assert_int_equal(get(mm, 48, 8), 0x8000000);	/* the hypervisor's region ... */
	assert_int_equal(get(mm, 56, 8), 0x2000000);
	assert_int_equal(get(mm, 64, 4), 2);		/* ... reserved */
}

static void test_pvh_without_an_initrd_or_rsdp_says_none(void **state)
{
	(void)state;
	struct guest_entry e;
	make_vmlinux(KERNEL_AT);
	struct linux_boot lb = boot(sizeof(img));
	lb.initrd_len = 0;
	lb.rsdp = NULL;
	assert_int_equal(linux_pvh_load(&lb, &e), 0);
	const uint8_t *si = ram + e.gprs.rbx;
	assert_int_equal(get(si, 12, 4), 0);
	assert_int_equal(get(si, 16, 8), 0);
	assert_int_equal(get(si, 32, 8), 0);
}

static void test_a_pvh_entry_outside_the_kernel_or_a_full_area_is_refused(void **state)
{
	(void)state;
	struct guest_entry e;
	make_vmlinux(0x50);
	struct linux_boot lb = boot(sizeof(img));
	assert_int_equal(linux_pvh_load(&lb, &e), -22);
	assert_non_null(strstr(lb.err, "outside the loaded segments"));
	make_vmlinux(KERNEL_AT);
	lb = boot(sizeof(img));
	lb.area_end = AREA + 64;
	assert_int_equal(linux_pvh_load(&lb, &e), -22);
	assert_non_null(strstr(lb.err, "area is full"));
}

/* A bzImage of protocol 2.15: one setup sector, then 0x400 bytes of kernel. */
static void make_bzimage(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = 1;
	put(img, 0x1fe, 0xaa55, 2);
	img[0x201] = 0x66;		/* the header ends at 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	put(img, 0x206, 0x020f, 2);
	img[0x211] = 0x01;		/* LOADED_HIGH */
	put(img, 0x22c, 0x7fffffff, 4);	/* initrd_addr_max */
	put(img, 0x238, 255, 4);	/* cmdline_size */
	put(img, 0x258, KERNEL_AT, 8);	/* pref_address */
	put(img, 0x260, 0x8000, 4);	/* init_size */
	put(img, 0x264, 0xabcd, 4);	/* handover_offset: copied as it is */
	memset(img + 0x400, 0x90, 0x400);
}

static void test_a_bzimage_lands_at_pref_address_with_a_zero_page(void **state)
{
	(void)state;
	struct guest_entry e;
	struct phys_range extent;
	make_bzimage();
	struct linux_boot lb = boot(0x800);
	assert_true(linux_bzimage_is(img, 0x800));
	assert_int_equal(linux_bzimage_measure(&lb, &extent), 0);
	assert_int_equal(extent.start, KERNEL_AT);
	assert_int_equal(extent.end, KERNEL_AT + 0x8000);	/* init_size, more than the file */
	assert_int_equal(linux_bzimage_load(&lb, &e), 0);

	assert_int_equal(ram[KERNEL_AT], 0x90);
	assert_int_equal(ram[KERNEL_AT + 0x3ff], 0x90);
	assert_int_equal(e.rip, KERNEL_AT);
	assert_int_equal(e.mode, GUEST_MODE_PROTECTED32);
	const uint8_t *bp = ram + e.gprs.rsi;
	assert_int_equal(e.gprs.rsi % 4096, 0);
	assert_int_equal(get(bp, 0x1fe, 2), 0xaa55);
	assert_int_equal(get(bp, 0x264, 4), 0xabcd);
	assert_int_equal(bp[0x210], 0xff);			/* type_of_loader */
	assert_int_equal(get(bp, 0x214, 4), KERNEL_AT);		/* code32_start */
	assert_string_equal((const char *)ram + get(bp, 0x228, 4), "console=ttyS0,115200 nokaslr");
	assert_int_equal(get(bp, 0x218, 4), INITRD_AT);
	assert_int_equal(get(bp, 0x21c, 4), 0x1234);
	assert_memory_equal(ram + get(bp, 0x070, 8), rsdp, 20);
	assert_int_equal(bp[0x1e8], 3);				/* e820_entries */
	assert_int_equal(get(bp, 0x2d0 + 2 * 20, 8), 0x8000000);
	assert_int_equal(get(bp, 0x2d0 + 2 * 20 + 16, 4), 2);
	assert_int_equal(bp[0x1ef], 0);				/* sentinel */
}

static void test_a_bzimage_is_entered_with_the_protocols_gdt_and_selectors(void **state)
{
	(void)state;
	struct guest_entry e;
	make_bzimage();
	struct linux_boot lb = boot(0x800);
	assert_int_equal(linux_bzimage_load(&lb, &e), 0);
	assert_int_equal(e.cs, 0x10);
	assert_int_equal(e.ds, 0x18);
	assert_int_equal(e.gdt_limit, 31);
	assert_int_equal(get(ram + e.gdt_base, 0x10, 8), 0x00cf9a000000ffffull);
	assert_int_equal(get(ram + e.gdt_base, 0x18, 8), 0x00cf92000000ffffull);
}

static void test_unsuitable_bzimages_are_refused_with_a_reason(void **state)
{
	(void)state;
	struct guest_entry e;
	struct linux_boot lb;

	make_bzimage();
	put(img, 0x206, 0x0209, 2);
	lb = boot(0x800);
	assert_int_equal(linux_bzimage_load(&lb, &e), -22);
	assert_non_null(strstr(lb.err, "2.09; 2.10 or later"));

	make_bzimage();
	img[0x211] = 0;
	lb = boot(0x800);
	assert_int_equal(linux_bzimage_load(&lb, &e), -22);
	assert_non_null(strstr(lb.err, "zImage"));

	make_bzimage();
	put(img, 0x238, 8, 4);
	lb = boot(0x800);
	assert_int_equal(linux_bzimage_load(&lb, &e), -22);
	assert_non_null(strstr(lb.err, "cmdline_size 8"));

	make_bzimage();
	put(img, 0x22c, 0x100000, 4);
	lb = boot(0x800);
	assert_int_equal(linux_bzimage_load(&lb, &e), -22);
	assert_non_null(strstr(lb.err, "initrd_addr_max"));

	make_bzimage();
	put(img, 0x258, RAM_SIZE - 0x1000, 8);	/* decompression room past guest RAM */
	lb = boot(0x800);
	assert_int_equal(linux_bzimage_load(&lb, &e), -22);
	assert_non_null(strstr(lb.err, "not guest RAM"));

	make_bzimage();
	assert_false(linux_bzimage_is(img, 0x100));
	memcpy(img + 0x202, "HdrZ", 4);
	assert_false(linux_bzimage_is(img, 0x800));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_pvh_note_is_found_among_other_notes),
		cmocka_unit_test(test_a_note_running_past_its_segment_is_not_read),
		cmocka_unit_test(test_pvh_loads_the_segments_and_hands_over_a_start_info),
		cmocka_unit_test(test_pvh_without_an_initrd_or_rsdp_says_none),
		cmocka_unit_test(test_a_pvh_entry_outside_the_kernel_or_a_full_area_is_refused),
		cmocka_unit_test(test_a_bzimage_lands_at_pref_address_with_a_zero_page),
		cmocka_unit_test(test_a_bzimage_is_entered_with_the_protocols_gdt_and_selectors),
		cmocka_unit_test(test_unsuitable_bzimages_are_refused_with_a_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
