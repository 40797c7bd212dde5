/* poweroff.c — the emulators' "stop now" ports, then halt for good. */
#include "poweroff.h"
#include "uart.h"
#include "x86.h"

#define BOCHS_SHUTDOWN_PORT	0x8900	/* Bochs: the bytes of "Shutdown" end the simulation */
#define QEMU_DEBUG_EXIT_PORT	0xf4	/* QEMU -device isa-debug-exit,iobase=0xf4 */

void poweroff(uint8_t status)
{
	uart_flush();
	for (const char *s = "Shutdown"; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
	outb(QEMU_DEBUG_EXIT_PORT, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}
