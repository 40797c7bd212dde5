/* fake_target.h — host doubles for the gdb stub's two neighbours:
 *
 * the debug target API (hv/target.h) over in-memory state: registers and
 * the guest's mode (64-bit, compatibility or protected), an FXSAVE image,
 * 64 KiB of guest-physical memory with a hypervisor region, a few
 * guest-virtual pages, a handful of VMCS fields, a breakpoint table with
 * four hardware slots, a CPUID with VMX hidden, and resume/inject records;
 * a dead guest (triple fault, or a failed VM entry the checker judges);
 *
 * the debug line (struct gdb_io) as a script: bytes gdb would send, the
 * bytes the stub wrote, and a reader that checks and decodes the stub's
 * packets.  At the end of the script getc returns line.at_end (hang-up by
 * default), or jumps back to the test when line.idle is set. */
#ifndef TESTS_UNIT_FAKE_TARGET_H
#define TESTS_UNIT_FAKE_TARGET_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub/gdbstub.h"

/* Guest-physical memory: [0, 64 KiB); the hypervisor owns [0xe000, 0x10000). */
#define FAKE_PHYS_SIZE 0x10000u
#define FAKE_HV_START 0xe000u
#define FAKE_HV_END 0x10000u

/* Guest-virtual pages mapped by fake_target_reset(): */
#define FAKE_VA_DATA 0x400000ull	/* two pages -> gpa 0x1000, 0x2000 */
#define FAKE_VA_KERNEL 0xffffffff80000000ull	/* one page -> gpa 0x3000 */
#define FAKE_VA_HV 0x600000ull		/* one page -> gpa 0xe000, the hypervisor's */
#define FAKE_VA_UNMAPPED 0x800000ull

#define FAKE_MAPS 16
#define FAKE_BPS 64
#define FAKE_HW_SLOTS 4
#define FAKE_VMCS_FIELDS 8

struct fake_bp {
	bool used;
	enum target_bp_type type;
	uint64_t addr;
	unsigned len;
};

struct fake_vmcs_field {
	const char *name;
	uint32_t encoding;
	uint64_t value;
	bool read_only;		/* VM-exit information */
	bool hypervisor;	/* refused like EPT_POINTER */
};

struct fake_target {
	struct vcpu vcpu;
	uint64_t regs[TREG_COUNT];
	int reg_read_error[TREG_COUNT];	/* nonzero: target_reg_read fails so */
	int reg_writes;
	struct target_fxsave fx;
	int fpu_read_error;
	int fpu_writes;
	uint8_t phys[FAKE_PHYS_SIZE];
	struct {
		uint64_t gva, gpa;
	} maps[FAKE_MAPS];
	unsigned map_count;
	struct fake_bp bps[FAKE_BPS];
	unsigned bp_clear_calls;
	int resumes;
	enum target_resume_mode resume_mode;
	int resume_signal;
	bool dead;
	bool entry_failed;	/* dead by a failed VM entry: resumable once fixed */
	int broken_rules;	/* what the entry checker finds now */
	int rechecks;		/* times the checker ran for a resume */
	enum target_image image;	/* what the guest was loaded from */
	struct fake_vmcs_field vmcs[FAKE_VMCS_FIELDS];
	unsigned vmcs_report_lines;	/* target_report_vmcs emits this many */
	int injected_vector;
};
extern struct fake_target fake;

/* fake_target_reset() leaves the guest in 64-bit mode, where the stub
 * gives gdb the amd64 view; the other two get the i386 view. */
enum fake_mode {
	FAKE_MODE_64BIT,	/* EFER.LMA=1, CS.L=1 */
	FAKE_MODE_COMPAT,	/* EFER.LMA=1, CS.L=0: 32-bit code under a 64-bit OS */
	FAKE_MODE_PROTECTED,	/* EFER.LMA=0: 32-bit protected mode */
};

void fake_target_reset(void);
void fake_set_mode(enum fake_mode mode);	/* EFER and GUEST_CS_ACCESS_RIGHTS */
unsigned fake_bp_count(enum target_bp_type type);
struct fake_bp *fake_bp_find(enum target_bp_type type, uint64_t addr);

#define FAKE_LINE_IN (1u << 18)
#define FAKE_LINE_OUT (1u << 20)

struct fake_line {
	uint8_t in[FAKE_LINE_IN];
	size_t in_len, in_pos;
	uint8_t out[FAKE_LINE_OUT];
	size_t out_len, out_pos;
	int at_end;		/* getc at the end of the script: GDB_IO_HANGUP or GDB_IO_NONE */
	jmp_buf *idle;		/* if set, getc at the end longjmps here instead */
	bool auto_ack;		/* answer each packet of the stub with '+', as gdb does */
	bool no_ack_asked;	/* QStartNoAckMode sent: gdb acks the OK, then stops acking */
	bool gdb_no_ack;	/* ...and now it does not ack (until a '+' opens a new gdb) */
	bool none_between;	/* getc says GDB_IO_NONE before every byte (a slow line) */
	bool none_toggle;
	unsigned acks, naks;	/* '+' and '-' the stub sent, counted by fake_line_next */
};
extern struct fake_line line;

void fake_line_reset(void);
struct gdb_io fake_line_io(void);
void fake_line_raw(const void *bytes, size_t n);
void fake_line_str(const char *s);		/* raw, as written */
void fake_line_packet(const char *data);	/* $data#cs */
void fake_line_packet_bytes(const void *data, size_t n);
/* The next packet the stub sent, checksum verified (fails the test if not),
 * runs expanded; NULL when there is none.  *len gets its length if asked.
 * '+' and '-' before it are counted in line.acks / line.naks. */
const char *fake_line_next(size_t *len);
/* The stub's output not yet read by fake_line_next, as a string. */
const char *fake_line_rest(void);
/* "$data#cs", as the stub should frame data (no run-length encoding). */
const char *fake_frame(const char *data);

/* gdb_serve(g, why) until it returns (the outcome) or the script is used
 * up (FAKE_IDLE: the stub is left waiting for more, as on a quiet line). */
#define FAKE_IDLE (-1)
int fake_serve(struct gdb_stub *g, const struct target_stop *why);

/* For cmocka's setup: fresh fake target and line, gdb_stub0 bound to them. */
int fake_setup(void **state);
/* The same, then gdb reads target.xml, as it does before it asks `?`: from
 * then on stop replies expedite registers. */
#define FAKE_XML "qXfer:features:read:target.xml:0,ffff"
int fake_setup_agreed(void **state);
/* Sends one packet to gdb_stub0, serves it (stopped for STOP_ATTACH) and
 * returns the first reply, or NULL if there was none. */
const char *fake_ask(const char *packet);

#endif
