/* monitor_cmds.c — the built-in `monitor` commands: windows onto what only
 * the hypervisor sees (VMCS, VMX capabilities, exit counts, EPT, guest-
 * physical memory), about the vCPU gdb selected (`thread N`).  The reports themselves are the target's; these parse
 * arguments and say what went wrong in a sentence. */
#include "stub.h"

#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

#define PHYS_MAX 4096	/* bytes per `monitor phys`: 256 lines */

static void skip_spaces(const char **s)
{
	while (**s == ' ')
		(*s)++;
}

/* A number, then spaces; false if there is none. */
static bool take_number(const char **s, uint64_t *v)
{
	if (!gdb_parse_number(s, v) || (**s && **s != ' '))
		return false;
	skip_spaces(s);
	return true;
}

/* One word (a VMCS field name or number) into buf. */
static bool take_word(const char **s, char *buf, size_t size)
{
	size_t n = 0;
	while ((*s)[n] && (*s)[n] != ' ')
		n++;
	if (!n || n >= size)
		return false;
	memcpy(buf, *s, n);
	buf[n] = 0;
	*s += n;
	skip_spaces(s);
	return true;
}

static void cmd_vmcs(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	char field[64], err[320], line[400];
	uint64_t value;
	(void)g;

	if (!*args) {
		target_report_vmcs(out, ctx);
		return;
	}
	if (!take_word(&args, field, sizeof(field))) {
		out(ctx, "usage: monitor vmcs [FIELD [VALUE]]");
		return;
	}
	err[0] = 0;
	if (!*args) {
		if (target_vmcs_read(field, &value, err, sizeof(err)) == 0)
			ksnprintf(line, sizeof(line), "%s = 0x%llx", field, (unsigned long long)value);
		else
			ksnprintf(line, sizeof(line), "vmcs: %s", err);
	} else if (!take_number(&args, &value) || *args) {
		ksnprintf(line, sizeof(line), "vmcs: '%s' is not a number", args);
	} else if (target_vmcs_write(field, value, err, sizeof(err)) == 0) {
		ksnprintf(line, sizeof(line), "%s <- 0x%llx", field, (unsigned long long)value);
	} else {
		ksnprintf(line, sizeof(line), "vmcs: %s", err);
	}
	out(ctx, line);
}

static void cmd_caps(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	(void)g;
	(void)args;
	target_report_caps(out, ctx);
}

/* The selected vCPU's counts by reason, then the sum over all. */
static void cmd_exits(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	char line[48];
	(void)args;
	ksnprintf(line, sizeof(line), "vCPU %u (thread %u):", target_vcpu_index(g->v), gdb_vcpu_thread(g->v));
	out(ctx, line);
	target_report_exits(g->v, out, ctx);
	target_report_exits_total(out, ctx);
}

static void cmd_info(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	(void)args;
	target_report_info(g->v, out, ctx);
}

static void cmd_ept(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	uint64_t gpa;
	if (!take_number(&args, &gpa) || *args) {
		out(ctx, "usage: monitor ept GPA");
		return;
	}
	target_report_ept(g->v, gpa, out, ctx);
}

static void cmd_exit(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	if (*args) {
		out(ctx, "usage: monitor exit");
		return;
	}
	target_report_exit(g->v, out, ctx);
}

static void cmd_why(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	if (*args) {
		out(ctx, "usage: monitor why");
		return;
	}
	target_report_why(g->v, out, ctx);
}

static const char *errno_words(int rc)
{
	switch (rc) {
	case -EFAULT: return "not guest memory";
	case -EPERM: return "the hypervisor's memory";
	default: return "unreadable";
	}
}

/* 16 bytes a line: address, hex bytes, printable ASCII. */
static void dump_line(uint64_t addr, const uint8_t *b, size_t n, target_emit_fn out, void *ctx)
{
	char line[96];
	int at = ksnprintf(line, sizeof(line), "%016llx:", (unsigned long long)addr);
	for (size_t i = 0; i < 16; i++)
		at += i < n ? ksnprintf(line + at, sizeof(line) - at, " %02x", b[i])
			    : ksnprintf(line + at, sizeof(line) - at, "   ");
	at += ksnprintf(line + at, sizeof(line) - at, "  ");
	for (size_t i = 0; i < n; i++)
		line[at++] = b[i] >= ' ' && b[i] < 0x7f ? (char)b[i] : '.';
	line[at] = 0;
	out(ctx, line);
}

static void cmd_phys(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	uint64_t addr, len;
	uint8_t b[16];
	char line[128];
	(void)g;

	if (!take_number(&args, &addr) || !take_number(&args, &len) || *args || !len) {
		out(ctx, "usage: monitor phys ADDR LEN");
		return;
	}
	if (len > PHYS_MAX) {
		ksnprintf(line, sizeof(line), "phys: at most %u bytes at a time", PHYS_MAX);
		out(ctx, line);
		return;
	}
	for (uint64_t done = 0; done < len; done += 16) {
		size_t n = len - done < 16 ? (size_t)(len - done) : 16;
		uint64_t at = addr + done;
		int rc = at < addr || at + n < at ? -EFAULT : target_read_phys(at, b, n);
		if (rc) {
			ksnprintf(line, sizeof(line), "phys: 0x%llx: %s (E%02d)",
				  (unsigned long long)(addr + done), errno_words(rc), -rc);
			out(ctx, line);
			return;
		}
		dump_line(addr + done, b, n, out, ctx);
	}
}

const struct gdb_monitor_cmd gdb_monitor_builtins[] = {
	{ "help", "this list", gdb_monitor_help },
	{ "vmcs", "[FIELD [VALUE]]  the decoded VMCS, or read/write one field", cmd_vmcs },
	{ "caps", "the VMX capabilities of this CPU", cmd_caps },
	{ "exits", "VM exits so far, by reason (the selected vCPU), and in total", cmd_exits },
	{ "ept", "GPA  the EPT walk of a guest-physical address, entry by entry", cmd_ept },
	{ "exit", "the last VM exit of the selected vCPU, decoded", cmd_exit },
	{ "why", "the VM-entry checker's verdict on the selected vCPU's VMCS", cmd_why },
	{ "phys", "ADDR LEN  hex dump of guest-physical memory", cmd_phys },
	{ "info", "guest memory, paging mode, stepping method", cmd_info },
	{ "trace", "[N [csv] [VCPU]|clear|on|off]  the exit trace: the newest N exits, oldest first",
	  gdb_monitor_trace },
	{ "dirty", "start [scan]|stop|list  guest-physical pages the guest wrote in an interval",
	  gdb_monitor_dirty },
	{ "arch", "[i386|amd64|auto]  gdb's register view (auto: i386 unless in 64-bit mode)",
	  gdb_monitor_arch },
	{ "bp-mode", "[int3|stealth]  how `break` is made: int3 in memory, or hidden by EPT views",
	  gdb_monitor_bp_mode },
};
const unsigned gdb_monitor_builtin_count =
	sizeof(gdb_monitor_builtins) / sizeof(gdb_monitor_builtins[0]);
