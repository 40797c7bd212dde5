/* exit_io.c — I/O instructions to the ports the I/O bitmaps trap (SDM Vol.
 * 3C §25.6.4): the debug UART, which the guest must not see (reads float to
 * 0xFF as on an empty ISA bus, writes vanish), the console UART's data port,
 * whose accesses all reach the UART (the hypervisor only watches the guest's
 * bytes to keep lines whole: serial/console_lines.h), the emulators' shutdown
 * ports and the ACPI PM1a control register, which end the run cleanly when
 * the guest powers off. */
#include "debugger.h"
#include "exits.h"
#include "hooks.h"
#include "io_ports.h"
#include "platform/cpu.h"
#include "platform/log.h"
#include "platform/power.h"
#include "serial/console.h"
#include "target.h"
#include "vmx.h"

/* Exit qualification for I/O instructions (SDM Table 28-5). */
#define IOQ_SIZE(q) (((q) & 7) + 1)
#define IOQ_IN(q) (((q) >> 3) & 1)
#define IOQ_STRING(q) (((q) >> 4) & 1)
#define IOQ_REP(q) (((q) >> 5) & 1)
#define IOQ_PORT(q) ((uint16_t)((q) >> 16))

#define RFLAGS_DF (1ull << 10)

/* PM1a_CNT (ACPI 6.4 §4.8.2.2.1): SLP_TYPx bits 12:10, SLP_EN bit 13. */
#define PM1_SLP_TYP(cnt) (((cnt) >> 10) & 7u)
#define PM1_SLP_EN (1u << 13)

static uint16_t debug_uart_base, console_data;
static bool debug_uart_reported;
static unsigned shutdown_match;
static uint16_t pm1a_port, pm1a_s5;

void io_ports_set_debug_uart(uint16_t base) { debug_uart_base = base; }
void io_ports_set_console(uint16_t base) { console_data = base; }
uint16_t io_ports_console_data(void) { return console_data; }

void io_ports_set_acpi_pm1a(uint16_t port, uint16_t slp_typ_s5)
{
	pm1a_port = port;
	pm1a_s5 = slp_typ_s5;
}

/* Whether [port, port+size) touches the two bytes of PM1a_CNT. */
static bool touches_pm1a(uint16_t port, unsigned size)
{
	return pm1a_port && port < pm1a_port + 2 && port + size > pm1a_port;
}

bool io_port_is_debug_uart(uint16_t port)
{
	return debug_uart_base && port >= debug_uart_base && port < debug_uart_base + 8;
}

static uint64_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
}

/* IN of all ones: a 32-bit IN zero-extends into RAX, narrower ones merge. */
static void in_all_ones(struct vcpu *v, unsigned size)
{
	v->gprs->rax = size == 4 ? 0xffffffffull : v->gprs->rax | size_mask(size);
}

/* String I/O on a trapped port: consume the count and move RSI/RDI as the
 * instruction would; INS stores 0xFF bytes (the floating bus). */
static void skip_string_io(struct vcpu *v, uint64_t q)
{
	struct guest_gprs *g = v->gprs;
	uint64_t count = IOQ_REP(q) ? g->rcx : 1;
	int64_t step = (vmread(GUEST_RFLAGS) & RFLAGS_DF) ? -1 : 1;
	int64_t delta = step * (int64_t)(count * IOQ_SIZE(q));

	if (IOQ_IN(q))
		g->rdi += delta;
	else
		g->rsi += delta;
	if (IOQ_REP(q))
		g->rcx = 0;
}

static enum exit_action debug_uart_access(struct vcpu *v, uint64_t q)
{
	if (!debug_uart_reported) {
		debug_uart_reported = true;
		log_info("guest: %s port 0x%x of the debug UART: hidden (reads 0xFF, writes dropped)",
			 IOQ_IN(q) ? "read from" : "write to", IOQ_PORT(q));
	}
	if (IOQ_STRING(q))
		skip_string_io(v, q);
	else if (IOQ_IN(q))
		in_all_ones(v, IOQ_SIZE(q));
	return EXIT_ADVANCE;
}

static uint32_t console_in(unsigned size)
{
	return size == 1 ? inb(console_data) : size == 2 ? inw(console_data) : inl(console_data);
}

static void console_out(unsigned size, uint32_t value)
{
	if (size == 1)
		console_guest_out((uint8_t)value);
	else if (size == 2)
		outw(console_data, (uint16_t)value);
	else
		outl(console_data, value);
}

/* INS/OUTS on the console's data port, element by element through the
 * guest's paging from the linear address the exit saved (SDM §28.2.1). */
static void console_string_io(struct vcpu *v, uint64_t q)
{
	unsigned size = IOQ_SIZE(q);
	uint64_t count = IOQ_REP(q) ? v->gprs->rcx : 1, la = vmread(GUEST_LINEAR_ADDRESS);
	int64_t step = (vmread(GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;

	for (uint64_t i = 0; i < count; i++, la += (uint64_t)step) {
		uint32_t value = 0;
		if (IOQ_IN(q)) {
			value = console_in(size);
			target_write_virt(v, la, &value, size);
		} else if (target_read_virt(v, la, &value, size) == 0) {
			console_out(size, value);
		}
	}
	skip_string_io(v, q);
}

/* The console's data port: every access reaches the UART as the guest made
 * it; a byte written goes through the console's line keeping. */
static enum exit_action console_data_access(struct vcpu *v, uint64_t q)
{
	unsigned size = IOQ_SIZE(q);

	if (IOQ_STRING(q))
		console_string_io(v, q);
	else if (IOQ_IN(q))
		v->gprs->rax = size == 4 ? console_in(size) :
			       (v->gprs->rax & ~size_mask(size)) | console_in(size);
	else
		console_out(size, (uint32_t)(v->gprs->rax & size_mask(size)));
	return EXIT_ADVANCE;
}

extern uint64_t hv_launch_tsc;

/* The guest powered the machine off: say how, with the TSC (under Bochs'
 * `clock: sync=none`, instructions since power-on), and end the run. */
static __attribute__((noreturn)) void powered_off(struct vcpu *v, const char *how)
{
	uint64_t now = rdtsc();
	log_info("guest: powered off (%s) at TSC %llu, %llu after launch", how, (unsigned long long)now,
		 (unsigned long long)(now - hv_launch_tsc));
	poweroff_hook_run(v, how);
	exit_counts_log(v);
	debugger_guest_exited(0);
	power_off();
}

/* Bochs powers off when "Shutdown" is written byte by byte to port 0x8900. */
static enum exit_action bochs_shutdown_port(struct vcpu *v, uint8_t byte)
{
	static const char word[] = "Shutdown";
	shutdown_match = byte == (uint8_t)word[shutdown_match] ? shutdown_match + 1 :
			 byte == (uint8_t)word[0] ? 1 : 0;
	if (shutdown_match < sizeof(word) - 1)
		return EXIT_ADVANCE;
	powered_off(v, "Bochs shutdown port 0x8900");
}

/* The guest's ACPI power-off (SLP_EN with S5's sleep type) ends the run
 * with a report, as the machine would have ended it; any other access is
 * done on the real register, which stays the guest's. */
static enum exit_action acpi_pm1a_access(struct vcpu *v, uint64_t q)
{
	uint16_t port = IOQ_PORT(q), cnt = 0;
	unsigned size = IOQ_SIZE(q);
	uint32_t value = (uint32_t)(v->gprs->rax & size_mask(size));

	if (IOQ_IN(q)) {
		value = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
		v->gprs->rax = size == 4 ? value : (v->gprs->rax & ~size_mask(size)) | value;
		return EXIT_ADVANCE;
	}
	for (unsigned i = 0; i < size; i++)
		if ((uint16_t)(port + i - pm1a_port) < 2)
			cnt |= (uint16_t)(((value >> (8 * i)) & 0xff) << (8 * (port + i - pm1a_port)));
	if ((cnt & PM1_SLP_EN) && PM1_SLP_TYP(cnt) == pm1a_s5)
		powered_off(v, "ACPI S5");
	if (size == 1)
		outb(port, (uint8_t)value);
	else if (size == 2)
		outw(port, (uint16_t)value);
	else
		outl(port, value);
	return EXIT_ADVANCE;
}

enum exit_action exit_io(struct vcpu *v)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);
	uint16_t port = IOQ_PORT(q);

	if (io_port_is_debug_uart(port))
		return debug_uart_access(v, q);
	if (port == console_data && console_data)
		return console_data_access(v, q);
	if (touches_pm1a(port, IOQ_SIZE(q)) && !IOQ_STRING(q))
		return acpi_pm1a_access(v, q);
	if (IOQ_STRING(q)) {
		skip_string_io(v, q);
		return EXIT_ADVANCE;
	}
	if (port == IO_PORT_BOCHS_SHUTDOWN && !IOQ_IN(q))
		return bochs_shutdown_port(v, (uint8_t)v->gprs->rax);
	if (port == IO_PORT_QEMU_DEBUG_EXIT && !IOQ_IN(q)) {
		log_info("guest: powered off (QEMU debug-exit port 0xf4, value 0x%llx)",
			 (unsigned long long)(v->gprs->rax & size_mask(IOQ_SIZE(q))));
		poweroff_hook_run(v, "QEMU debug-exit port 0xf4");
		exit_counts_log(v);
		debugger_guest_exited((int)(v->gprs->rax & 0xff));
		power_off();
	}
	if (IOQ_IN(q))
		in_all_ones(v, IOQ_SIZE(q));
	return EXIT_ADVANCE;
}
