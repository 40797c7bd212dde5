/* monitor_lua.c — the gdb stub's `monitor` commands that reach the Lua
 * engine.  `monitor lua CHUNK` runs one line as typed.  A file is larger
 * than a packet, so the gdb helper (scripts/gdb/vmxdbg.py, `vmx lua FILE`)
 * sends it in parts that are assembled here and run as one chunk:
 *
 *   monitor lua-begin NAME     starts an upload (NAME names the chunk)
 *   monitor lua-part HEX       appends bytes, two hex digits each
 *   monitor lua-end [ARGS]     runs the whole file; ARGS are its `...`
 *
 * Hex keeps every byte (newlines, tabs, quotes, UTF-8) exactly as it was.
 * begin and part print nothing unless something is wrong; a bad part drops
 * the upload.
 *
 * It lives with the stub, not in hv/ (which names no front end) nor in
 * lua/: the stub sits above Lua in the dependency picture (gdbstub → lua →
 * hv, docs/design.md), so the stub's side calling into lhv.h is an arrow
 * that runs downward, and like the rest of gdbstub/ it is built without
 * SSE — these commands run while the guest's FPU state is still live
 * (lua/ code is built with SSE unless listed in lua.mk's LHV_NO_SSE).
 * hv/hv_start.c registers it once Lua is up. */
#include "monitor_lua.h"

#include "gdbstub.h"
#include "lua/lhv.h"
#include "platform/fmt.h"
#include "platform/log.h"

static char upload[LUA_UPLOAD_MAX + 1];
static size_t upload_len;
static char upload_name[LHV_CHUNK_NAME_MAX];	/* "@NAME" */
static bool uploading;

static void monitor_lua(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	lhv_monitor_lua(gdb_vcpu(g), args, out, ctx);
}

static void lua_begin(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	(void)g;
	if (!*args) {
		out(ctx, "usage: monitor lua-begin NAME");
		return;
	}
	ksnprintf(upload_name, sizeof(upload_name), "@%s", args);
	upload_len = 0;
	uploading = true;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Appends the bytes of hex; a sentence in err when it cannot. */
static bool append_hex(const char *hex, char *err, size_t len)
{
	for (size_t i = 0; hex[i]; i += 2) {
		int hi = hex_digit(hex[i]), lo = hi < 0 ? -1 : hex_digit(hex[i + 1]);
		if (lo < 0) {
			ksnprintf(err, len, "lua-part: not hex at character %u; the upload of %s is dropped",
				  (unsigned)i, upload_name + 1);
			return false;
		}
		if (upload_len == LUA_UPLOAD_MAX) {
			ksnprintf(err, len, "lua-part: %s is larger than %u bytes, the upload limit; "
				  "the upload is dropped", upload_name + 1, LUA_UPLOAD_MAX);
			return false;
		}
		upload[upload_len++] = (char)(hi << 4 | lo);
	}
	return true;
}

static void lua_part(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	char err[160];
	(void)g;
	if (!uploading) {
		out(ctx, "lua-part: no upload under way (monitor lua-begin NAME starts one)");
		return;
	}
	if (!append_hex(args, err, sizeof(err))) {
		uploading = false;
		out(ctx, err);
	}
}

static void lua_end(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	if (!uploading) {
		out(ctx, "lua-end: no upload under way (monitor lua-begin NAME starts one)");
		return;
	}
	uploading = false;
	upload[upload_len] = '\0';
	lhv_monitor_file(gdb_vcpu(g), upload_name, upload, upload_len, args, out, ctx);
}

static const struct {
	const char *name, *help;
	gdb_monitor_fn fn;
} commands[] = {
	{ "lua", "CHUNK  run Lua in the hypervisor (scripts/README.md)", monitor_lua },
	{ "lua-begin", "NAME  start uploading a Lua file (vmx lua FILE does it all)", lua_begin },
	{ "lua-part", "HEX  the next bytes of the file", lua_part },
	{ "lua-end", "[ARGS]  run the file; ARGS are its ...", lua_end },
};

void monitor_lua_register(void)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (gdb_monitor_register(commands[i].name, commands[i].help, commands[i].fn))
			log_warn("gdb: could not register `monitor %s`", commands[i].name);
}
