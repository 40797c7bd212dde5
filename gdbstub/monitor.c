/* monitor.c — qRcmd, gdb's `monitor CMD`: the command arrives hex-encoded;
 * the output goes back as console packets ('O' and hex text), then OK.
 *
 * Output lines are gathered and sent as few 'O' packets as fit (each one
 * costs a round trip in ack mode).  A command that fails says why in its
 * output and still ends with OK: gdb shows an E reply to qRcmd only as
 * "Protocol error", which tells the user nothing.  E22 is kept for a
 * request that is not valid hex. */
#include "stub.h"

#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

static struct gdb_monitor_cmd extra[GDB_MONITOR_MAX];
static unsigned extra_count;

static const struct gdb_monitor_cmd *command_at(unsigned i)
{
	return i < gdb_monitor_builtin_count ? &gdb_monitor_builtins[i] : &extra[i - gdb_monitor_builtin_count];
}

static const struct gdb_monitor_cmd *find(const char *name, size_t len)
{
	for (unsigned i = 0; i < gdb_monitor_builtin_count + extra_count; i++) {
		const struct gdb_monitor_cmd *m = command_at(i);
		if (strlen(m->name) == len && strncmp(m->name, name, len) == 0)
			return m;
	}
	return NULL;
}

int gdb_monitor_register(const char *name, const char *help, gdb_monitor_fn fn)
{
	size_t len = name ? strlen(name) : 0;
	if (!fn || !len || len > GDB_MONITOR_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return -EINVAL;
	if (find(name, len))
		return -EEXIST;
	if (extra_count == GDB_MONITOR_MAX)
		return -ENOSPC;
	extra[extra_count++] = (struct gdb_monitor_cmd){ name, help ? help : "", fn };
	return 0;
}

static void flush(struct gdb_stub *g)
{
	if (!g->mon_len)
		return;
	gdb_out_reset(g);
	gdb_out_char(g, 'O');
	gdb_out_hex(g, g->mon, g->mon_len);
	gdb_send(g);
	g->mon_len = 0;
}

/* A line and its newline; a line longer than a packet goes in pieces.
 * The text of one 'O' packet is at most (PacketSize - 1) / 2 bytes. */
void gdb_monitor_emit(void *ctx, const char *line)
{
	struct gdb_stub *g = ctx;
	size_t cap = (GDB_PACKET_SIZE - 1) / 2;
	size_t n = strlen(line);

	for (size_t i = 0; i <= n; i++) {
		if (g->mon_len == cap)
			flush(g);
		g->mon[g->mon_len++] = i < n ? line[i] : '\n';
	}
}

/* A command's help is "ARGS  what it does" (two spaces apart) or just
 * "what it does": the length of ARGS, and where the rest begins. */
static size_t help_args(const char *help, const char **what)
{
	for (size_t i = 0; help[i]; i++)
		if (help[i] == ' ' && help[i + 1] == ' ') {
			for (*what = help + i; **what == ' '; (*what)++)
				;
			return i;
		}
	*what = help;
	return 0;
}

/* One line per command: "  name ARGS" in a column as wide as the widest,
 * then what it does. */
void gdb_monitor_help(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	char line[160], usage[64];
	const char *what;
	int width = 0;
	(void)g;
	(void)args;
	for (unsigned i = 0; i < gdb_monitor_builtin_count + extra_count; i++) {
		const struct gdb_monitor_cmd *m = command_at(i);
		size_t n = strlen(m->name) + help_args(m->help, &what);
		width = (int)n > width ? (int)n : width;
	}
	out(ctx, "vmxdbg monitor commands (numbers: 0x... hex, else decimal):");
	for (unsigned i = 0; i < gdb_monitor_builtin_count + extra_count; i++) {
		const struct gdb_monitor_cmd *m = command_at(i);
		int n = (int)help_args(m->help, &what);
		ksnprintf(usage, sizeof(usage), n ? "%s %.*s" : "%s", m->name, n, m->help);
		ksnprintf(line, sizeof(line), "  %-*s  %s", width + 1, usage, what);
		out(ctx, line);
	}
}

/* The command text, hex-decoded into g->scratch; no NUL inside. */
static bool decode(struct gdb_stub *g, struct gdb_cursor *c, char **text)
{
	size_t n = (size_t)(c->end - c->p) / 2;
	if ((size_t)(c->end - c->p) % 2 || n >= sizeof(g->scratch) ||
	    !gdb_take_hex_bytes(c, g->scratch, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g->scratch[i])
			return false;
	g->scratch[n] = 0;
	*text = (char *)g->scratch;
	return true;
}

void gdb_cmd_monitor(struct gdb_stub *g, struct gdb_cursor *c)
{
	char *text;

	if (!gdb_take(c, ',') || !decode(g, c, &text)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	while (*text == ' ')
		text++;
	size_t len = 0;
	while (text[len] && text[len] != ' ')
		len++;
	const char *args = text + len;
	while (*args == ' ')
		args++;
	g->mon_len = 0;
	const struct gdb_monitor_cmd *m = find(text, len);
	if (!len) {
		gdb_monitor_help(g, "", gdb_monitor_emit, g);
	} else if (m) {
		m->fn(g, args, gdb_monitor_emit, g);
	} else {
		char line[GDB_MONITOR_NAME_MAX + 64];
		ksnprintf(line, sizeof(line), "unknown monitor command '%.*s'; `monitor help` lists them",
			  len > GDB_MONITOR_NAME_MAX ? GDB_MONITOR_NAME_MAX : (int)len, text);
		gdb_monitor_emit(g, line);
	}
	flush(g);
	gdb_out_str(g, "OK");
}
