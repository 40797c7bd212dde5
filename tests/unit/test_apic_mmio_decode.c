/* The APIC-store decoder (hv/apic_mmio_decode.c): the stores gcc really
 * emits for an MMIO register, the rest of the ModRM/SIB/prefix space by
 * hand, and every refusal: narrow, wide, string, register operands, other
 * opcodes, more than 15 bytes, and every truncation of a valid store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/apic_mmio_decode.h"

/* Distinct register values, so the decoded register is visible. */
static const uint64_t gprs[16] = {
	0xaaaaaaaa00000000ull | 0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107,
	0x108, 0x109, 0x10a, 0x10b, 0x10c, 0x10d, 0x10e, 0xffffffff0000010full,
};

struct vector {
	const char *what;
	enum code_bits bits;
	uint8_t bytes[16];
	unsigned len;		/* the instruction's length */
	uint32_t value;
	int xchg_reg;
};

/* Stores to an APIC register as gcc 12 compiles them (`gcc -O2 -m32`,
 * `-m64`, `-m16`, -fno-pic; bytes from objdump -d) for
 *   *(volatile uint32_t *)0xfee00300 = lo;          (constant address)
 *   *(volatile uint32_t *)0xfee00300 = 0x4500;      (constant value)
 *   base[0x300 / 4] = v;  base[i] = v;              (pointer, index)
 *   asm("xchgl %0, %1" : "+r"(v), "+m"(*p));       (Linux's 11AP write) */
static const struct vector gcc_vectors[] = {
	{ "-m32: mov %eax,0xfee00310", CODE_32, { 0xa3, 0x10, 0x03, 0xe0, 0xfe }, 5, 0x100, -1 },
	{ "-m32: movl $0x4500,0xfee00300", CODE_32,
	  { 0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x45, 0x00, 0x00 }, 10, 0x4500, -1 },
	{ "-m32: mov %edx,0x300(%eax)", CODE_32, { 0x89, 0x90, 0x00, 0x03, 0x00, 0x00 }, 6, 0x102, -1 },
	{ "-m32: mov %edx,(%eax)", CODE_32, { 0x89, 0x10 }, 2, 0x102, -1 },
	{ "-m32: xchg %eax,(%edx)", CODE_32, { 0x87, 0x02 }, 2, 0x100, 0 },
	{ "-m64: movabs %eax,0xfee00310", CODE_64,
	  { 0xa3, 0x10, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 9, 0x100, -1 },
	{ "-m64: movl $0x4500,(%rax)", CODE_64, { 0xc7, 0x00, 0x00, 0x45, 0x00, 0x00 }, 6, 0x4500, -1 },
	{ "-m64: mov %esi,0x300(%rdi)", CODE_64, { 0x89, 0xb7, 0x00, 0x03, 0x00, 0x00 }, 6, 0x106, -1 },
	{ "-m64: mov %edi,0x380(%rax)", CODE_64, { 0x89, 0xb8, 0x80, 0x03, 0x00, 0x00 }, 6, 0x107, -1 },
	{ "-m64: mov %edx,(%rax)", CODE_64, { 0x89, 0x10 }, 2, 0x102, -1 },
	{ "-m64: xchg %esi,(%rdi)", CODE_64, { 0x87, 0x37 }, 2, 0x106, 6 },
	{ "-m16: mov %eax,0x310", CODE_16, { 0x66, 0xa3, 0x10, 0x03 }, 4, 0x100, -1 },
	{ "-m16: movl $0x4500,0x300", CODE_16,
	  { 0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x45, 0x00, 0x00 }, 9, 0x4500, -1 },
	{ "-m16: mov %edx,0x300(%eax)", CODE_16, { 0x67, 0x66, 0x89, 0x90, 0x00, 0x03, 0x00, 0x00 }, 8, 0x102, -1 },
};

/* The rest of the encoding space, by hand (SDM Vol. 2A §2.1-2.2). */
static const struct vector hand_vectors[] = {
	{ "REX.R: mov %r8d,(%rax)", CODE_64, { 0x44, 0x89, 0x00 }, 3, 0x108, -1 },
	{ "REX.R: xchg %r15d,(%rax)", CODE_64, { 0x44, 0x87, 0x38 }, 3, 0x10f, 15 },
	{ "REX.B + SIB: mov %eax,(%r12)", CODE_64, { 0x41, 0x89, 0x04, 0x24 }, 4, 0x100, -1 },
	{ "REX.RXB + SIB + disp32", CODE_64, { 0x47, 0x89, 0x8c, 0x8d, 0x00, 0x03, 0x00, 0x00 }, 8, 0x109, -1 },
	{ "SIB without base: mov %eax,0xfee00300", CODE_64,
	  { 0x89, 0x04, 0x25, 0x00, 0x03, 0xe0, 0xfe }, 7, 0x100, -1 },
	{ "RIP-relative: mov %ecx,-16(%rip)", CODE_64, { 0x89, 0x0d, 0xf0, 0xff, 0xff, 0xff }, 6, 0x101, -1 },
	{ "RIP-relative with an immediate", CODE_64,
	  { 0xc7, 0x05, 0xf0, 0xff, 0xff, 0xff, 0x00, 0x46, 0x00, 0x00 }, 10, 0x4600, -1 },
	{ "32-bit disp32 only: mov %ebx,0xfee000b0", CODE_32, { 0x89, 0x1d, 0xb0, 0x00, 0xe0, 0xfe }, 6, 0x103, -1 },
	{ "disp8: mov %eax,0x10(%ebx)", CODE_32, { 0x89, 0x43, 0x10 }, 3, 0x100, -1 },
	{ "SIB + disp32: mov %eax,0x300(%esp)", CODE_32, { 0x89, 0x84, 0x24, 0x00, 0x03, 0x00, 0x00 }, 7, 0x100, -1 },
	{ "SIB + disp8 + imm32", CODE_32, { 0xc7, 0x44, 0x24, 0x08, 0x78, 0x56, 0x34, 0x12 }, 8, 0x12345678, -1 },
	{ "in 32-bit code 0x40-0x4f are no REX", CODE_32, { 0x89, 0x00 }, 2, 0x100, -1 },
	{ "segment override: mov %eax,%fs:(%ebx)", CODE_32, { 0x64, 0x89, 0x03 }, 3, 0x100, -1 },
	{ "every segment override at once", CODE_32, { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x89, 0x03 }, 8, 0x100, -1 },
	{ "lock xchg", CODE_32, { 0xf0, 0x87, 0x02 }, 3, 0x100, 0 },
	{ "xrelease mov (F3 89)", CODE_64, { 0xf3, 0x89, 0x02 }, 3, 0x100, -1 },
	{ "67 in 64-bit code: mov %eax,(%ebx)", CODE_64, { 0x67, 0x89, 0x03 }, 3, 0x100, -1 },
	{ "67 A3 in 64-bit code: a 4-byte offset", CODE_64, { 0x67, 0xa3, 0x00, 0x03, 0xe0, 0xfe }, 6, 0x100, -1 },
	{ "67 A3 in 32-bit code: a 2-byte offset", CODE_32, { 0x67, 0xa3, 0x00, 0x03 }, 4, 0x100, -1 },
	{ "REX.R does not change A3's eAX", CODE_64,
	  { 0x44, 0xa3, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 10, 0x100, -1 },
	{ "a legacy prefix after REX cancels it", CODE_64, { 0x44, 0x64, 0x89, 0x00 }, 4, 0x100, -1 },
	{ "of two REX the last counts", CODE_64, { 0x48, 0x44, 0x89, 0x00 }, 4, 0x108, -1 },
	{ "16-bit: mov %eax,(%bx)", CODE_16, { 0x66, 0x89, 0x07 }, 3, 0x100, -1 },
	{ "16-bit: mov %ebx,0x300 (mod 00 r/m 110: disp16)", CODE_16, { 0x66, 0x89, 0x1e, 0x00, 0x03 }, 5, 0x103, -1 },
	{ "16-bit: disp8 off %bp+%di", CODE_16, { 0x66, 0x89, 0x43, 0x10 }, 4, 0x100, -1 },
	{ "16-bit: disp16 off %si", CODE_16, { 0x66, 0x89, 0x84, 0x00, 0x03 }, 5, 0x100, -1 },
	{ "16-bit with 67: 32-bit SIB addressing", CODE_16, { 0x66, 0x67, 0x89, 0x04, 0x24 }, 5, 0x100, -1 },
	{ "32-bit with 67: 16-bit addressing", CODE_32, { 0x67, 0x89, 0x1e, 0x00, 0x03 }, 5, 0x103, -1 },
	{ "exactly 15 bytes", CODE_32,
	  { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89, 0x00 }, 15, 0x100, -1 },
};

static void check_vectors(const struct vector *vs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct vector *t = &vs[i];
		struct apic_mmio_store s;
		uint8_t buf[16];
		memset(buf, 0xcc, sizeof(buf));	/* int3 after the instruction: never read */
		memcpy(buf, t->bytes, t->len);
		int rc = apic_mmio_decode(buf, sizeof(buf) - 1, t->bits, gprs, &s);
		if (rc || s.len != t->len || s.value != t->value || s.width != 32 || s.xchg_reg != t->xchg_reg)
			fail_msg("%s: rc %d (%s), len %u, value 0x%x, width %u, xchg_reg %d", t->what, rc,
				 rc ? apic_mmio_decode_strerror(rc) : "ok", s.len, s.value, s.width, s.xchg_reg);
	}
}

static void test_the_stores_gcc_emits_decode_with_value_and_length(void **state)
{
	(void)state;
	check_vectors(gcc_vectors, sizeof(gcc_vectors) / sizeof(gcc_vectors[0]));
}

static void test_every_prefix_and_addressing_form_decodes(void **state)
{
	(void)state;
	check_vectors(hand_vectors, sizeof(hand_vectors) / sizeof(hand_vectors[0]));
}

/* Given exactly the instruction's bytes, it decodes; given one fewer (and
 * any shorter prefix of it), it is truncated, never a guess. */
static void check_truncations(const struct vector *vs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct apic_mmio_store s;
		assert_int_equal(apic_mmio_decode(vs[i].bytes, vs[i].len, vs[i].bits, gprs, &s), 0);
		for (unsigned n = 0; n < vs[i].len; n++) {
			int rc = apic_mmio_decode(vs[i].bytes, n, vs[i].bits, gprs, &s);
			if (rc != DECODE_TRUNCATED)
				fail_msg("%s cut to %u bytes: %d, not truncated", vs[i].what, n, rc);
		}
	}
}

static void test_every_truncation_of_a_valid_store_is_refused_as_truncated(void **state)
{
	(void)state;
	check_truncations(gcc_vectors, sizeof(gcc_vectors) / sizeof(gcc_vectors[0]));
	check_truncations(hand_vectors, sizeof(hand_vectors) / sizeof(hand_vectors[0]));
}

struct refusal {
	const char *what;
	enum code_bits bits;
	uint8_t bytes[16];
	unsigned n;
	int rc;
};

static const struct refusal refusals[] = {
	{ "8-bit mov (88)", CODE_32, { 0x88, 0x00 }, 2, DECODE_NARROW },
	{ "8-bit mov imm (C6)", CODE_64, { 0xc6, 0x00, 0x01 }, 3, DECODE_NARROW },
	{ "8-bit xchg (86)", CODE_32, { 0x86, 0x00 }, 2, DECODE_NARROW },
	{ "8-bit moffs (A2)", CODE_32, { 0xa2, 0x00, 0x03, 0xe0, 0xfe }, 5, DECODE_NARROW },
	{ "16-bit mov in 32-bit code (66 89)", CODE_32, { 0x66, 0x89, 0x00 }, 3, DECODE_NARROW },
	{ "16-bit mov in 64-bit code (66 C7)", CODE_64, { 0x66, 0xc7, 0x00, 0x00, 0x45 }, 5, DECODE_NARROW },
	{ "16-bit mov in 16-bit code (89)", CODE_16, { 0x89, 0x07 }, 2, DECODE_NARROW },
	{ "66 twice still means 16-bit", CODE_32, { 0x66, 0x66, 0x89, 0x00 }, 4, DECODE_NARROW },
	{ "64-bit mov (REX.W 89)", CODE_64, { 0x48, 0x89, 0x00 }, 3, DECODE_WIDE },
	{ "64-bit mov imm (REX.W C7)", CODE_64, { 0x48, 0xc7, 0x00, 0x00, 0x45, 0x00, 0x00 }, 7, DECODE_WIDE },
	{ "64-bit movabs %rax (REX.W A3)", CODE_64, { 0x48, 0xa3, 0, 3, 0xe0, 0xfe, 0, 0, 0, 0 }, 10, DECODE_WIDE },
	{ "stosl", CODE_32, { 0xab }, 1, DECODE_STRING },
	{ "rep stosl", CODE_32, { 0xf3, 0xab }, 2, DECODE_STRING },
	{ "movsl", CODE_64, { 0xa5 }, 1, DECODE_STRING },
	{ "stosb / movsb", CODE_64, { 0xaa }, 1, DECODE_STRING },
	{ "mov %eax,%eax (register form)", CODE_32, { 0x89, 0xc0 }, 2, DECODE_REGISTER_OPERAND },
	{ "xchg %eax,%edx (register form)", CODE_64, { 0x87, 0xc2 }, 2, DECODE_REGISTER_OPERAND },
	{ "mov $imm,%eax (C7 register form)", CODE_32, { 0xc7, 0xc0, 0, 0, 0, 0 }, 6, DECODE_REGISTER_OPERAND },
	{ "C7 /1 is not MOV", CODE_32, { 0xc7, 0x08, 0, 0, 0, 0 }, 6, DECODE_UNKNOWN_OPCODE },
	{ "xbegin (C7 F8)", CODE_64, { 0xc7, 0xf8, 0, 0, 0, 0 }, 6, DECODE_UNKNOWN_OPCODE },
	{ "a register load (8B C0)", CODE_32, { 0x8b, 0xc0 }, 2, DECODE_REGISTER_OPERAND },
	{ "8-bit load (8A)", CODE_32, { 0x8a, 0x00 }, 2, DECODE_NARROW },
	{ "8-bit moffs load (A0)", CODE_32, { 0xa0, 0x00, 0x03, 0xe0, 0xfe }, 5, DECODE_NARROW },
	{ "64-bit load (REX.W 8B)", CODE_64, { 0x48, 0x8b, 0x00 }, 3, DECODE_WIDE },
	{ "or from memory (0B)", CODE_32, { 0x0b, 0x00 }, 2, DECODE_UNKNOWN_OPCODE },
	{ "movnti (0F C3)", CODE_64, { 0x0f, 0xc3, 0x00 }, 3, DECODE_UNKNOWN_OPCODE },
	{ "or to memory (09)", CODE_32, { 0x09, 0x00 }, 2, DECODE_UNKNOWN_OPCODE },
	{ "REX is inc %eax in 32-bit code", CODE_32, { 0x44, 0x89, 0x00 }, 3, DECODE_UNKNOWN_OPCODE },
	{ "nothing at all", CODE_64, { 0 }, 0, DECODE_TRUNCATED },
	{ "prefixes only", CODE_64, { 0x66, 0x67, 0x41 }, 3, DECODE_TRUNCATED },
	{ "16 bytes of prefixes and store", CODE_32,
	  { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89, 0x00 }, 16,
	  DECODE_TOO_LONG },
	{ "15 prefixes, no opcode", CODE_64,
	  { 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e }, 15,
	  DECODE_TOO_LONG },
	{ "an immediate past byte 15", CODE_32,
	  { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0xc7, 0x00, 0x00, 0x45, 0x00, 0x00 }, 15,
	  DECODE_TOO_LONG },
};

/* The loads an APIC-access read exit emulates (apic_virtual.c), as gcc 12
 * compiles `v = *(volatile uint32_t *)0xfee00390` and `v = base[0x390/4]`. */
static void test_the_loads_gcc_emits_decode_with_register_and_length(void **state)
{
	static const struct {
		const char *what;
		enum code_bits bits;
		uint8_t bytes[16];
		unsigned len;
		int reg;
	} loads[] = {
		{ "-m32: mov 0xfee00390,%eax", CODE_32, { 0xa1, 0x90, 0x03, 0xe0, 0xfe }, 5, 0 },
		{ "-m32: mov 0x390(%eax),%edx", CODE_32, { 0x8b, 0x90, 0x90, 0x03, 0x00, 0x00 }, 6, 2 },
		{ "-m64: movabs 0xfee00390,%eax", CODE_64, { 0xa1, 0x90, 0x03, 0xe0, 0xfe, 0, 0, 0, 0 }, 9, 0 },
		{ "-m64: mov 0x390(%rdi),%eax", CODE_64, { 0x8b, 0x87, 0x90, 0x03, 0x00, 0x00 }, 6, 0 },
		{ "-m64: mov (%rax),%r9d", CODE_64, { 0x44, 0x8b, 0x08 }, 3, 9 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		struct apic_mmio_store s;
		int rc = apic_mmio_decode(loads[i].bytes, sizeof(loads[i].bytes), loads[i].bits, gprs, &s);
		if (rc)
			fail_msg("%s: %s", loads[i].what, apic_mmio_decode_strerror(rc));
		assert_int_equal(s.len, loads[i].len);
		assert_int_equal(s.load_reg, loads[i].reg);
		assert_int_equal(s.xchg_reg, -1);
	}
}

static void test_everything_else_is_refused_with_its_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *t = &refusals[i];
		struct apic_mmio_store s = { .len = 99 };
		int rc = apic_mmio_decode(t->bytes, t->n, t->bits, gprs, &s);
		if (rc != t->rc)
			fail_msg("%s: %d (%s), expected %d (%s)", t->what, rc, apic_mmio_decode_strerror(rc), t->rc,
				 apic_mmio_decode_strerror(t->rc));
		assert_int_equal(s.len, 99);	/* nothing written on failure */
	}
}

static void test_each_error_has_its_own_sentence(void **state)
{
	(void)state;
	const char *seen[8];
	unsigned n = 0;
	for (int e = DECODE_REGISTER_OPERAND; e <= DECODE_TRUNCATED; e++) {
		const char *s = apic_mmio_decode_strerror(e);
		assert_true(strlen(s) > 10);
		assert_string_not_equal(s, apic_mmio_decode_strerror(-99));
		for (unsigned j = 0; j < n; j++)
			assert_string_not_equal(s, seen[j]);
		seen[n++] = s;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_stores_gcc_emits_decode_with_value_and_length),
		cmocka_unit_test(test_every_prefix_and_addressing_form_decodes),
		cmocka_unit_test(test_every_truncation_of_a_valid_store_is_refused_as_truncated),
		cmocka_unit_test(test_the_loads_gcc_emits_decode_with_register_and_length),
		cmocka_unit_test(test_everything_else_is_refused_with_its_reason),
		cmocka_unit_test(test_each_error_has_its_own_sentence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
