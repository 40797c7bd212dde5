/* fuzz_gdb.c — libFuzzer over the gdb stub: arbitrary bytes, as if from
 * gdb, through the packet layer and every command, against the fake
 * target (tests/unit/fake_target.c), with one to three vCPUs.  The guest is
 * stopped, resumed and stopped again for every kind of stop, on each vCPU
 * (and on one that does not exist), as the input's resumes ask.
 *
 * The monitor commands other modules register at boot are there too:
 * `lua`, `lua-begin`, `lua-part`, `lua-end` (gdbstub/monitor_lua.c), in front of
 * a stand-in for the Lua engine that checks what reaches it and echoes it
 * (tests/fuzz/fuzz_lua.c fuzzes the engine itself).
 *
 * Besides the sanitizers, the oracle is the wire: everything the stub
 * writes must be a '+', a '-', or one well-formed packet with a correct
 * checksum whose data fits PacketSize — anything else traps. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gdbstub/stub.h"
#include "gdbstub/monitor_lua.h"
#include "lua/lhv.h"
#include "platform/log.h"
#include "tests/unit/fake_target.h"

/* The engine's doors, as monitor_lua.c calls them: on the stub's vCPU; a
 * chunk is a string; a file is named "@NAME", holds len bytes and ends
 * with a NUL. */
void lhv_monitor_lua(struct vcpu *v, const char *chunk, void (*emit)(void *ctx, const char *line), void *ctx)
{
	if (!v)
		__builtin_trap();
	emit(ctx, chunk);
}

void lhv_monitor_file(struct vcpu *v, const char *name, const char *text, size_t len, const char *args,
		      void (*emit)(void *ctx, const char *line), void *ctx)
{
	if (!v || name[0] != '@' || strlen(name) >= LHV_CHUNK_NAME_MAX || len > LUA_UPLOAD_MAX || text[len])
		__builtin_trap();
	emit(ctx, name);
	emit(ctx, args);
	emit(ctx, text);
}

static void check_frame(const uint8_t *p, size_t n)
{
	if (n == 1 && (p[0] == '+' || p[0] == '-'))
		return;
	if (n < 4 || p[0] != '$' || p[n - 3] != '#' || n - 4 > GDB_PACKET_SIZE)
		__builtin_trap();
	uint8_t sum = 0;
	for (size_t i = 1; i < n - 3; i++) {
		if (p[i] == '$' || p[i] == '#')
			__builtin_trap();
		sum += p[i];
	}
	static const char hex[] = "0123456789abcdef";
	if (p[n - 2] != hex[sum >> 4] || p[n - 1] != hex[sum & 15])
		__builtin_trap();
}

static void fuzz_write(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	check_frame(buf, n);
}

static const struct target_stop stops[] = {
	{ .kind = STOP_SW_BREAKPOINT },
	{ .kind = STOP_WATCHPOINT, .addr = 0x400100, .watch_type = BP_READ },
	{ .kind = STOP_STEP },
	{ .kind = STOP_INTERRUPT },
	{ .kind = STOP_HW_BREAKPOINT },
	{ .kind = STOP_HOOK, .reason = "a hook asked" },
	{ .kind = STOP_WATCHPOINT, .addr = 0x400200, .watch_type = BP_ACCESS },
	{ .kind = STOP_GUEST_DEAD, .reason = "triple fault" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	monitor_lua_register();	/* as at boot (hv/hv_start.c) */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fake_target_reset();
	fake_set_mode((enum fake_mode)(size % 3));	/* both register views, by input */
	fake_set_vcpus(1 + size / 3 % FAKE_VCPUS);	/* one vCPU or several, by input */
	fake_line_reset();
	line.auto_ack = false;		/* the input acknowledges, or not */
	fake_line_raw(data, size);
	struct gdb_io io = fake_line_io();
	io.write = fuzz_write;
	gdb_init(&gdb_stub0, &io, &fake.vcpu);

	struct target_stop stop = { .kind = STOP_ATTACH };
	for (unsigned round = 0; line.in_pos < line.in_len; round++) {
		if (gdb_serve(&gdb_stub0, &stop) == GDB_KILLED)
			fake_target_reset();	/* the hypervisor's call: say, a reset */
		while (line.in_pos < line.in_len && !gdb_poll(&gdb_stub0))
			;
		stop = stops[round % (sizeof(stops) / sizeof(stops[0]))];
		stop.vcpu = round % (FAKE_VCPUS + 1);	/* one past the last too */
		fake.dead = stop.kind == STOP_GUEST_DEAD;
		fake.ap[0].dead = round % 5 == 4;
	}
	return 0;
}
