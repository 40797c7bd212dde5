/* The guest ELF loader: well-formed ELF32/ELF64 images land at their
 * physical addresses with the bss zeroed; malformed ones are refused with a
 * reason and write nothing outside guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/elf_load.h"

#define RAM_BASE 0x100000u
#define RAM_SIZE 0x10000u
static uint8_t ram[RAM_SIZE];

static void *fake_dest(uint64_t gpa, uint64_t len)
{
	if (gpa < RAM_BASE || len > RAM_SIZE || gpa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return ram + (gpa - RAM_BASE);
}

static uint8_t img[4096];
static char err[96];
static struct elf_image out;

static void put(size_t off, uint64_t v, unsigned size) { memcpy(img + off, &v, size); }

/* One ELF32 PT_LOAD: 16 bytes of 0xAB from offset 0x100 to paddr, memsz 64. */
static void make_elf32(uint32_t paddr)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 1;	/* ELFCLASS32 */
	img[5] = 1;	/* little-endian */
	put(18, 3, 2);	/* EM_386 */
	put(24, paddr + 4, 4);	/* e_entry */
	put(28, 52, 4);	/* e_phoff */
	put(42, 32, 2);	/* e_phentsize */
	put(44, 1, 2);	/* e_phnum */
	put(52, 1, 4);	/* PT_LOAD */
	put(56, 0x100, 4);
	put(64, paddr, 4);
	put(68, 16, 4);
	put(72, 64, 4);
	memset(img + 0x100, 0xab, 16);
}

static void make_elf64(uint64_t paddr)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 2;
	img[5] = 1;
	put(18, 62, 2);	/* EM_X86_64 */
	put(24, paddr, 8);
	put(32, 64, 8);	/* e_phoff */
	put(54, 56, 2);
	put(56, 1, 2);
	put(64, 1, 4);
	put(64 + 8, 0x200, 8);
	put(64 + 24, paddr, 8);
	put(64 + 32, 8, 8);
	put(64 + 40, 8, 8);
	memset(img + 0x200, 0xcd, 8);
}

static void test_an_elf32_segment_is_copied_and_its_bss_zeroed(void **state)
{
	(void)state;
	memset(ram, 0x55, sizeof(ram));
	make_elf32(RAM_BASE + 0x1000);
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), 0);
	assert_int_equal(out.entry, RAM_BASE + 0x1004);
	assert_int_equal(out.load_start, RAM_BASE + 0x1000);
	assert_int_equal(out.load_end, RAM_BASE + 0x1040);
	assert_int_equal(out.elf_class, 32);
	assert_int_equal(ram[0x1000], 0xab);
	assert_int_equal(ram[0x100f], 0xab);
	assert_int_equal(ram[0x1010], 0);
	assert_int_equal(ram[0x103f], 0);
	assert_int_equal(ram[0x1040], 0x55);
}

static void test_an_elf64_image_loads_by_physical_address(void **state)
{
	(void)state;
	make_elf64(RAM_BASE + 0x2000);
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), 0);
	assert_int_equal(out.elf_class, 64);
	assert_int_equal(ram[0x2000], 0xcd);
}

static void test_a_virtual_entry_point_is_translated_through_its_segment(void **state)
{
	(void)state;
	make_elf32(RAM_BASE + 0x1000);
	put(60, 0xc0001000, 4);		/* p_vaddr: linked at 3 GiB, loaded at paddr */
	put(24, 0xc0001008, 4);		/* e_entry, virtual */
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), 0);
	assert_int_equal(out.entry, RAM_BASE + 0x1008);
}

static void test_a_segment_outside_guest_ram_is_refused(void **state)
{
	(void)state;
	make_elf32(0x8000000);
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "not in guest RAM"));
}

static void test_a_segment_past_the_end_of_the_file_is_refused(void **state)
{
	(void)state;
	make_elf32(RAM_BASE);
	put(56, 0xff8, 4);	/* offset + filesz runs past 4096 */
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "outside the file"));
	make_elf32(RAM_BASE);
	put(68, 128, 4);	/* filesz > memsz */
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
}

static void test_program_headers_past_the_file_are_refused(void **state)
{
	(void)state;
	make_elf32(RAM_BASE);
	put(44, 0xffff, 2);
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "program headers"));
	make_elf32(RAM_BASE);
	put(42, 8, 2);	/* phentsize too small */
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
}

static void test_non_elf_wrong_class_or_machine_are_refused(void **state)
{
	(void)state;
	make_elf32(RAM_BASE);
	assert_int_equal(elf_load(img, 40, fake_dest, &out, err, sizeof(err)), -22);
	img[0] = 'M';
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	assert_string_equal(err, "not an ELF file");
	make_elf32(RAM_BASE);
	img[4] = 3;
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	make_elf32(RAM_BASE);
	put(18, 40, 2);	/* EM_ARM */
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	assert_string_equal(err, "not an x86 executable");
}

static void test_an_image_with_no_loadable_segment_is_refused(void **state)
{
	(void)state;
	make_elf32(RAM_BASE);
	put(52, 4, 4);	/* PT_NOTE */
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	assert_string_equal(err, "no loadable segment");
}

static void test_a_wrapping_segment_is_refused(void **state)
{
	(void)state;
	make_elf64(0xfffffffffffffff0ull);
	put(64 + 40, 0x20, 8);	/* memsz runs past 2^64 */
	assert_int_equal(elf_load(img, sizeof(img), fake_dest, &out, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "wraps"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_elf32_segment_is_copied_and_its_bss_zeroed),
		cmocka_unit_test(test_an_elf64_image_loads_by_physical_address),
		cmocka_unit_test(test_a_virtual_entry_point_is_translated_through_its_segment),
		cmocka_unit_test(test_a_segment_outside_guest_ram_is_refused),
		cmocka_unit_test(test_a_segment_past_the_end_of_the_file_is_refused),
		cmocka_unit_test(test_program_headers_past_the_file_are_refused),
		cmocka_unit_test(test_non_elf_wrong_class_or_machine_are_refused),
		cmocka_unit_test(test_an_image_with_no_loadable_segment_is_refused),
		cmocka_unit_test(test_a_wrapping_segment_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
