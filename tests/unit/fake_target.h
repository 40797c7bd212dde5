/* fake_target.h — host doubles for the gdb stub's two neighbours:
 *
 * the debug target API (hv/target.h) over in-memory state: registers and
 * the guest's mode (64-bit, compatibility or protected), an FXSAVE image,
 * 64 KiB of guest-physical memory with a hypervisor region, a few
 * guest-virtual pages, a handful of VMCS fields, a breakpoint table with
 * four hardware breakpoint slots and watchpoints of any length (as the
 * real target puts what DR0-3 cannot take on EPT), the EPT rights of each
 * page, a CPUID with VMX hidden, and resume/inject records;
 * a dead guest (triple fault, or a failed VM entry the checker judges);
 * one vCPU after reset, up to FAKE_VCPUS with fake_set_vcpus(): each AP
 * with registers, CR3, FPU state and a view of FAKE_VA_DATA of its own
 * (gpa 0x1000 + 0x4000 * index), one of them waiting for its SIPI, and
 * target_resume calls recorded per vCPU;
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

#define FAKE_MAPS 32
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

#define FAKE_VCPUS 3

/* vCPU 1 and up. */
struct fake_ap {
	struct vcpu vcpu;	/* .index and .apic_id set */
	uint64_t regs[TREG_COUNT];
	struct target_fxsave fx;
	bool waiting_sipi;
	bool dead;		/* target_resume refuses it: -EPERM */
};

/* target_resume calls for one vCPU. */
struct fake_resume {
	int calls;
	int order;		/* the call's place among all (fake.resumes before it) */
	enum target_resume_mode mode;
	int signal;
};

struct fake_target {
	struct vcpu *selected;	/* target_vcpu_select: the stub's Hg */
	struct vcpu vcpu;		/* vCPU 0: the BSP, with the fields below */
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
	unsigned ept_perms[FAKE_PHYS_SIZE / 0x1000];	/* target_ept_protect's, per page */
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
	unsigned vcpu_count;	/* target_vcpu_count() */
	struct fake_ap ap[FAKE_VCPUS - 1];
	struct fake_resume vresume[FAKE_VCPUS];	/* by vCPU index */
	int bp_vcpu;		/* the vCPU of the last target_bp_insert/remove, -1: none */
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
/* The hypervisor's log, for the hv/ files tested over the fake: the last
 * line written (empty after fake_target_reset). */
extern char fake_last_log[256];
void fake_set_mode(enum fake_mode mode);	/* EFER and GUEST_CS_ACCESS_RIGHTS */
/* n vCPUs (1..FAKE_VCPUS).  vCPU i > 0: APIC id 2*i; registers vCPU 0's
 * (as they are now) with the GPRs + 0x10000 * i, RIP FAKE_VA_DATA +
 * 0x10 + 0x20 * i, RSP 0x100 * i lower, CR3 0x1000 * i higher; vCPU 2 waits for
 * its SIPI. */
void fake_set_vcpus(unsigned n);
/* The exit trace: four fixed records (vCPU 0: TSC 1000, 3000, 4000 (open);
 * vCPU 1: 2000); the switches as set. */
extern bool fake_trace_on, fake_trace_cleared;
/* Dirty tracking: pages 0x3000, 0x4000, 0x9000 and one above RAM written;
 * start refused (no A/D flags) when fake_dirty_no_ad. */
extern bool fake_dirty_no_ad;
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
/* Hex (a console packet after its 'O', qThreadExtraInfo) as text. */
const char *fake_hex_text(const char *hex);
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
