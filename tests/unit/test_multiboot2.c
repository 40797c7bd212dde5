/* Multiboot2 information parser: well-formed structures as GRUB writes
 * them, and every kind of malformed one, which must warn and never fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "platform/bootinfo.h"

/* A builder for information structures in an aligned buffer. */
struct mb {
	uint64_t words[1024];
	size_t len;
};

static uint8_t *bytes(struct mb *m) { return (uint8_t *)m->words; }

static void mb_begin(struct mb *m)
{
	memset(m, 0, sizeof(*m));
	m->len = 8;
}

static void *mb_tag(struct mb *m, uint32_t type, uint32_t size)
{
	uint8_t *t = bytes(m) + m->len;
	memcpy(t, &type, 4);
	memcpy(t + 4, &size, 4);
	m->len += (size + 7) & ~7u;
	return t;
}

static void mb_string_tag(struct mb *m, uint32_t type, const char *s)
{
	uint8_t *t = mb_tag(m, type, 8 + strlen(s) + 1);
	strcpy((char *)t + 8, s);
}

static void mb_module(struct mb *m, uint32_t start, uint32_t end, const char *cmd)
{
	uint8_t *t = mb_tag(m, 3, 16 + strlen(cmd) + 1);
	memcpy(t + 8, &start, 4);
	memcpy(t + 12, &end, 4);
	strcpy((char *)t + 16, cmd);
}

static void mb_mmap(struct mb *m, const struct mem_region *r, unsigned n)
{
	uint8_t *t = mb_tag(m, 6, 16 + 24 * n);
	uint32_t entry_size = 24, version = 0;
	memcpy(t + 8, &entry_size, 4);
	memcpy(t + 12, &version, 4);
	for (unsigned i = 0; i < n; i++) {
		memcpy(t + 16 + 24 * i, &r[i].base, 8);
		memcpy(t + 24 + 24 * i, &r[i].len, 8);
		memcpy(t + 32 + 24 * i, &r[i].type, 4);
	}
}

static const void *mb_end(struct mb *m)
{
	mb_tag(m, 0, 8);
	uint32_t total = (uint32_t)m->len;
	memcpy(bytes(m), &total, 4);
	return bytes(m);
}

static bool has_warning(const struct boot_info *bi, const char *needle)
{
	for (unsigned i = 0; i < bi->nwarnings; i++)
		if (strstr(bi->warnings[i], needle))
			return true;
	return false;
}

static struct mb m;
static struct boot_info bi;

static const struct mem_region qemu_like_map[] = {
	{ 0, 0x9fc00, MEM_USABLE },
	{ 0x9fc00, 0x400, MEM_RESERVED },
	{ 0x100000, 0x7ee0000, MEM_USABLE },
	{ 0xfffc0000, 0x40000, MEM_RESERVED },
};

static void test_a_grub_like_structure_yields_cmdline_loader_map_and_modules(void **state)
{
	(void)state;
	mb_begin(&m);
	mb_string_tag(&m, 1, "console=com1 gdb=com2");
	mb_string_tag(&m, 2, "GRUB 2.06");
	mb_module(&m, 0x200000, 0x201000, "guest root=/dev/sda");
	mb_mmap(&m, qemu_like_map, 4);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb_end(&m), &bi), 0);
	assert_string_equal(bi.cmdline, "console=com1 gdb=com2");
	assert_string_equal(bi.loader, "GRUB 2.06");
	assert_int_equal(bi.nmodules, 1);
	assert_int_equal(bi.modules[0].start, 0x200000);
	assert_int_equal(bi.modules[0].end, 0x201000);
	assert_string_equal(bi.modules[0].cmdline, "guest root=/dev/sda");
	assert_int_equal(bi.nregions, 4);
	assert_int_equal(bi.regions[2].base, 0x100000);
	assert_int_equal(bi.regions[2].len, 0x7ee0000);
	assert_int_equal(bi.regions[3].type, MEM_RESERVED);
	assert_int_equal(bi.nwarnings, 0);
	assert_int_equal(bi.info_len, m.len);
}

static void test_a_wrong_magic_is_refused_with_a_warning(void **state)
{
	(void)state;
	mb_begin(&m);
	assert_int_equal(mb2_parse(0x2badb002, mb_end(&m), &bi), -22);
	assert_true(has_warning(&bi, "bad boot magic 0x2badb002"));
	assert_string_equal(bi.cmdline, "");
}

static void test_an_absurd_total_size_parses_nothing(void **state)
{
	(void)state;
	mb_begin(&m);
	mb_string_tag(&m, 1, "x");
	mb_end(&m);
	uint32_t huge = 0x7fffffff;
	memcpy(bytes(&m), &huge, 4);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, bytes(&m), &bi), -22);
	assert_true(has_warning(&bi, "absurd total size"));
	uint32_t tiny = 4;
	memcpy(bytes(&m), &tiny, 4);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, bytes(&m), &bi), -22);
}

static void test_a_tag_running_past_the_end_stops_parsing_but_keeps_earlier_tags(void **state)
{
	(void)state;
	mb_begin(&m);
	mb_string_tag(&m, 1, "loglevel=debug");
	uint8_t *t = mb_tag(&m, 2, 16);
	mb_end(&m);
	uint32_t bogus = 0x10000;	/* far past total_size */
	memcpy(t + 4, &bogus, 4);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, bytes(&m), &bi), 0);
	assert_string_equal(bi.cmdline, "loglevel=debug");
	assert_string_equal(bi.loader, "unknown");
	assert_true(has_warning(&bi, "past the end"));
}

static void test_a_zero_sized_tag_stops_parsing_instead_of_looping(void **state)
{
	(void)state;
	mb_begin(&m);
	uint8_t *t = mb_tag(&m, 1, 16);
	mb_end(&m);
	uint32_t zero = 0;
	memcpy(t + 4, &zero, 4);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, bytes(&m), &bi), 0);
	assert_true(has_warning(&bi, "has size 0"));
}

static void test_an_unterminated_string_is_ignored(void **state)
{
	(void)state;
	mb_begin(&m);
	uint8_t *t = mb_tag(&m, 1, 8 + 8);
	memset(t + 8, 'A', 8);	/* no NUL inside the tag */
	mb_end(&m);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, bytes(&m), &bi), 0);
	assert_string_equal(bi.cmdline, "");
	assert_true(has_warning(&bi, "not terminated"));
}

static void test_a_missing_end_tag_is_reported(void **state)
{
	(void)state;
	mb_begin(&m);
	mb_string_tag(&m, 1, "a");
	uint32_t total = (uint32_t)m.len;
	memcpy(bytes(&m), &total, 4);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, bytes(&m), &bi), 0);
	assert_string_equal(bi.cmdline, "a");
	assert_true(has_warning(&bi, "no end tag"));
}

static void test_memory_map_with_bad_entry_size_is_ignored(void **state)
{
	(void)state;
	mb_begin(&m);
	mb_mmap(&m, qemu_like_map, 2);
	uint32_t bad = 12;
	memcpy(bytes(&m) + 8 + 8, &bad, 4);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb_end(&m), &bi), 0);
	assert_int_equal(bi.nregions, 0);
	assert_true(has_warning(&bi, "entry size 12"));
}

static void test_memory_map_skips_empty_regions_and_clips_wrapping_ones(void **state)
{
	(void)state;
	const struct mem_region map[] = {
		{ 0x100000, 0, MEM_USABLE },
		{ 0xfffffffffffff000ull, 0x2000, MEM_RESERVED },
	};
	mb_begin(&m);
	mb_mmap(&m, map, 2);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb_end(&m), &bi), 0);
	assert_int_equal(bi.nregions, 1);
	assert_int_equal(bi.regions[0].base + bi.regions[0].len, 0);
	assert_true(has_warning(&bi, "wraps around"));
}

static void test_inverted_and_short_module_tags_are_ignored(void **state)
{
	(void)state;
	mb_begin(&m);
	mb_module(&m, 0x300000, 0x200000, "guest");
	mb_tag(&m, 3, 12);
	mb_module(&m, 0x400000, 0x401000, "script");
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb_end(&m), &bi), 0);
	assert_int_equal(bi.nmodules, 1);
	assert_string_equal(bi.modules[0].cmdline, "script");
	assert_true(has_warning(&bi, "inverted"));
	assert_true(has_warning(&bi, "too short"));
}

static void test_too_many_modules_keeps_the_first_ones(void **state)
{
	(void)state;
	mb_begin(&m);
	for (int i = 0; i < BOOT_MAX_MODULES + 3; i++)
		mb_module(&m, 0x100000 * (i + 1), 0x100000 * (i + 1) + 0x1000, "m");
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb_end(&m), &bi), 0);
	assert_int_equal(bi.nmodules, BOOT_MAX_MODULES);
	assert_true(has_warning(&bi, "more than"));
}

static void test_acpi_new_rsdp_is_preferred_over_the_old_one(void **state)
{
	(void)state;
	mb_begin(&m);
	uint8_t *t14 = mb_tag(&m, 14, 8 + 20);
	uint8_t *t15 = mb_tag(&m, 15, 8 + 36);
	mb_tag(&m, 14, 8 + 20);
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb_end(&m), &bi), 0);
	assert_ptr_equal(bi.rsdp, t15 + 8);
	assert_int_equal(bi.rsdp_len, 36);
	(void)t14;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_grub_like_structure_yields_cmdline_loader_map_and_modules),
		cmocka_unit_test(test_a_wrong_magic_is_refused_with_a_warning),
		cmocka_unit_test(test_an_absurd_total_size_parses_nothing),
		cmocka_unit_test(test_a_tag_running_past_the_end_stops_parsing_but_keeps_earlier_tags),
		cmocka_unit_test(test_a_zero_sized_tag_stops_parsing_instead_of_looping),
		cmocka_unit_test(test_an_unterminated_string_is_ignored),
		cmocka_unit_test(test_a_missing_end_tag_is_reported),
		cmocka_unit_test(test_memory_map_with_bad_entry_size_is_ignored),
		cmocka_unit_test(test_memory_map_skips_empty_regions_and_clips_wrapping_ones),
		cmocka_unit_test(test_inverted_and_short_module_tags_are_ignored),
		cmocka_unit_test(test_too_many_modules_keeps_the_first_ones),
		cmocka_unit_test(test_acpi_new_rsdp_is_preferred_over_the_old_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
