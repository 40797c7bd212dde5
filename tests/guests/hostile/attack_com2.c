/* attack_com2.c — COM2 (0x2f8-0x2ff) is vmxdbg's debug line to gdb.  Its
 * ports are trapped in the I/O bitmap and the guest must see no device:
 * every read 0xff, as an empty ISA bus floats (docs/design.md, "Memory and
 * isolation").  Writes that leaked through would reach gdb's stream. */
#include <stdbool.h>

#include "attacks.h"
#include "say.h"
#include "uart.h"
#include "x86.h"

#define SCRATCH_PATTERN	0xa5

void attack_com2(void)
{
	for (const char *s = "hostile-com2\n"; *s; s++)
		outb(COM2_BASE + UART_DATA, (uint8_t)*s);
	outb(COM2_BASE + UART_SCR, SCRATCH_PATTERN);

	uint8_t regs[8];
	bool all_ff = true;
	for (int i = 0; i < 8; i++) {
		regs[i] = inb((uint16_t)(COM2_BASE + i));
		all_ff &= regs[i] == 0xff;
	}
	say("com2 write", "sent \"hostile-com2\\n\" to 0x%x", COM2_BASE + UART_DATA);
	say("com2 scratch", "wrote 0x%02x, read 0x%02x", SCRATCH_PATTERN, regs[UART_SCR]);
	say("com2 lsr", "0x%02x", regs[UART_LSR]);
	say("com2 ports", "%02x %02x %02x %02x %02x %02x %02x %02x",
	    regs[0], regs[1], regs[2], regs[3], regs[4], regs[5], regs[6], regs[7]);
	say("com2", "%s", all_ff ? "no device (every port reads 0xff)" : "device visible");
}
