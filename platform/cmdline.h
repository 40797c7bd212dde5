/* cmdline.h — the hypervisor's command line, parsed into a config.
 * Pure: host-tested.  Every unknown or malformed option leaves a message in
 * cfg->warnings (printed once the console is up) and a documented default. */
#ifndef PLATFORM_CMDLINE_H
#define PLATFORM_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct serial_cfg {
	bool enabled;
	uint16_t port;
	uint32_t baud;
	char name[8];	/* "com1".."com4", or the port in hex */
};

enum panic_action { PANIC_HALT, PANIC_POWEROFF };

#define CMDLINE_MAX_WARNINGS 8
#define CMDLINE_WARNING_LEN 120
#define CMDLINE_SELFTEST_LEN 24

struct hv_config {
	struct serial_cfg console;	/* console=com1[,115200] */
	struct serial_cfg gdb;		/* gdb=com2[,115200] */
	bool gdb_wait;			/* gdb-wait */
	enum log_level loglevel;	/* loglevel=error|warn|info|debug */
	enum panic_action panic;	/* panic=halt|poweroff */
	bool e9;			/* e9=on|off */
	bool trace_off;			/* trace=on|off: the exit trace (hv/trace.h) */
	char selftest[CMDLINE_SELFTEST_LEN];	/* selftest=pagefault */
	uint64_t lua_heap;		/* lua-heap=4M: bytes, 0 = default */
	uint64_t lua_budget;		/* lua-budget=N: Lua instructions per call, 0 = default */
	uint64_t lua_ticks;		/* lua-ticks=N: TSC ticks per call, 0 = default */
	bool sipi_native;		/* sipi=software|native: how guest APs start */
	bool apic_virtual;		/* apic=passthrough|virtual: the guest's local APIC */
	unsigned nwarnings;
	char warnings[CMDLINE_MAX_WARNINGS][CMDLINE_WARNING_LEN];
};

void cmdline_defaults(struct hv_config *cfg);
void cmdline_parse(const char *cmdline, struct hv_config *cfg);
/* "com1".."com4" (case-insensitive), "0x2f8", "none"; ",BAUD" optional. */
bool cmdline_parse_serial(const char *value, struct serial_cfg *out);
/* One line per option, for the README and `help`. */
extern const char cmdline_help[];

#endif
