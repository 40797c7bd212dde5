/* pic_pit.c — 8259A initialization words (Intel 8259A datasheet, ICW1-4),
 * 8254 channel 0 in mode 2 and channel 2 in mode 0 (Intel 8254 datasheet). */
#include "pic_pit.h"
#include "x86.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define ICW1_INIT_ICW4	0x11	/* edge triggered, cascaded, ICW4 follows */
#define ICW4_8086	0x01
#define OCW2_EOI	0x20
#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIT_CH0_MODE2	0x34	/* channel 0, low then high byte, rate generator, binary */
#define PIT_CH2		0x42
#define PIT_CH2_MODE0	0xb0	/* channel 2, low then high byte, interrupt on terminal count, binary */
#define PIT_HZ		1193182
/* Port 0x61 (the PC's "system control port B"): bit 0 gates channel 2,
 * bit 1 sends its output to the speaker, bit 5 reads that output back. */
#define PORT_B		0x61
#define PORT_B_GATE2	0x01
#define PORT_B_SPEAKER	0x02
#define PORT_B_OUT2	0x20

void pic_init(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_VECTOR_BASE);	/* ICW2: vector base */
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 1u << 2);		/* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 2);			/* ICW3: slave identity */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	pic_mask_all();
}

void pic_unmask_only(uint8_t irq)
{
	outb(PIC1_DATA, (uint8_t)~(1u << irq));
}

void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

void pic_eoi(uint8_t irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}

void pit_start(uint32_t hz)
{
	uint32_t divisor = PIT_HZ / hz;
	outb(PIT_CMD, PIT_CH0_MODE2);
	outb(PIT_CH0, divisor & 0xff);
	outb(PIT_CH0, (divisor >> 8) & 0xff);
}

void pit_oneshot_start(uint16_t ticks)
{
	outb(PORT_B, (uint8_t)((inb(PORT_B) & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	/* Mode 0: OUT drops when the mode is written, rises when the count ends. */
	outb(PIT_CMD, PIT_CH2_MODE0);
	outb(PIT_CH2, ticks & 0xff);
	outb(PIT_CH2, ticks >> 8);
}

bool pit_oneshot_done(void)
{
	return inb(PORT_B) & PORT_B_OUT2;
}
