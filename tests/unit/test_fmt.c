/* The freestanding printf engine agrees with the C library on every
 * conversion we use, and never writes past the buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "platform/fmt.h"

#define SAME(...) do { \
	char ours[128], libc[128]; \
	int a = ksnprintf(ours, sizeof(ours), __VA_ARGS__); \
	int b = snprintf(libc, sizeof(libc), __VA_ARGS__); \
	assert_string_equal(ours, libc); \
	assert_int_equal(a, b); \
} while (0)

static void test_integer_conversions_match_libc(void **state)
{
	(void)state;
	SAME("%d %i %u", -42, 7, 4000000000u);
	SAME("%x %X %o", 0xdeadbeefu, 0xabcu, 8u);
	SAME("%lld %llu %llx", (long long)INT64_MIN, (unsigned long long)UINT64_MAX, 0x123456789abcdefull);
	SAME("%ld %lu %zu %zx", -1L, 1UL, (size_t)99, (size_t)0xfff);
	SAME("%hhu %hd %hhx", 300, 70000, 0x1ff);
	SAME("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	SAME("[%016llx] [%x]", 0xabcull, 0);
	SAME("[%.3d] [%8.3d] [%.0d]", 5, -5, 0);
	SAME("[%*d] [%-*d] [%.*d]", 6, 1, 6, 1, 4, 1);
}

static void test_string_and_char_conversions_match_libc(void **state)
{
	(void)state;
	SAME("[%s] [%10s] [%-10s] [%.2s]", "abc", "abc", "abc", "abc");
	SAME("[%c] [%3c] [%-3c] %%", 'x', 'y', 'z');
}

static void test_pointers_print_in_hex(void **state)
{
	(void)state;
	char buf[64];
	ksnprintf(buf, sizeof(buf), "%p", (void *)0x1234);
	assert_string_equal(buf, "0x1234");
}

static void test_output_is_truncated_and_terminated(void **state)
{
	(void)state;
	char buf[8];
	memset(buf, 'Z', sizeof(buf));
	int n = ksnprintf(buf, 5, "%s", "abcdefgh");
	assert_int_equal(n, 8);
	assert_string_equal(buf, "abcd");
	assert_int_equal(buf[5], 'Z');
	assert_int_equal(ksnprintf(NULL, 0, "%d", 12345), 5);
}

static void test_unknown_conversions_and_a_trailing_percent_are_harmless(void **state)
{
	(void)state;
	char buf[32];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-overflow"
	ksnprintf(buf, sizeof(buf), "a%qb%");
	assert_string_equal(buf, "a%qb");
	ksnprintf(buf, sizeof(buf), "%s", (const char *)NULL);
#pragma GCC diagnostic pop
	assert_string_equal(buf, "(null)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integer_conversions_match_libc),
		cmocka_unit_test(test_string_and_char_conversions_match_libc),
		cmocka_unit_test(test_pointers_print_in_hex),
		cmocka_unit_test(test_output_is_truncated_and_terminated),
		cmocka_unit_test(test_unknown_conversions_and_a_trailing_percent_are_harmless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
