/* fuzz_lua.c — libFuzzer over the Lua bindings: arbitrary chunks, as typed
 * after `monitor lua` or sent as a file (`vmx lua`), run by the host build
 * of Lua and lua/ against the fake target of the unit tests
 * (tests/unit/test_lua_fake.h); then the exits and the power-off the input
 * names fire, so the hooks it registered run too.
 *
 * Input: byte 0 picks the door (bit 0: a file rather than a monitor chunk)
 * and, in bits 1-7, a seed for the exits (three reasons from the exit
 * reason table); the rest, up to the first NUL, is the chunk.
 *
 * One state serves FRESH_EVERY inputs in a row, as the hypervisor's one
 * state serves every script (opening one per input cost 10 ms): what an
 * input leaves behind meets the next ones, and isolation is checked after
 * each — the API and the libraries are intact for the next chunk.  Then
 * the state closes and its heap must be consistent (heap_check).  No Lua
 * error may escape a protected call (at_panic aborts).  Hooks an input
 * registered are removed after it. */
#include <stdlib.h>

/* test_lua_fake.h speaks cmocka; here a failed check is a crash. */
#define assert_true(x) do { if (!(x)) __builtin_trap(); } while (0)
#define assert_int_equal(a, b) assert_true((a) == (b))
#define assert_null(x) assert_true((x) == NULL)
#define fail_msg(...) __builtin_trap()

#include "tests/unit/test_lua_fake.h"

#define CHUNK_MAX 4096
#define FRESH_EVERY 256

static char chunk[CHUNK_MAX + 1];
static unsigned runs;

static void expect_emitted(const char *chunk_text, const char *want)
{
	emitted_len = 0;
	emitted[0] = '\0';
	lhv_monitor_lua(&vcpu0, chunk_text, emit, NULL);
	if (strcmp(emitted, want) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > CHUNK_MAX + 1)
		return -1;	/* not kept in the corpus */
	unsigned how = data[0];
	size_t len = strnlen((const char *)data + 1, size - 1);
	memcpy(chunk, data + 1, len);
	chunk[len] = '\0';

	if (runs++ % FRESH_EVERY == 0) {
		if (runs > 1)
			fake_teardown(NULL);
		fake_setup(NULL);
	}
	log_len = 0;
	fake_cpu = 0;
	selected = (how >> 1) % FAKE_VCPUS;	/* gdb may have selected any vCPU */
	if (how & 1)
		lhv_monitor_file(&vcpus[selected], "@fuzz.lua", chunk, len, "a b", emit, NULL);
	else
		lhv_monitor_lua(&vcpus[selected], chunk, emit, NULL);
	for (unsigned i = 0; i < 3; i++) {
		unsigned reason = ((how >> 1) * 7 + i * 13) % EXIT_REASON_LIMIT;
		char why[96];
		fake_cpu = i % 2;	/* the hooks run on the vCPU that exited */
		if (exit_hooked(reason))
			exit_hooks_run(&vcpus[fake_cpu], reason, why, sizeof(why));
	}
	fake_cpu = 0;
	poweroff_hook_run(&vcpu0, "fuzz");
	/* Whatever the input did, the API is still there for the next chunk. */
	expect_emitted("for _, h in ipairs(hv.hooks()) do hv.off(h.id) end", "");
	expect_emitted("type(hv.log), type(print), ('a'):upper(), #hv.hooks(), getmetatable('') ~= nil",
		       "function\tfunction\tA\t0 (0x0)\ttrue\n");
	return 0;
}
