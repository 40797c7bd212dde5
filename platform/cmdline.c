/* cmdline.c — `console=com1 gdb=com2,115200 gdb-wait loglevel=debug ...` */
#include "cmdline.h"

#include <stdarg.h>

#include "fmt.h"
#include "kstring.h"

const char cmdline_help[] =
	"console=com1|com2|com3|com4|0xPORT|none[,BAUD]  console UART (default com1,115200)\n"
	"gdb=com1|com2|com3|com4|0xPORT|none[,BAUD]      debug UART for gdb (default com2,115200)\n"
	"gdb-wait                                        stop before the guest's first instruction until gdb attaches\n"
	"loglevel=error|warn|info|debug                  log threshold (default info)\n"
	"panic=halt|poweroff                             what a fatal error does (default halt)\n"
	"e9=on|off                                       copy the log to port 0xE9 (default on)\n"
	"trace=on|off                                    record every VM exit in the exit trace (default on)\n"
	"lua-heap=SIZE[K|M]                              Lua heap cap (default 4M, at most 16M)\n"
	"lua-budget=N                                    Lua VM instructions per hook call (default 1000000)\n"
	"lua-ticks=N                                     TSC ticks per hook call, C work included (default 200000000)\n"
	"sipi=software|native                            guest APs start at INIT/SIPI caught at the ICR (default), or\n"
	"                                                in wait-for-SIPI with INIT/SIPI exits (SDM; not Bochs 2.7)\n"
	"apic=passthrough|virtual                        the guest's local APIC: the real one (default), or a virtual-APIC\n"
	"                                                page with virtual-interrupt delivery (SDM Vol. 3C ch. 30)\n"
	"selftest=pagefault|vmentry|luastack|mtf-tf      fault on purpose to show the exception report, or\n"
	"                                                break the guest state to show the VM-entry checker,\n"
	"                                                or overrun the Lua stack into its guard pages, or\n"
	"                                                bound the MTF probe by TF+#DB, not the timer\n";

static const uint16_t com_ports[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

static void __attribute__((format(printf, 2, 3)))
warn(struct hv_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->nwarnings >= CMDLINE_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	kvsnprintf(cfg->warnings[cfg->nwarnings++], CMDLINE_WARNING_LEN, fmt, ap);
	va_end(ap);
}

static void set_com(struct serial_cfg *s, int index, uint32_t baud)
{
	s->enabled = true;
	s->port = com_ports[index];
	s->baud = baud;
	ksnprintf(s->name, sizeof(s->name), "com%d", index + 1);
}

void cmdline_defaults(struct hv_config *cfg)
{
	*cfg = (struct hv_config){ .loglevel = LOG_INFO, .panic = PANIC_HALT, .e9 = true };
	set_com(&cfg->console, 0, 115200);
	set_com(&cfg->gdb, 1, 115200);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool parse_uint(const char *s, size_t n, int base, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = lower(s[i]);
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
		if (d >= base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* Bauds the 16550's 115200/divisor can produce exactly. */
static bool valid_baud(uint64_t baud)
{
	return baud >= 50 && baud <= UINT32_MAX && 115200 % baud == 0;
}

bool cmdline_parse_serial(const char *value, struct serial_cfg *out)
{
	size_t n = 0;
	uint64_t baud = 115200, port;

	while (value[n] && value[n] != ',')
		n++;
	if (value[n] == ',' && (!parse_uint(value + n + 1, strlen(value + n + 1), 10, &baud) ||
				!valid_baud(baud)))
		return false;

	if (n == 4 && lower(value[0]) == 'n' && !strncmp(value + 1, "one", 3)) {
		*out = (struct serial_cfg){ .enabled = false };
		ksnprintf(out->name, sizeof(out->name), "none");
		return true;
	}
	if (n == 4 && lower(value[0]) == 'c' && lower(value[1]) == 'o' && lower(value[2]) == 'm' &&
	    value[3] >= '1' && value[3] <= '4') {
		set_com(out, value[3] - '1', (uint32_t)baud);
		return true;
	}
	if (n > 2 && value[0] == '0' && lower(value[1]) == 'x' &&
	    parse_uint(value + 2, n - 2, 16, &port) && port > 0 && port <= 0xfff8) {
		*out = (struct serial_cfg){ .enabled = true, .port = (uint16_t)port, .baud = (uint32_t)baud };
		ksnprintf(out->name, sizeof(out->name), "0x%x", (unsigned)port);
		return true;
	}
	return false;
}

struct option {
	const char *name;
	bool takes_value;
	bool (*apply)(struct hv_config *cfg, const char *value);
	/* What stays in force after a bad value, for the warning. */
	const char *(*current)(const struct hv_config *cfg);
};

static bool opt_console(struct hv_config *c, const char *v) { return cmdline_parse_serial(v, &c->console); }
static bool opt_gdb(struct hv_config *c, const char *v) { return cmdline_parse_serial(v, &c->gdb); }
static bool opt_gdb_wait(struct hv_config *c, const char *v) { (void)v; c->gdb_wait = true; return true; }

static bool opt_loglevel(struct hv_config *c, const char *v)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			c->loglevel = (enum log_level)i;
			return true;
		}
	return false;
}

static bool opt_panic(struct hv_config *c, const char *v)
{
	if (!strcmp(v, "halt")) c->panic = PANIC_HALT;
	else if (!strcmp(v, "poweroff")) c->panic = PANIC_POWEROFF;
	else return false;
	return true;
}

static bool opt_e9(struct hv_config *c, const char *v)
{
	if (!strcmp(v, "on")) c->e9 = true;
	else if (!strcmp(v, "off")) c->e9 = false;
	else return false;
	return true;
}

static bool opt_trace(struct hv_config *c, const char *v)
{
	if (!strcmp(v, "on")) c->trace_off = false;
	else if (!strcmp(v, "off")) c->trace_off = true;
	else return false;
	return true;
}

static bool opt_selftest(struct hv_config *c, const char *v)
{
	if (strcmp(v, "pagefault") && strcmp(v, "vmentry") && strcmp(v, "luastack") && strcmp(v, "mtf-tf"))
		return false;
	ksnprintf(c->selftest, sizeof(c->selftest), "%s", v);
	return true;
}

/* SIZE, SIZEK or SIZEM, within [min, max]. */
static bool parse_size(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t n = strlen(v);
	uint64_t mul = 1, x;
	if (n && (v[n - 1] == 'K' || v[n - 1] == 'k'))
		mul = 1024, n--;
	else if (n && (v[n - 1] == 'M' || v[n - 1] == 'm'))
		mul = 1024 * 1024, n--;
	if (!parse_uint(v, n, 10, &x) || x > max / mul || x * mul < min)
		return false;
	*out = x * mul;
	return true;
}

static bool opt_lua_heap(struct hv_config *c, const char *v) { return parse_size(v, 64 * 1024, 16 << 20, &c->lua_heap); }
static bool opt_lua_budget(struct hv_config *c, const char *v) { return parse_size(v, 1000, 1000000000, &c->lua_budget); }
static bool opt_lua_ticks(struct hv_config *c, const char *v) { return parse_size(v, 100000, 1ull << 40, &c->lua_ticks); }

static bool opt_sipi(struct hv_config *c, const char *v)
{
	if (!strcmp(v, "software")) c->sipi_native = false;
	else if (!strcmp(v, "native")) c->sipi_native = true;
	else return false;
	return true;
}

static bool opt_apic(struct hv_config *c, const char *v)
{
	if (!strcmp(v, "passthrough")) c->apic_virtual = false;
	else if (!strcmp(v, "virtual")) c->apic_virtual = true;
	else return false;
	return true;
}

static const char *cur_console(const struct hv_config *c) { return c->console.name; }
static const char *cur_gdb(const struct hv_config *c) { return c->gdb.name; }
static const char *cur_none(const struct hv_config *c) { (void)c; return "none"; }
static const char *cur_default(const struct hv_config *c) { (void)c; return "the default"; }
static const char *cur_panic(const struct hv_config *c) { return c->panic == PANIC_HALT ? "halt" : "poweroff"; }
static const char *cur_e9(const struct hv_config *c) { return c->e9 ? "on" : "off"; }
static const char *cur_trace(const struct hv_config *c) { return c->trace_off ? "off" : "on"; }
static const char *cur_sipi(const struct hv_config *c) { return c->sipi_native ? "native" : "software"; }
static const char *cur_apic(const struct hv_config *c) { return c->apic_virtual ? "virtual" : "passthrough"; }

static const char *cur_loglevel(const struct hv_config *c)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	return names[c->loglevel];
}

static const struct option options[] = {
	{ "console", true, opt_console, cur_console },
	{ "gdb", true, opt_gdb, cur_gdb },
	{ "gdb-wait", false, opt_gdb_wait, cur_none },
	{ "loglevel", true, opt_loglevel, cur_loglevel },
	{ "panic", true, opt_panic, cur_panic },
	{ "e9", true, opt_e9, cur_e9 },
	{ "trace", true, opt_trace, cur_trace },
	{ "selftest", true, opt_selftest, cur_none },
	{ "lua-heap", true, opt_lua_heap, cur_default },
	{ "lua-budget", true, opt_lua_budget, cur_default },
	{ "lua-ticks", true, opt_lua_ticks, cur_default },
	{ "sipi", true, opt_sipi, cur_sipi },
	{ "apic", true, opt_apic, cur_apic },
};

static void apply_word(struct hv_config *cfg, char *word)
{
	char *value = word;
	while (*value && *value != '=')
		value++;
	bool has_value = *value == '=';
	if (has_value)
		*value++ = '\0';

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		const struct option *o = &options[i];
		if (strcmp(word, o->name))
			continue;
		if (o->takes_value && !has_value)
			warn(cfg, "cmdline: option \"%s\" needs a value (%s=...); ignored", word, word);
		else if (!o->takes_value && has_value)
			warn(cfg, "cmdline: option \"%s\" takes no value; ignored", word);
		else if (!o->apply(cfg, value))
			warn(cfg, "cmdline: bad value \"%s\" for %s=, using %s", value, word, o->current(cfg));
		return;
	}
	warn(cfg, "cmdline: unknown option \"%s\" ignored", word);
}

void cmdline_parse(const char *cmdline, struct hv_config *cfg)
{
	char word[128];
	const char *p = cmdline ? cmdline : "";

	for (bool first = true; *p; first = false) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = 0;
		while (p[n] && p[n] != ' ' && p[n] != '\t')
			n++;
		if (n == 0)
			break;
		if (first && *p == '/') {
			/* Some loaders pass the image's path as the first word. */
		} else if (n >= sizeof(word)) {
			warn(cfg, "cmdline: option \"%.40s...\" too long; ignored", p);
		} else {
			memcpy(word, p, n);
			word[n] = '\0';
			apply_word(cfg, word);
		}
		p += n;
	}
}
