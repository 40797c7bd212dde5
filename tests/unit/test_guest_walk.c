/* The guest page walker in every paging mode, over page tables built in a
 * fake guest-physical memory: translations, large pages, rights, faults for
 * not-present entries, reserved bits and non-canonical addresses, and read
 * errors for tables outside guest memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/guest_walk.h"
#include "platform/errno.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define MEM_SIZE (16 * MiB)

#define P (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define XD (1ull << 63)

#define CR0_PE 1ull

static uint8_t *gmem;

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return -1;
	memcpy(buf, gmem + gpa, len);
	return 0;
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(gmem + gpa, &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(gmem + gpa, &v, 8);
}

static int setup(void **state)
{
	(void)state;
	gmem = calloc(1, MEM_SIZE);
	return gmem ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(gmem);
	return 0;
}

static const struct guest_paging paging32 = { .cr0 = CR0_PE | GUEST_CR0_PG, .cr3 = 0x1000 };
static const struct guest_paging paging32_pse = {
	.cr0 = CR0_PE | GUEST_CR0_PG, .cr3 = 0x1000, .cr4 = GUEST_CR4_PSE,
};
/* PAE's PDPT need only be 32-byte aligned. */
static const struct guest_paging paging_pae = {
	.cr0 = CR0_PE | GUEST_CR0_PG, .cr3 = 0x1020, .cr4 = GUEST_CR4_PAE,
};
/* PCID 5 in CR3's low bits is not part of the address. */
static const struct guest_paging paging4 = {
	.cr0 = CR0_PE | GUEST_CR0_PG, .cr3 = 0x1000 | 5, .cr4 = GUEST_CR4_PAE,
	.efer = GUEST_EFER_LME | GUEST_EFER_NXE,
};
static const struct guest_paging paging5 = {
	.cr0 = CR0_PE | GUEST_CR0_PG, .cr3 = 0x5000, .cr4 = GUEST_CR4_PAE | GUEST_CR4_LA57,
	.efer = GUEST_EFER_LME | GUEST_EFER_NXE,
};

static struct walk_result walk_ok(const struct guest_paging *p, uint64_t gva)
{
	struct walk_result r;
	assert_int_equal(guest_walk(p, gva, read_phys, NULL, &r), 0);
	return r;
}

static int walk_err(const struct guest_paging *p, uint64_t gva)
{
	struct walk_result r;
	return guest_walk(p, gva, read_phys, NULL, &r);
}

static void test_without_paging_linear_addresses_are_physical(void **state)
{
	(void)state;
	const struct guest_paging real = { 0 }, protected = { .cr0 = CR0_PE };
	struct walk_result r = walk_ok(&real, 0xb8000);
	assert_int_equal(r.gpa, 0xb8000);
	assert_int_equal(r.levels, 0);
	assert_true(r.writable && r.user && r.executable);
	r = walk_ok(&protected, 0xfee00000);
	assert_int_equal(r.gpa, 0xfee00000);
	assert_int_equal(walk_err(&protected, 0x100000000ull), -EFAULT);
}

static void test_32bit_paging_translates_4kib_pages_and_ands_the_rights(void **state)
{
	(void)state;
	/* 0x40801abc: directory index 0x102, table index 0x001, offset 0xabc. */
	put32(0x1000 + 0x102 * 4, 0x2000 | P | RW | US);
	put32(0x2000 + 0x001 * 4, 0x345000 | P | US);
	struct walk_result r = walk_ok(&paging32, 0x40801abc);
	assert_int_equal(r.gpa, 0x345abc);
	assert_int_equal(r.page_size, 4096);
	assert_int_equal(r.levels, 2);
	assert_false(r.writable);
	assert_true(r.user);
	assert_true(r.executable);
}

static void test_32bit_paging_maps_4mib_pages_with_pse36_high_bits(void **state)
{
	(void)state;
	/* Physical bits 39:32 come from PDE bits 20:13. */
	put32(0x1000 + 0x200 * 4, 0xc0000000u | (0x12u << 13) | P | RW | PS);
	struct walk_result r = walk_ok(&paging32_pse, 0x80123456);
	assert_int_equal(r.gpa, 0x12c0123456ull);
	assert_int_equal(r.page_size, 4 * MiB);
	assert_int_equal(r.levels, 1);
	assert_true(r.writable);
	assert_false(r.user);
}

static void test_32bit_paging_without_cr4_pse_reads_the_page_size_bit_as_a_table(void **state)
{
	(void)state;
	put32(0x1000, 0x400000 | P | RW | PS);
	put32(0x400000 + 5 * 4, 0x9000 | P | RW);
	struct walk_result r = walk_ok(&paging32, 0x5010);
	assert_int_equal(r.gpa, 0x9010);
	assert_int_equal(r.page_size, 4096);
	r = walk_ok(&paging32_pse, 0x5010);
	assert_int_equal(r.gpa, 0x405010);	/* the same PDE as a 4 MiB page */
	assert_int_equal(r.page_size, 4 * MiB);
}

static void test_32bit_faults_on_not_present_entries_and_reserved_bit_21(void **state)
{
	(void)state;
	/* Everything but P: the rest of the entry means nothing. */
	put32(0x1000 + 4, 0x2000 | RW | US);
	put32(0x2000, 0x9000 | P | RW);
	put32(0x2000 + 4, 0x9000 | RW);
	assert_int_equal(walk_err(&paging32, 0x400000), -EFAULT);
	put32(0x1000 + 4, 0x2000 | P | RW | US);
	assert_int_equal(walk_ok(&paging32, 0x400000).gpa, 0x9000);
	assert_int_equal(walk_err(&paging32, 0x401000), -EFAULT);
	put32(0x1000 + 8, 0x00c00000u | (1u << 21) | P | PS);
	assert_int_equal(walk_err(&paging32_pse, 0x800000), -EFAULT);
}

/* PDPT at 0x1020, a PD at 0x2000 for the first GiB, a PT at 0x3000. */
static void build_pae(void)
{
	put64(0x1020, 0x2000 | P);
	put64(0x2000 + 1 * 8, 0x3000 | P | RW | US);
	put64(0x3000 + 2 * 8, 0x7000 | P | RW | US);
	put64(0x2000 + 3 * 8, 0x40000000 | P | US | PS);
}

static void test_32bit_modes_fault_above_4gib(void **state)
{
	(void)state;
	put32(0x1000, 0x400000 | P | RW);
	put32(0x400000, 0x9000 | P | RW);
	assert_int_equal(walk_ok(&paging32, 0x123).gpa, 0x9123);
	assert_int_equal(walk_err(&paging32, 0x100000123ull), -EFAULT);
	build_pae();
	assert_int_equal(walk_ok(&paging_pae, 0x202123).gpa, 0x7123);
	assert_int_equal(walk_err(&paging_pae, 0x100202123ull), -EFAULT);
}

static void test_pae_paging_translates_4kib_and_2mib_pages(void **state)
{
	(void)state;
	build_pae();
	struct walk_result r = walk_ok(&paging_pae, 0x202123);
	assert_int_equal(r.gpa, 0x7123);
	assert_int_equal(r.page_size, 4096);
	assert_int_equal(r.levels, 3);
	assert_true(r.writable && r.user && r.executable);
	r = walk_ok(&paging_pae, 0x6abcde);
	assert_int_equal(r.gpa, 0x400abcde);
	assert_int_equal(r.page_size, 2 * MiB);
	assert_int_equal(r.levels, 2);
	assert_false(r.writable);
	assert_int_equal(walk_err(&paging_pae, 0x40000000), -EFAULT);	/* PDPTE 1 empty */
}

static void test_pae_execute_disable_needs_efer_nxe(void **state)
{
	(void)state;
	build_pae();
	put64(0x3000 + 2 * 8, 0x7000 | P | RW | XD);
	struct guest_paging nx = paging_pae;
	nx.efer = GUEST_EFER_NXE;
	struct walk_result r = walk_ok(&nx, 0x202000);
	assert_false(r.executable);
	assert_true(r.writable);
	/* Without NXE bit 63 is reserved. */
	assert_int_equal(walk_err(&paging_pae, 0x202000), -EFAULT);
}

static void test_pae_pdptes_have_reserved_rights_bits(void **state)
{
	(void)state;
	build_pae();
	put64(0x1020, 0x2000 | P | RW);
	assert_int_equal(walk_err(&paging_pae, 0x202123), -EFAULT);
	put64(0x1020, 0x2000 | P | XD);
	struct guest_paging nx = paging_pae;
	nx.efer = GUEST_EFER_NXE;
	assert_int_equal(walk_err(&nx, 0x202123), -EFAULT);
}

/* The higher half at 0xffff800000000000: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
#define HIGH 0xffff800000000000ull

static void build_4level(void)
{
	put64(0x1000 + 256 * 8, 0x2000 | P | RW | US);
	put64(0x2000 + 0 * 8, 0x3000 | P | RW | US);
	put64(0x3000 + 1 * 8, 0x4000 | P | RW | US);
	put64(0x4000 + 1 * 8, 0x777000 | P | RW);
	put64(0x3000 + 2 * 8, 0xa00000 | P | RW | US | PS);
	put64(0x2000 + 1 * 8, 0x140000000ull | P | US | PS);
}

static void test_4level_paging_translates_4kib_2mib_and_1gib_pages(void **state)
{
	(void)state;
	build_4level();
	struct walk_result r = walk_ok(&paging4, HIGH + 0x201abc);
	assert_int_equal(r.gpa, 0x777abc);
	assert_int_equal(r.page_size, 4096);
	assert_int_equal(r.levels, 4);
	assert_true(r.writable);
	assert_false(r.user);
	r = walk_ok(&paging4, HIGH + 0x401234);
	assert_int_equal(r.gpa, 0xa01234);
	assert_int_equal(r.page_size, 2 * MiB);
	assert_int_equal(r.levels, 3);
	assert_true(r.writable && r.user && r.executable);
	r = walk_ok(&paging4, HIGH + 1 * GiB + 0x12345678);
	assert_int_equal(r.gpa, 0x140000000ull + 0x12345678);
	assert_int_equal(r.page_size, 1 * GiB);
	assert_int_equal(r.levels, 2);
	assert_false(r.writable);
	assert_int_equal(walk_err(&paging4, 0x1000), -EFAULT);	/* PML4E 0 empty */
}

static void test_4level_paging_faults_on_non_canonical_addresses(void **state)
{
	(void)state;
	build_4level();
	/* HIGH + 0x401234 with bits 63:48 clear: its table entries exist, but it is not canonical. */
	assert_int_equal(walk_err(&paging4, 0x0000800000401234ull), -EFAULT);
	assert_int_equal(walk_err(&paging4, 0xffff7fffffffffffull), -EFAULT);
	assert_int_equal(walk_err(&paging4, 0x7fff800000201abcull), -EFAULT);
}

static void test_4level_execute_disable_anywhere_on_the_walk_denies_fetches(void **state)
{
	(void)state;
	build_4level();
	put64(0x1000 + 256 * 8, 0x2000 | P | RW | US | XD);
	struct walk_result r = walk_ok(&paging4, HIGH + 0x401234);
	assert_false(r.executable);
	struct guest_paging no_nx = paging4;
	no_nx.efer = GUEST_EFER_LME;
	assert_int_equal(walk_err(&no_nx, HIGH + 0x401234), -EFAULT);
}

static void test_4level_reserved_bits_fault(void **state)
{
	(void)state;
	build_4level();
	put64(0x3000 + 2 * 8, 0xa00000 | (1ull << 13) | P | RW | PS);
	assert_int_equal(walk_err(&paging4, HIGH + 0x401234), -EFAULT);
	put64(0x2000 + 1 * 8, 0x140000000ull | (1ull << 20) | P | PS);
	assert_int_equal(walk_err(&paging4, HIGH + 1 * GiB), -EFAULT);
	/* PAT (bit 12) is not reserved in a large page. */
	put64(0x3000 + 2 * 8, 0xa00000 | (1ull << 12) | P | RW | PS);
	assert_int_equal(walk_ok(&paging4, HIGH + 0x401234).gpa, 0xa01234);
	/* No 512 GiB pages: PS is reserved in a PML4E, even one aligned as such a page. */
	put64(0x1000 + 256 * 8, P | RW | PS);
	assert_int_equal(walk_err(&paging4, HIGH + 0x401234), -EFAULT);
}

static void test_a_table_outside_guest_memory_is_a_read_error(void **state)
{
	(void)state;
	build_4level();
	put64(0x3000 + 1 * 8, 0x80000000ull | P | RW);
	assert_int_equal(walk_err(&paging4, HIGH + 0x201abc), -EIO);
	struct guest_paging far_cr3 = paging4;
	far_cr3.cr3 = 0x40000000;
	assert_int_equal(walk_err(&far_cr3, HIGH), -EIO);
	struct guest_paging far_pd = paging32;
	put32(0x1000, 0xfffff000u | P);
	assert_int_equal(walk_err(&far_pd, 0x123), -EIO);
}

static void test_5level_paging_translates_57_bit_addresses(void **state)
{
	(void)state;
	/* 0x0001000000001abc: PML5 index 1, then index 0, 0, 0 and PT index 1. */
	put64(0x5000 + 1 * 8, 0x6000 | P | RW | US);
	put64(0x6000, 0x7000 | P | RW | US);
	put64(0x7000, 0x8000 | P | RW | US);
	put64(0x8000, 0x9000 | P | RW | US);
	put64(0x9000 + 1 * 8, 0x123000 | P | RW | US);
	struct walk_result r = walk_ok(&paging5, 0x0001000000001abcull);
	assert_int_equal(r.gpa, 0x123abc);
	assert_int_equal(r.levels, 5);
	assert_true(r.writable && r.user && r.executable);
	/* Canonical for 57 bits only. */
	struct guest_paging four = paging5;
	four.cr4 &= ~GUEST_CR4_LA57;
	assert_int_equal(walk_err(&four, 0x0001000000001abcull), -EFAULT);
	assert_int_equal(walk_err(&paging5, 0x0100000000000000ull), -EFAULT);
	assert_int_equal(walk_err(&paging5, 0xff00000000000000ull), -EFAULT);	/* PML5E 256 empty */
}

static void test_mode_names_follow_cr0_cr4_and_efer(void **state)
{
	(void)state;
	const struct guest_paging real = { 0 };
	assert_string_equal(guest_paging_mode_name(&real), "real/no paging");
	assert_string_equal(guest_paging_mode_name(&paging32), "32-bit");
	assert_string_equal(guest_paging_mode_name(&paging32_pse), "32-bit");
	assert_string_equal(guest_paging_mode_name(&paging_pae), "PAE");
	assert_string_equal(guest_paging_mode_name(&paging4), "4-level");
	assert_string_equal(guest_paging_mode_name(&paging5), "5-level");
	struct guest_paging lme_without_pae = paging4;
	lme_without_pae.cr4 = 0;
	assert_string_equal(guest_paging_mode_name(&lme_without_pae), "32-bit");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_without_paging_linear_addresses_are_physical),
		T(test_32bit_paging_translates_4kib_pages_and_ands_the_rights),
		T(test_32bit_paging_maps_4mib_pages_with_pse36_high_bits),
		T(test_32bit_paging_without_cr4_pse_reads_the_page_size_bit_as_a_table),
		T(test_32bit_faults_on_not_present_entries_and_reserved_bit_21),
		T(test_32bit_modes_fault_above_4gib),
		T(test_pae_paging_translates_4kib_and_2mib_pages),
		T(test_pae_execute_disable_needs_efer_nxe),
		T(test_pae_pdptes_have_reserved_rights_bits),
		T(test_4level_paging_translates_4kib_2mib_and_1gib_pages),
		T(test_4level_paging_faults_on_non_canonical_addresses),
		T(test_4level_execute_disable_anywhere_on_the_walk_denies_fetches),
		T(test_4level_reserved_bits_fault),
		T(test_a_table_outside_guest_memory_is_a_read_error),
		T(test_5level_paging_translates_57_bit_addresses),
		T(test_mode_names_follow_cr0_cr4_and_efer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
