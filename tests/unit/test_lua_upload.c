/* `vmx lua FILE` from gdb: the file arrives in hex parts (`monitor
 * lua-begin NAME`, `lua-part HEX`..., `lua-end ARGS`), is assembled in the
 * hypervisor and runs as one chunk named by its file; past the upload limit,
 * or with a bad part, a sentence says why and the upload is dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "test_lua_fake.h"
#include "gdbstub/gdbstub.h"
#include "gdbstub/monitor_lua.h"

/* The commands monitor_lua_register() gives the stub. */
static struct {
	const char *name, *help;
	gdb_monitor_fn fn;
} registered[8];
static unsigned nregistered;

int gdb_monitor_register(const char *name, const char *help, gdb_monitor_fn fn)
{
	registered[nregistered++] = (typeof(registered[0])){ name, help, fn };
	return 0;
}

/* The vCPU gdb selected (the stub is NULL here). */
struct vcpu *gdb_vcpu(struct gdb_stub *g)
{
	assert_null(g);
	return &vcpus[selected];
}

/* `monitor NAME ARGS`: what it printed. */
static const char *run(const char *name, const char *args)
{
	emitted_len = 0;
	emitted[0] = '\0';
	for (unsigned i = 0; i < nregistered; i++)
		if (!strcmp(registered[i].name, name)) {
			registered[i].fn(NULL, args, emit, NULL);
			return emitted;
		}
	fail_msg("no monitor command %s", name);
	return NULL;
}

static char hex[2 * LUA_UPLOAD_MAX + 1];

/* Sends text as the gdb helper does, in parts of part bytes. */
static const char *upload(const char *name, const char *text, size_t part, const char *args)
{
	size_t len = strlen(text);
	assert_string_equal(run("lua-begin", name), "");
	for (size_t at = 0; at < len; at += part) {
		size_t n = len - at < part ? len - at : part;
		for (size_t i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", (unsigned char)text[at + i]);
		const char *out = run("lua-part", hex);
		if (*out)
			return out;
	}
	return run("lua-end", args);
}

static int setup(void **state)
{
	nregistered = 0;
	monitor_lua_register();
	return fake_setup(state);
}

static void test_a_file_in_parts_runs_as_one_chunk_with_its_arguments(void **state)
{
	(void)state;
	const char *out = upload("walk.lua", "local t = {}\n\tfor i = 1, 3 do t[i] = i end\n"
				 "print('args', ...)\nreturn #t, \"q\\\\\"", 7, "a b");
	assert_string_equal(out, "args\ta\tb\n3 (0x3)\tq\\\n");
}

static void test_a_file_larger_than_any_packet_arrives_whole(void **state)
{
	(void)state;
	static char text[20000], want[32];
	size_t n = (size_t)snprintf(text, sizeof(text), "n = 0\n");
	int lines = 0;
	for (; n < sizeof(text) - 64; lines++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "n = n + 1 -- line %d\n", lines);
	snprintf(text + n, sizeof(text) - n, "return n");
	snprintf(want, sizeof(want), "%d (0x%x)\n", lines, lines);
	assert_string_equal(upload("big.lua", text, 2000, ""), want);
}

static void test_errors_name_the_file_and_line(void **state)
{
	(void)state;
	const char *out = upload("broken.lua", "local x = 1\nerror('deliberate')\n", 2000, "");
	assert_non_null(strstr(out, "error: broken.lua:2: deliberate\n"));
	assert_non_null(strstr(out, "broken.lua:2: in main chunk"));
}

static void test_the_upload_limit_and_bad_parts_drop_the_upload_with_a_reason(void **state)
{
	(void)state;
	static char big[LUA_UPLOAD_MAX + 2];
	memset(big, '-', sizeof(big) - 1);
	assert_string_equal(upload("huge.lua", big, 4096, ""),
			    "lua-part: huge.lua is larger than 262144 bytes, the upload limit; the upload is dropped\n");
	assert_string_equal(run("lua-end", ""), "lua-end: no upload under way (monitor lua-begin NAME starts one)\n");
	run("lua-begin", "odd.lua");
	assert_string_equal(run("lua-part", "7072696e7"), "lua-part: not hex at character 8; the upload of odd.lua is dropped\n");
	assert_string_equal(run("lua-part", "00"), "lua-part: no upload under way (monitor lua-begin NAME starts one)\n");
	assert_string_equal(run("lua-begin", ""), "usage: monitor lua-begin NAME\n");
	/* A new upload starts afresh: nothing of an abandoned one is left. */
	run("lua-begin", "abandoned.lua");
	run("lua-part", "6572726f72282978");
	assert_string_equal(upload("fine.lua", "return 'fine'", 2000, ""), "fine\n");
}

static void test_monitor_lua_takes_its_line_as_typed(void **state)
{
	(void)state;
	assert_string_equal(run("lua", "'a\\\\b' .. #'\\n'"), "a\\b1\n");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_a_file_in_parts_runs_as_one_chunk_with_its_arguments),
		T(test_a_file_larger_than_any_packet_arrives_whole),
		T(test_errors_name_the_file_and_line),
		T(test_the_upload_limit_and_bad_parts_drop_the_upload_with_a_reason),
		T(test_monitor_lua_takes_its_line_as_typed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
