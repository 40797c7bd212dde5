/* task_switch.h — hardware task switching, emulated for a guest whose task
 * switches exit (SDM Vol. 3C §27.1.2: every task switch in VMX non-root
 * operation exits; Vol. 3A §8.3 "Task Switching" says what the CPU would
 * have done).  Pure: the CPU state comes in a struct and guest memory
 * through callbacks, so tests/unit/test_task_switch.c runs it against a fake
 * GDT and TSSs.  32-bit TSSs only; 16-bit TSSs and virtual-8086 tasks are
 * refused with a reason. */
#ifndef HV_TASK_SWITCH_H
#define HV_TASK_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A segment register as the VMCS holds it: access rights in the VMX format
 * (SDM Vol. 3C §25.4.1 Table 25-2: descriptor bits 47:40 in 7:0, 55:52 in
 * 15:12, bit 16 "unusable"), limit in bytes. */
struct ts_seg {
	uint16_t sel;
	uint32_t base, limit, ar;
};

enum { TS_ES, TS_CS, TS_SS, TS_DS, TS_FS, TS_GS, TS_NSEG };

struct ts_cpu {
	uint32_t gpr[8];		/* EAX ECX EDX EBX ESP EBP ESI EDI */
	uint32_t eip, eflags;
	struct ts_seg seg[TS_NSEG], ldtr, tr;
	uint32_t gdtr_base, gdtr_limit;
	uint32_t cr0, cr3;
};

/* Linear-address accesses, translated with the paging state in the cpu the
 * switch is working on (its CR3 changes half way); 0 or negative. */
struct ts_mem {
	void *ctx;
	int (*read)(void *ctx, const struct ts_cpu *c, uint32_t linear, void *buf, size_t len);
	int (*write)(void *ctx, const struct ts_cpu *c, uint32_t linear, const void *buf, size_t len);
};

/* The source bits 31:30 of the TASK_SWITCH exit qualification (SDM Vol. 3C
 * §28.2.1 Table 28-2). */
enum ts_source { TS_SRC_CALL = 0, TS_SRC_IRET = 1, TS_SRC_JMP = 2, TS_SRC_GATE = 3 };

struct ts_request {
	uint16_t sel;			/* the new TSS selector */
	enum ts_source source;
	uint32_t next_eip;		/* the EIP the old TSS keeps */
	bool external;			/* a hardware event: fault error codes set EXT (bit 0) */
	bool push_error;		/* an exception's error code, onto the new task's stack */
	uint32_t error;
};

enum ts_outcome {
	TS_DONE,	/* *c is the new task's state */
	TS_FAULT,	/* raise fault_vector(fault_error) in the state *c now holds */
	TS_REFUSED,	/* not emulated, or guest memory unreachable: why says so */
};

struct ts_result {
	enum ts_outcome outcome;
	unsigned fault_vector;
	uint32_t fault_error;
	bool cr3_loaded;		/* the new task's CR3 is in *c */
	const char *why;		/* at most 50 characters: it ends a stop reason */
};

#define TS_VEC_TS 10
#define TS_VEC_NP 11
#define TS_VEC_SS 12
#define TS_VEC_GP 13

/* Decodes a raw 8-byte segment descriptor into the VMX form. */
void ts_desc_decode(uint64_t raw, uint16_t sel, struct ts_seg *out);

/* Reads the descriptor sel names from the GDT or the LDT in *c; -ERANGE
 * when it is past the table's limit, else 0 or the read's error. */
int ts_desc_read(const struct ts_cpu *c, const struct ts_mem *m, uint16_t sel, uint64_t *raw);

/* Performs the switch; see enum ts_outcome. */
void task_switch(struct ts_cpu *c, const struct ts_request *r, const struct ts_mem *m, struct ts_result *out);

#endif
