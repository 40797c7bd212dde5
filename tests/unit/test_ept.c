/* The EPT table builder: page sizes chosen from alignment, splits that keep
 * neighbours intact, rights and memory types the SDM calls misconfigured,
 * allocation failures that leave the tables as they were, the EPTP, and
 * EPT-violation qualifications in words. Table pages come from a fake
 * allocator whose "physical" addresses are not host pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/ept.h"
#include "platform/errno.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

#define FAKE_PAGES 4096
#define FAKE_PHYS_BASE 0x12345000ull

struct fake_mem {
	uint64_t *page[FAKE_PAGES];
	int used;		/* slots handed out so far (never reused) */
	int live;		/* pages allocated and not yet freed */
	int fail_after;		/* allocations left before failing; -1: never */
};

static struct fake_mem mem;

static void *fake_alloc(void *ctx, uint64_t *phys)
{
	struct fake_mem *m = ctx;
	if (m->fail_after == 0 || m->used == FAKE_PAGES)
		return NULL;
	if (m->fail_after > 0)
		m->fail_after--;
	uint64_t *p = aligned_alloc(4096, 4096);
	memset(p, 0xa5, 4096);	/* ept must clear it */
	m->page[m->used] = p;
	*phys = FAKE_PHYS_BASE + (uint64_t)m->used * 4096;
	m->used++;
	m->live++;
	return p;
}

static int slot_of(uint64_t phys)
{
	assert_int_equal(phys % 4096, 0);
	assert_true(phys >= FAKE_PHYS_BASE);
	int slot = (int)((phys - FAKE_PHYS_BASE) / 4096);
	assert_true(slot < mem.used);
	assert_non_null(mem.page[slot]);	/* not freed */
	return slot;
}

static void *fake_phys_to_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return mem.page[slot_of(phys)];
}

static void fake_free(void *ctx, void *page, uint64_t phys)
{
	(void)ctx;
	int slot = slot_of(phys);
	assert_ptr_equal(mem.page[slot], page);
	free(page);
	mem.page[slot] = NULL;
	mem.live--;
}

static const struct ept_ops fake_ops = {
	.ctx = &mem,
	.alloc_page = fake_alloc,
	.free_page = fake_free,
	.phys_to_virt = fake_phys_to_virt,
};

static void new_ept(struct ept *e, bool large_2m, bool large_1g)
{
	for (int i = 0; i < mem.used; i++)
		free(mem.page[i]);
	memset(&mem, 0, sizeof(mem));
	mem.fail_after = -1;
	assert_int_equal(ept_init(e, &fake_ops, large_2m, large_1g), 0);
	assert_int_equal(mem.live, 1);
}

static void done(struct ept *e)
{
	ept_destroy(e);
	assert_int_equal(mem.live, 0);
}

/* gpa translates to hpa through a leaf of `level` with these rights and type. */
static void expect(const struct ept *e, uint64_t gpa, uint64_t hpa, int level, unsigned perms,
		   unsigned memtype)
{
	struct ept_mapping m;
	assert_int_equal(ept_query(e, gpa, &m), 0);
	assert_true(m.present);
	assert_int_equal(m.hpa, hpa);
	assert_int_equal(m.level, level);
	assert_int_equal(m.page_size, 4096ull << (9 * (level - 1)));
	assert_int_equal(m.perms, perms);
	assert_int_equal(m.memtype, memtype);
}

static void expect_absent(const struct ept *e, uint64_t gpa)
{
	struct ept_mapping m;
	assert_int_equal(ept_query(e, gpa, &m), 0);
	assert_false(m.present);
	assert_int_equal(m.level, 0);
}

/* The raw entry at `level` on gpa's walk (4 = PML4E ... 1 = PTE). */
static uint64_t raw_entry(const struct ept *e, uint64_t gpa, int level)
{
	uint64_t *table = e->pml4;
	for (int l = 4;; l--) {
		uint64_t entry = table[(gpa >> (12 + 9 * (l - 1))) & 511];
		if (l == level)
			return entry;
		table = fake_phys_to_virt(NULL, entry & EPT_ENTRY_ADDR_MASK);
	}
}

static void test_identity_map_of_256mib_uses_2mib_pages_inside_and_4kib_pages_at_unaligned_edges(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 4 * KiB, 4 * KiB, 256 * MiB - 8 * KiB, EPT_RWX, EPT_MT_WB), 0);
	expect_absent(&e, 0);
	expect(&e, 4 * KiB, 4 * KiB, 1, EPT_RWX, EPT_MT_WB);
	expect(&e, 2 * MiB - 4 * KiB, 2 * MiB - 4 * KiB, 1, EPT_RWX, EPT_MT_WB);
	for (uint64_t a = 2 * MiB; a < 254 * MiB; a += 2 * MiB)
		expect(&e, a + 0x1234, a + 0x1234, 2, EPT_RWX, EPT_MT_WB);
	expect(&e, 254 * MiB, 254 * MiB, 1, EPT_RWX, EPT_MT_WB);
	expect(&e, 256 * MiB - 8 * KiB, 256 * MiB - 8 * KiB, 1, EPT_RWX, EPT_MT_WB);
	expect_absent(&e, 256 * MiB - 4 * KiB);
	/* PML4, PDPT, PD and a page table for each ragged end. */
	assert_int_equal(mem.live, 5);
	done(&e);
}

static void test_without_large_page_support_every_page_is_4kib(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, false, false);
	assert_int_equal(ept_map(&e, 0, 0, 256 * MiB, EPT_R | EPT_W, EPT_MT_WB), 0);
	expect(&e, 2 * MiB, 2 * MiB, 1, EPT_R | EPT_W, EPT_MT_WB);
	expect(&e, 200 * MiB + 0x10, 200 * MiB + 0x10, 1, EPT_R | EPT_W, EPT_MT_WB);
	assert_int_equal(mem.live, 3 + 128);
	done(&e);
}

static void test_1gib_pages_are_used_when_allowed(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, true);
	assert_int_equal(ept_map(&e, 0, 0, 4 * GiB + 2 * MiB + 4 * KiB, EPT_RWX, EPT_MT_WB), 0);
	expect(&e, 0, 0, 3, EPT_RWX, EPT_MT_WB);
	expect(&e, 3 * GiB + 5, 3 * GiB + 5, 3, EPT_RWX, EPT_MT_WB);
	expect(&e, 4 * GiB, 4 * GiB, 2, EPT_RWX, EPT_MT_WB);
	expect(&e, 4 * GiB + 2 * MiB, 4 * GiB + 2 * MiB, 1, EPT_RWX, EPT_MT_WB);
	expect_absent(&e, 4 * GiB + 2 * MiB + 4 * KiB);
	assert_int_equal(mem.live, 4);
	done(&e);
}

static void test_pages_are_only_as_large_as_both_addresses_are_aligned(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, true);
	assert_int_equal(ept_map(&e, 1 * GiB, 3 * GiB + 2 * MiB, 1 * GiB, EPT_RWX, EPT_MT_WB), 0);
	expect(&e, 1 * GiB, 3 * GiB + 2 * MiB, 2, EPT_RWX, EPT_MT_WB);
	expect(&e, 2 * GiB - 1, 4 * GiB + 2 * MiB - 1, 2, EPT_RWX, EPT_MT_WB);
	assert_int_equal(ept_map(&e, 8 * MiB, 8 * MiB + 4 * KiB, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	expect(&e, 8 * MiB, 8 * MiB + 4 * KiB, 1, EPT_RWX, EPT_MT_WB);
	done(&e);
}

static void test_query_returns_the_translation_of_the_address_its_level_rights_and_type(void **state)
{
	(void)state;
	struct ept e;
	struct ept_mapping m;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 1 * GiB, 0x123400000ull, 2 * MiB, EPT_R | EPT_X, EPT_MT_UC), 0);
	assert_int_equal(ept_query(&e, 1 * GiB + 0x12345, &m), 0);
	assert_true(m.present);
	assert_int_equal(m.hpa, 0x123412345ull);
	assert_int_equal(m.level, 2);
	assert_int_equal(m.page_size, 2 * MiB);
	assert_int_equal(m.perms, EPT_R | EPT_X);
	assert_int_equal(m.memtype, EPT_MT_UC);
	assert_false(m.accessed);
	assert_false(m.dirty);
	done(&e);
}

static void test_entries_follow_the_sdm_layout(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 2 * MiB, 0x80000000ull, 2 * MiB, EPT_R | EPT_W, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 8 * MiB, 0x90000000ull, 4 * KiB, EPT_R, EPT_MT_UC), 0);
	/* Tables: their address and all three rights, nothing else. */
	uint64_t pml4e = raw_entry(&e, 0, 4);
	assert_int_equal(pml4e & ~EPT_ENTRY_ADDR_MASK, EPT_RWX);
	/* 2 MiB leaf: address, bit 7, WB in 5:3, rw, and the software bit 11. */
	assert_int_equal(raw_entry(&e, 2 * MiB, 2),
			 0x80000000ull | EPT_ENTRY_LARGE | EPT_ENTRY_MAPPED | (6 << 3) | 3);
	/* 4 KiB leaf: no bit 7. */
	assert_int_equal(raw_entry(&e, 8 * MiB, 1), 0x90000000ull | EPT_ENTRY_MAPPED | 1);
	done(&e);
}

static void test_unmapping_a_4kib_hole_splits_a_2mib_page_and_keeps_its_neighbours(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 1 * GiB, 2 * GiB, 4 * MiB, EPT_R | EPT_W, EPT_MT_WB), 0);
	int before = mem.live;
	assert_int_equal(ept_unmap(&e, 1 * GiB + 0x5000, 4 * KiB), 0);
	expect_absent(&e, 1 * GiB + 0x5000);
	for (uint64_t off = 0; off < 2 * MiB; off += 4 * KiB)
		if (off != 0x5000)
			expect(&e, 1 * GiB + off, 2 * GiB + off, 1, EPT_R | EPT_W, EPT_MT_WB);
	expect(&e, 1 * GiB + 2 * MiB, 2 * GiB + 2 * MiB, 2, EPT_R | EPT_W, EPT_MT_WB);
	/* The new PTEs are plain 4 KiB leaves: bit 7 of a PTE is not "large". */
	assert_int_equal(raw_entry(&e, 1 * GiB, 1), 2 * GiB | EPT_ENTRY_MAPPED | (6 << 3) | 3);
	assert_int_equal(mem.live, before + 1);
	done(&e);
}

static void test_a_split_keeps_the_accessed_and_dirty_flags(void **state)
{
	(void)state;
	struct ept e;
	struct ept_mapping m;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 0, 0, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	uint64_t *pd = fake_phys_to_virt(NULL, raw_entry(&e, 0, 3) & EPT_ENTRY_ADDR_MASK);
	pd[0] |= EPT_ENTRY_ACCESSED | EPT_ENTRY_DIRTY;	/* as the CPU would */
	assert_int_equal(ept_unmap(&e, 0, 4 * KiB), 0);
	assert_int_equal(ept_query(&e, 1 * MiB, &m), 0);
	assert_int_equal(m.level, 1);
	assert_true(m.accessed);
	assert_true(m.dirty);
	done(&e);
}

static void test_unmapping_everything_gives_back_every_table_it_emptied(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, true);
	assert_int_equal(ept_map(&e, 4 * KiB, 4 * KiB, 3 * GiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 600 * GiB, 8 * GiB, 8 * MiB, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, 0, 1 * GiB), 0);
	expect(&e, 1 * GiB, 1 * GiB, 3, EPT_RWX, EPT_MT_WB);
	assert_int_equal(ept_unmap(&e, 1 * GiB, 2 * GiB + 4 * KiB), 0);
	assert_int_equal(ept_unmap(&e, 512 * GiB, 512 * GiB), 0);
	expect_absent(&e, 600 * GiB);
	assert_int_equal(mem.live, 1);
	/* The tables are rebuilt on demand. */
	assert_int_equal(ept_map(&e, 0, 0, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	expect(&e, 0, 0, 2, EPT_RWX, EPT_MT_WB);
	done(&e);
}

static void test_protect_changes_rights_over_a_range_and_splits_only_its_ends(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 0, 64 * MiB, 8 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 2 * MiB - 4 * KiB, 2 * MiB + 8 * KiB, EPT_R), 0);
	expect(&e, 2 * MiB - 8 * KiB, 66 * MiB - 8 * KiB, 1, EPT_RWX, EPT_MT_WB);
	expect(&e, 2 * MiB - 4 * KiB, 66 * MiB - 4 * KiB, 1, EPT_R, EPT_MT_WB);
	expect(&e, 2 * MiB, 66 * MiB, 2, EPT_R, EPT_MT_WB);
	expect(&e, 4 * MiB, 68 * MiB, 1, EPT_R, EPT_MT_WB);
	expect(&e, 4 * MiB + 4 * KiB, 68 * MiB + 4 * KiB, 1, EPT_RWX, EPT_MT_WB);
	expect(&e, 6 * MiB, 70 * MiB, 2, EPT_RWX, EPT_MT_WB);
	done(&e);
}

static void test_protect_to_no_access_keeps_the_translation_for_a_later_restore(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 0, 1 * GiB, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 8 * KiB, 4 * KiB, 0), 0);
	expect(&e, 8 * KiB, 1 * GiB + 8 * KiB, 1, 0, EPT_MT_WB);
	assert_int_equal(raw_entry(&e, 8 * KiB, 1) & EPT_RWX, 0);	/* the CPU sees "not present" */
	assert_int_equal(ept_protect(&e, 8 * KiB, 4 * KiB, EPT_R | EPT_X), 0);
	expect(&e, 8 * KiB, 1 * GiB + 8 * KiB, 1, EPT_R | EPT_X, EPT_MT_WB);
	done(&e);
}

static void test_protect_of_a_range_with_an_unmapped_part_fails_and_changes_nothing(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 0, 0, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	int before = mem.live;
	assert_int_equal(ept_protect(&e, 1 * MiB, 2 * MiB, EPT_R), -ENOENT);
	expect(&e, 1 * MiB, 1 * MiB, 2, EPT_RWX, EPT_MT_WB);
	assert_int_equal(mem.live, before);
	assert_int_equal(ept_protect(&e, 4 * MiB, 4 * KiB, EPT_R), -ENOENT);
	done(&e);
}

static void test_write_without_read_and_unsupported_execute_only_are_rejected(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 0, 0, 4 * KiB, EPT_W, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0, 0, 4 * KiB, EPT_W | EPT_X, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0, 0, 4 * KiB, EPT_X, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0, 0, 4 * KiB, 8, EPT_MT_WB), -EINVAL);
	expect_absent(&e, 0);
	assert_int_equal(mem.live, 1);
	e.exec_only = true;
	assert_int_equal(ept_map(&e, 0, 0, 4 * KiB, EPT_X, EPT_MT_WB), 0);
	expect(&e, 0, 0, 1, EPT_X, EPT_MT_WB);
	assert_int_equal(ept_protect(&e, 0, 4 * KiB, EPT_W), -EINVAL);
	expect(&e, 0, 0, 1, EPT_X, EPT_MT_WB);
	done(&e);
}

static void test_reserved_memory_types_are_rejected(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	const unsigned reserved[] = { 2, 3, 7, 8 };
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(ept_map(&e, 0, 0, 4 * KiB, EPT_RWX, reserved[i]), -EINVAL);
	const unsigned valid[] = { EPT_MT_UC, EPT_MT_WC, EPT_MT_WT, EPT_MT_WP, EPT_MT_WB };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(ept_map(&e, i * 4 * KiB, 0, 4 * KiB, EPT_RWX, valid[i]), 0);
		expect(&e, i * 4 * KiB, 0, 1, EPT_RWX, valid[i]);
	}
	done(&e);
}

static void test_query_of_an_unmapped_address_reports_not_present(void **state)
{
	(void)state;
	struct ept e;
	struct ept_mapping m;
	new_ept(&e, true, true);
	expect_absent(&e, 0);
	expect_absent(&e, EPT_GPA_LIMIT - 1);
	assert_int_equal(ept_map(&e, 2 * MiB, 2 * MiB, 4 * KiB, EPT_RWX, EPT_MT_WB), 0);
	expect_absent(&e, 2 * MiB + 4 * KiB);
	expect_absent(&e, 2 * MiB - 4 * KiB);
	assert_int_equal(ept_query(&e, EPT_GPA_LIMIT, &m), -EINVAL);
	assert_false(m.present);
	done(&e);
}

static void test_mapping_over_an_existing_mapping_is_refused(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 2 * MiB, 2 * MiB, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0, 0, 2 * MiB + 4 * KiB, EPT_R, EPT_MT_UC), -EEXIST);
	expect_absent(&e, 0);
	expect(&e, 2 * MiB, 2 * MiB, 2, EPT_RWX, EPT_MT_WB);
	done(&e);
}

static void test_misaligned_or_out_of_range_arguments_are_rejected(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map(&e, 0x800, 0, 4 * KiB, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0, 0x800, 4 * KiB, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0, 0, 100, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT - 4 * KiB, 0, 8 * KiB, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0, (1ull << 52) - 4 * KiB, 8 * KiB, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_unmap(&e, 0, UINT64_MAX & ~0xfffull), -EINVAL);
	assert_int_equal(mem.live, 1);
	/* The last page of the 48-bit space is fine. */
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT - 4 * KiB, 0, 4 * KiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, EPT_GPA_LIMIT - 2 * MiB, 2 * MiB), 0);
	assert_int_equal(mem.live, 1);
	done(&e);
}

static void test_allocation_failure_mid_map_returns_enomem_and_leaves_the_ept_as_before(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, false, false);
	assert_int_equal(ept_map(&e, 4 * KiB, 4 * KiB, 4 * KiB, EPT_RWX, EPT_MT_WB), 0);
	int before = mem.live;
	/* A new PD and four page tables are needed; the third allocation fails. */
	mem.fail_after = 2;
	assert_int_equal(ept_map(&e, 1 * GiB, 1 * GiB, 8 * MiB, EPT_RWX, EPT_MT_WB), -ENOMEM);
	assert_int_equal(mem.live, before);
	for (uint64_t a = 1 * GiB; a < 1 * GiB + 8 * MiB; a += 4 * KiB)
		expect_absent(&e, a);
	expect(&e, 4 * KiB, 4 * KiB, 1, EPT_RWX, EPT_MT_WB);
	/* Failing on the very first table of a new PML4 slot. */
	mem.fail_after = 0;
	assert_int_equal(ept_map(&e, 512 * GiB, 0, 4 * KiB, EPT_RWX, EPT_MT_WB), -ENOMEM);
	assert_int_equal(mem.live, before);
	mem.fail_after = -1;
	assert_int_equal(ept_map(&e, 1 * GiB, 1 * GiB, 8 * MiB, EPT_RWX, EPT_MT_WB), 0);
	expect(&e, 1 * GiB + 8 * MiB - 4 * KiB, 1 * GiB + 8 * MiB - 4 * KiB, 1, EPT_RWX, EPT_MT_WB);
	done(&e);
}

static void test_allocation_failure_while_splitting_changes_no_translation(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, true);
	assert_int_equal(ept_map(&e, 0, 0, 1 * GiB, EPT_RWX, EPT_MT_WB), 0);
	/* A 4 KiB hole in a 1 GiB page needs two tables; the second fails. */
	mem.fail_after = 1;
	assert_int_equal(ept_unmap(&e, 4 * KiB, 4 * KiB), -ENOMEM);
	expect(&e, 4 * KiB, 4 * KiB, 2, EPT_RWX, EPT_MT_WB);
	mem.fail_after = 0;
	assert_int_equal(ept_protect(&e, 2 * MiB - 4 * KiB, 8 * KiB, EPT_R), -ENOMEM);
	expect(&e, 2 * MiB - 4 * KiB, 2 * MiB - 4 * KiB, 2, EPT_RWX, EPT_MT_WB);
	expect(&e, 2 * MiB, 2 * MiB, 2, EPT_RWX, EPT_MT_WB);
	done(&e);
}

static void test_eptp_holds_the_pml4_address_write_back_and_a_4_level_walk(void **state)
{
	(void)state;
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(e.pml4_phys, FAKE_PHYS_BASE);
	/* 0x12345000 | walk length 4 - 1 = 3 in bits 5:3 | WB = 6 in bits 2:0. */
	assert_int_equal(ept_pointer(&e, false), 0x1234501eull);
	assert_int_equal(ept_pointer(&e, true), 0x1234505eull);
	done(&e);
}

static void test_init_refuses_missing_operations_and_reports_an_empty_allocator(void **state)
{
	(void)state;
	struct ept e;
	struct ept_ops ops = fake_ops;
	ops.phys_to_virt = NULL;
	assert_int_equal(ept_init(&e, &ops, true, true), -EINVAL);
	new_ept(&e, true, true);
	done(&e);
	mem.fail_after = 0;
	assert_int_equal(ept_init(&e, &fake_ops, true, true), -ENOMEM);
}

static void test_rights_print_and_parse_as_rwx_strings(void **state)
{
	(void)state;
	char buf[4];
	const char *names[8] = { "---", "r--", "-w-", "rw-", "--x", "r-x", "-wx", "rwx" };
	for (unsigned p = 0; p < 8; p++) {
		unsigned back = 99;
		assert_string_equal(ept_perms_string(p, buf), names[p]);
		assert_int_equal(ept_parse_perms(names[p], &back), 0);
		assert_int_equal(back, p);
	}
	const char *bad[] = { "", "rw", "rwxx", "wrx", "RWX", "r x", "rw-\n" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned untouched = 42;
		assert_int_equal(ept_parse_perms(bad[i], &untouched), -EINVAL);
		assert_int_equal(untouched, 42);
	}
}

static void test_violation_qualifications_read_as_sentences(void **state)
{
	(void)state;
	char buf[160];
	/* Write; entry r-x; linear address valid; the final translation. */
	ept_violation_describe(0x2 | (5 << 3) | 0x80 | 0x100, buf, sizeof(buf));
	assert_string_equal(buf, "write to a page mapped r-x (guest linear address valid, final translation)");
	ept_violation_describe(0x4 | 0x80, buf, sizeof(buf));
	assert_string_equal(buf, "instruction fetch from a non-present page "
			    "(guest linear address valid, guest paging-structure access)");
	/* A PAE PDPTE load by MOV to CR3 has no linear address. */
	ept_violation_describe(0x1, buf, sizeof(buf));
	assert_string_equal(buf, "read of a non-present page (no guest linear address)");
	ept_violation_describe(0x3 | (1 << 3) | 0x180 | 0x1000, buf, sizeof(buf));
	assert_string_equal(buf, "read/write of a page mapped r-- "
			    "(guest linear address valid, final translation, NMI unblocking due to IRET)");
	ept_violation_describe(0x2 | (1 << 3) | 0x180 | 0x2000, buf, sizeof(buf));
	assert_string_equal(buf, "write to a page mapped r-- "
			    "(guest linear address valid, final translation, shadow-stack access)");
}

static void test_a_violation_description_is_truncated_safely(void **state)
{
	(void)state;
	char small[9];
	const char *full = "write to a page mapped r-x (guest linear address valid, final translation)";
	int n = ept_violation_describe(0x2 | (5 << 3) | 0x180, small, sizeof(small));
	assert_int_equal(n, (int)strlen(full));
	assert_string_equal(small, "write to");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_map_of_256mib_uses_2mib_pages_inside_and_4kib_pages_at_unaligned_edges),
		cmocka_unit_test(test_without_large_page_support_every_page_is_4kib),
		cmocka_unit_test(test_1gib_pages_are_used_when_allowed),
		cmocka_unit_test(test_pages_are_only_as_large_as_both_addresses_are_aligned),
		cmocka_unit_test(test_query_returns_the_translation_of_the_address_its_level_rights_and_type),
		cmocka_unit_test(test_entries_follow_the_sdm_layout),
		cmocka_unit_test(test_unmapping_a_4kib_hole_splits_a_2mib_page_and_keeps_its_neighbours),
		cmocka_unit_test(test_a_split_keeps_the_accessed_and_dirty_flags),
		cmocka_unit_test(test_unmapping_everything_gives_back_every_table_it_emptied),
		cmocka_unit_test(test_protect_changes_rights_over_a_range_and_splits_only_its_ends),
		cmocka_unit_test(test_protect_to_no_access_keeps_the_translation_for_a_later_restore),
		cmocka_unit_test(test_protect_of_a_range_with_an_unmapped_part_fails_and_changes_nothing),
		cmocka_unit_test(test_write_without_read_and_unsupported_execute_only_are_rejected),
		cmocka_unit_test(test_reserved_memory_types_are_rejected),
		cmocka_unit_test(test_query_of_an_unmapped_address_reports_not_present),
		cmocka_unit_test(test_mapping_over_an_existing_mapping_is_refused),
		cmocka_unit_test(test_misaligned_or_out_of_range_arguments_are_rejected),
		cmocka_unit_test(test_allocation_failure_mid_map_returns_enomem_and_leaves_the_ept_as_before),
		cmocka_unit_test(test_allocation_failure_while_splitting_changes_no_translation),
		cmocka_unit_test(test_eptp_holds_the_pml4_address_write_back_and_a_4_level_walk),
		cmocka_unit_test(test_init_refuses_missing_operations_and_reports_an_empty_allocator),
		cmocka_unit_test(test_rights_print_and_parse_as_rwx_strings),
		cmocka_unit_test(test_violation_qualifications_read_as_sentences),
		cmocka_unit_test(test_a_violation_description_is_truncated_safely),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
