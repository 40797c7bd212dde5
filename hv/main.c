/* main.c — kmain: from boot.S's long-mode entry to a running hypervisor.
 * Order: what the loader gave us, the console, CPU tables, memory, then VMX.
 * The composition root: it owns the debug UART and the gdb stub bound to
 * it, and registers the stub as hv/'s debugger front end (frontend.h). */
#include <stdint.h>

#include "gdbstub/gdbstub.h"

#include "platform/acpi.h"
#include "platform/machine.h"
#include "platform/bootinfo.h"
#include "platform/cmdline.h"
#include "platform/cpu.h"
#include "platform/cpu_init.h"
#include "platform/gdt.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "platform/percpu.h"
#include "platform/power.h"
#include "platform/trap.h"
#include "serial/console.h"
#include "serial/uart.h"
#include "frontend.h"
#include "hv_start.h"
#include "io_ports.h"
#include "vcpu.h"

#define VMXDBG_VERSION "0.1"

extern uint64_t boot_tsc;

static struct boot_info boot;
static struct hv_config cfg;
static struct uart console_uart;
static struct uart gdb_uart;

static void console_init(void)
{
	if (!cfg.console.enabled)
		return;
	if (uart_init(&console_uart, cfg.console.port, cfg.console.baud) == 0) {
		console_attach(&console_uart);
		io_ports_set_console(cfg.console.port);
		return;
	}
	log_to_e9 = true;	/* the only place left to say anything */
	log_warn("console: no UART answered at 0x%x (%s); logging to port 0xE9 only",
		 cfg.console.port, cfg.console.name);
}

static void debug_uart_init(void)
{
	if (!cfg.gdb.enabled) {
		log_info("gdb: no debug UART (gdb=none)");
		return;
	}
	if (cfg.console.enabled && cfg.gdb.port == cfg.console.port) {
		log_warn("gdb: %s is the console; the debugger is disabled", cfg.gdb.name);
		cfg.gdb.enabled = false;
		cfg.gdb.port = 0;	/* the console's ports stay the guest's to share */
		return;
	}
	if (uart_init(&gdb_uart, cfg.gdb.port, cfg.gdb.baud)) {
		log_warn("gdb: no UART answered at 0x%x (%s); the debugger is unavailable",
			 cfg.gdb.port, cfg.gdb.name);
		cfg.gdb.enabled = false;
		return;
	}
	log_info("gdb: debug UART %s (port 0x%x) at %u baud", cfg.gdb.name, cfg.gdb.port, cfg.gdb.baud);
}

static int uart_getc_nowait(void *ctx)
{
	struct uart *u = ctx;
	return uart_rx_ready(u) ? uart_getc(u, 0) : GDB_IO_NONE;
}

static void uart_put(void *ctx, const void *buf, size_t n)
{
	uart_write_raw(ctx, buf, n);
}

/* One stub, vcpu0's: v is always vcpu0 (its binding in wire_gdb_stub). */
static enum debug_outcome stub_serve(struct vcpu *v, const struct target_stop *why)
{
	static const enum debug_outcome outcome[] = {
		[GDB_RESUMED] = DEBUG_RESUMED, [GDB_DETACHED] = DEBUG_DETACHED, [GDB_KILLED] = DEBUG_KILLED,
	};
	(void)v;
	return outcome[gdb_serve(&gdb_stub0, why)];
}

static bool stub_poll(struct vcpu *v)
{
	(void)v;
	return gdb_poll(&gdb_stub0);
}

static void stub_exited(int code)
{
	if (gdb_exited(&gdb_stub0, code))
		uart_flush(&gdb_uart);	/* the W packet leaves before the machine stops */
}

static const struct debugger_frontend gdb_frontend = { stub_serve, stub_poll, stub_exited };

/* With a debug UART, gdb_stub0 speaks on it for vcpu0; without one nothing
 * is registered and hv/ runs with no debugger. */
static void wire_gdb_stub(void)
{
	if (!cfg.gdb.enabled)
		return;
	struct gdb_io io = { .ctx = &gdb_uart, .getc = uart_getc_nowait, .write = uart_put };
	gdb_init(&gdb_stub0, &io, &vcpus[0]);	/* copies io */
	debugger_frontend_set(&gdb_frontend);
}

static void print_warnings(void)
{
	for (unsigned i = 0; i < boot.nwarnings; i++)
		log_warn("%s", boot.warnings[i]);
	for (unsigned i = 0; i < cfg.nwarnings; i++)
		log_warn("%s", cfg.warnings[i]);
}

static void run_selftest(void)
{
	if (strcmp(cfg.selftest, "pagefault"))
		return;
	/* PML4 entry 1 is empty: 512 GiB is never mapped. */
	volatile const uint64_t *unmapped = (const uint64_t *)(uintptr_t)0x8000000000ull;
	log_info("selftest: reading unmapped address 0x%016llx", (unsigned long long)(uintptr_t)unmapped);
	(void)*unmapped;
	log_error("selftest: the read did not fault");
}

void kmain(uint32_t magic, uint32_t info_addr)
{
	int parsed = mb2_parse(magic, (const void *)(uintptr_t)info_addr, &boot);

	cmdline_defaults(&cfg);
	cmdline_parse(boot.cmdline, &cfg);
	log_threshold = cfg.loglevel;
	log_to_e9 = cfg.e9;
	stop_action = cfg.panic;

	console_init();
	log_info("vmxdbg booting: multiboot2 from \"%s\" (version " VMXDBG_VERSION ")", boot.loader);
	print_warnings();
	if (parsed)
		panic("not started by a multiboot2 boot loader (magic 0x%x)", magic);
	log_info("cmdline: \"%s\"", boot.cmdline);

	gdt_init();
	idt_init();
	cpu_init();
	percpu_init(0);
	memory_init(&boot);
	acpi_init(boot.rsdp);
	machine_report_dma();
	debug_uart_init();
	wire_gdb_stub();
	run_selftest();
	log_info("platform ready: %llu TSC ticks since GRUB hand-off",
		 (unsigned long long)(rdtsc() - boot_tsc));

	/* The configured debug UART's ports stay hidden from the guest even when
	 * no UART answered there: the guest must not find one later. */
	hv_start(&boot, &cfg);
}
