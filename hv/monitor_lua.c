/* monitor_lua.c — `monitor lua CHUNK` joins the gdb stub to the Lua engine.
 * gdb's `monitor` sends one line, so the gdb helper (scripts/gdb/vmxdbg.py)
 * escapes a file's newlines as "\n" and backslashes as "\\"; they are read
 * back here before the chunk runs. */
#include "monitor_lua.h"

#include "gdbstub/gdbstub.h"
#include "lua/lhv.h"
#include "platform/log.h"

#define MAX_CHUNK 16384

static char chunk[MAX_CHUNK];

static void unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && n + 1 < cap; in++) {
		if (in[0] == '\\' && in[1] == 'n') {
			out[n++] = '\n';
			in++;
		} else if (in[0] == '\\' && in[1] == '\\') {
			out[n++] = '\\';
			in++;
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

static void monitor_lua(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	(void)g;
	unescape(args, chunk, sizeof(chunk));
	lhv_monitor_lua(chunk, out, ctx);
}

void monitor_lua_register(void)
{
	if (gdb_monitor_register("lua", "lua CHUNK   run Lua in the hypervisor (scripts/README.md)", monitor_lua))
		log_warn("gdb: could not register `monitor lua`");
}
