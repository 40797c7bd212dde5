/* stub.h — the stub's state and the helpers its files share.  Not for the
 * hypervisor: it includes gdbstub.h only. */
#ifndef GDBSTUB_STUB_H
#define GDBSTUB_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub.h"

/* Tunables. */
/* Data bytes of a packet either way, framing excluded; advertised as
 * PacketSize.  gdb never uses more than 16384 for memory transfers
 * (MAX_REMOTE_PACKET_SIZE in its remote.c), so 16 KiB lets one `m` carry
 * 8 KiB: a 64 KiB dump in 8 round trips (QEMU and bhyve say 4 KiB). */
#define GDB_PACKET_SIZE 16384
#define GDB_THREADS_MAX 64	/* vCPUs gdb sees (hv's VCPU_MAX); vCPU n is thread n+1 */
#define GDB_MONITOR_MAX 16	/* extra monitor commands */
#define GDB_MONITOR_NAME_MAX 15

/* Signals in stop replies (gdb's own numbering, which the protocol uses). */
#define GDB_SIGNAL_0 0
#define GDB_SIGINT 2
#define GDB_SIGILL 4
#define GDB_SIGTRAP 5
#define GDB_SIGFPE 8
#define GDB_SIGKILL 9
#define GDB_SIGSEGV 11

/* What gdb_rx_byte() saw. */
enum gdb_rx_event {
	GDB_RX_NONE,
	GDB_RX_START,	/* '$' between packets: a packet begins */
	GDB_RX_BREAK,	/* 0x03 between packets */
	GDB_RX_PACKET,	/* a whole packet in g->rx.data; rx.error says if it is usable */
};

struct gdb_rx {
	int state;
	uint8_t data[GDB_PACKET_SIZE + 1];	/* decoded; NUL after the last byte */
	size_t len;
	uint8_t sum;		/* of the raw bytes between '$' and '#' */
	uint8_t sent_sum;
	int prev;		/* the last raw byte, repeated by '*'; -1 at the start */
	bool escape, repeat;	/* a '}' or a '*' waits for its next byte */
	bool overflow, malformed;
	int error;		/* for GDB_RX_PACKET: 0, -EIO, -E2BIG, -EINVAL */
};

/* The register view `monitor arch` asks for (arch.c). */
enum gdb_arch { GDB_ARCH_AUTO, GDB_ARCH_I386, GDB_ARCH_AMD64 };

/* The guest's FPU state, read at most once per packet. */
struct gdb_fpu {
	struct target_fxsave fx, orig;
	int rc;			/* of target_fpu_read */
	bool loaded;
};

/* What one vCPU does when the guest goes (resume.c): op 0 stays stopped
 * (no action), 't' stays stopped by request, 'c' and 's' run. */
struct gdb_action {
	char op;
	int vector;		/* exception to deliver first, or -1 */
};

struct gdb_stub {
	struct gdb_io io;
	struct vcpu *v;		/* Hg: registers, memory, Z/z, monitor */
	struct vcpu *vc;	/* Hc: what `s` steps; NULL after Hc0/Hc-1 (then v) */
	struct gdb_rx rx;

	/* The reply being built. */
	char out[GDB_PACKET_SIZE + 1];
	size_t out_len;
	bool out_overflow;
	bool out_binary;	/* escaped binary data: no run-length encoding */
	bool no_reply;		/* the command answers later (resume) or never (k) */

	/* The last packet sent, framed, for retransmission on '-'. */
	uint8_t frame[GDB_PACKET_SIZE + 4];
	size_t frame_len;
	bool unacked;		/* sent in ack mode, '+' not seen yet */
	bool abandon;		/* gdb sent a new packet mid-reply: drop the rest */

	bool no_ack;		/* QStartNoAckMode in force */
	bool no_ack_next;	/* ...once gdb acknowledges our OK to it */
	bool hangup;
	bool waiting;		/* gdb resumed the guest: a stop reply is due */
	bool gdb_swbreak, gdb_hwbreak;	/* stop reasons gdb asked for in qSupported */
	bool list_threads;	/* lldb's QListThreadsInStopReply: threads: in stop replies */
	const struct gdb_view *view;	/* this connection's registers; NULL: not chosen yet */
	bool xml_read;		/* gdb has read the view's target.xml: stop replies may expedite */
	enum gdb_arch arch;		/* `monitor arch`; outlives connections */
	int outcome;		/* -1 while serving, else enum gdb_outcome */

	struct target_stop stop;	/* stop.vcpu: always a vCPU that exists */
	struct gdb_fpu fpu;
	struct gdb_action plan[GDB_THREADS_MAX];	/* by vCPU index, for one resume */
	uint8_t scratch[GDB_PACKET_SIZE / 2];	/* memory data, monitor text */
	char mon[GDB_PACKET_SIZE / 2];		/* monitor output not yet sent */
	size_t mon_len;
};

/* packet.c: the wire */
enum gdb_rx_event gdb_rx_byte(struct gdb_stub *g, int c);
bool gdb_rx_idle(const struct gdb_stub *g);	/* between packets */
void gdb_send(struct gdb_stub *g);	/* g->out as one packet; empties it */
void gdb_reset_link(struct gdb_stub *g);

/* text.c: building replies */
void gdb_out_reset(struct gdb_stub *g);
void gdb_out_char(struct gdb_stub *g, char c);
void gdb_out_str(struct gdb_stub *g, const char *s);
void gdb_out_fmt(struct gdb_stub *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gdb_out_hex(struct gdb_stub *g, const void *buf, size_t n);
void gdb_out_escaped(struct gdb_stub *g, const void *buf, size_t n);
void gdb_out_error(struct gdb_stub *g, int rc);
size_t gdb_out_room(const struct gdb_stub *g);

/* text.c: reading packets, never past end */
struct gdb_cursor {
	const char *p, *end;
};
int gdb_hexval(int c);
bool gdb_at_end(const struct gdb_cursor *c);
bool gdb_take(struct gdb_cursor *c, char ch);
bool gdb_take_str(struct gdb_cursor *c, const char *s);
bool gdb_take_hex(struct gdb_cursor *c, uint64_t *value);	/* 1-16 hex digits */
bool gdb_take_hex_bytes(struct gdb_cursor *c, uint8_t *out, size_t n);
bool gdb_take_thread(struct gdb_cursor *c, int64_t *tid);	/* hex, or -1 */
bool gdb_parse_number(const char **s, uint64_t *value);	/* monitor: 0x-hex or decimal */

/* commands.c */
void gdb_dispatch(struct gdb_stub *g);

/* threads.c: vCPU n is thread n+1 */
unsigned gdb_thread_count(void);			/* at most GDB_THREADS_MAX */
struct vcpu *gdb_thread_vcpu(int64_t tid);		/* NULL: no such thread (0 and -1 too) */
unsigned gdb_vcpu_thread(const struct vcpu *v);
struct vcpu *gdb_stopped_vcpu(struct gdb_stub *g);	/* the vCPU g->stop names */
void gdb_select_stopped(struct gdb_stub *g);		/* Hg and Hc: the vCPU that stopped */
void gdb_out_thread_list(struct gdb_stub *g);		/* "01,02,..." */
void gdb_cmd_thread_select(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_thread_alive(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_current_thread(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_first_thread(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_next_thread(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_thread_info(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_threads(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_list_threads(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_thread_stop_info(struct gdb_stub *g, struct gdb_cursor *c);

/* stop.c */
void gdb_out_stop_reply(struct gdb_stub *g, int signal);	/* of the vCPU that stopped */
void gdb_out_thread_stop(struct gdb_stub *g, struct vcpu *v, int signal);
int gdb_stop_signal(const struct target_stop *s);
void gdb_report_stop(struct gdb_stub *g);	/* console reason, then the stop reply */
void gdb_console_line(void *ctx, const char *line);	/* ctx: the stub; an `O` packet "vmxdbg: line" */

/* resume.c */
void gdb_cmd_continue(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_step(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_continue_signal(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_step_signal(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_vcont_query(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_vcont(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_detach(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_kill(struct gdb_stub *g, struct gdb_cursor *c);
int gdb_signal_to_vector(uint64_t signal);
void gdb_let_go(struct gdb_stub *g, enum gdb_outcome outcome);

/* regs.c: the register views */
enum gdb_reg_kind { GDB_REG_TARGET, GDB_REG_ST, GDB_REG_FPU_CTRL, GDB_REG_XMM, GDB_REG_MXCSR };
enum gdb_feature { GDB_FEAT_CORE, GDB_FEAT_SSE, GDB_FEAT_SEGMENTS, GDB_FEAT_SYSTEM, GDB_FEAT_COUNT };
struct gdb_reg {
	const char *name;
	uint8_t bits;		/* 32, 64, 80 or 128 */
	uint8_t kind;		/* enum gdb_reg_kind */
	uint8_t index;		/* enum target_reg, st/xmm number, or enum gdb_fpu_ctrl */
	uint8_t feature;	/* enum gdb_feature */
	const char *type;	/* gdb's type name in target.xml */
	const char *group;	/* NULL: gdb's default for the type */
};
/* A register layout gdb knows: target.xml, g/G, p/P and stop replies. */
struct gdb_view {
	const char *name;	/* "amd64", "i386": as `monitor arch` says it */
	const char *arch;	/* target.xml's <architecture> */
	const struct gdb_reg *regs;	/* by gdb's register number */
	unsigned count;
	uint8_t expedite[3];	/* frame pointer, stack pointer, PC */
};
extern const struct gdb_view gdb_view_amd64, gdb_view_i386;
#define GDB_REG_BYTES_MAX 16
size_t gdb_view_bytes(const struct gdb_view *view);	/* of a `g` reply */
int gdb_reg_get(struct gdb_stub *g, unsigned n, uint8_t *bytes);	/* n in gdb_view(g) */
int gdb_reg_set(struct gdb_stub *g, unsigned n, const uint8_t *bytes);
int gdb_fpu_flush(struct gdb_stub *g);
void gdb_fpu_forget(struct gdb_stub *g);

/* arch.c: which view a connection gets */
const struct gdb_view *gdb_view(struct gdb_stub *g);	/* chosen at the first use */
void gdb_view_forget(struct gdb_stub *g);		/* a new connection chooses again */
void gdb_monitor_arch(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx);
/* monitor_dirty.c */
void gdb_monitor_dirty(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx);
/* monitor_trace.c */
void gdb_monitor_trace(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx);

/* cmd_regs.c */
void gdb_cmd_read_regs(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_write_regs(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_read_reg(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_write_reg(struct gdb_stub *g, struct gdb_cursor *c);

/* memory.c */
void gdb_cmd_read_mem(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_write_mem(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_write_mem_binary(struct gdb_stub *g, struct gdb_cursor *c);

/* breakpoints.c */
void gdb_cmd_insert_bp(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_remove_bp(struct gdb_stub *g, struct gdb_cursor *c);

/* serve.c */
void gdb_new_debugger(struct gdb_stub *g);	/* a debugger connects: nothing of the last one stays */

/* query.c */
void gdb_cmd_supported(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_no_ack(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_attached(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_cmd_features(struct gdb_stub *g, struct gdb_cursor *c);
/* qXfer reads of one document: "annex:offset,length" */
void gdb_xfer(struct gdb_stub *g, struct gdb_cursor *c, const char *annex, const char *doc, size_t size);

/* target_xml.c */
const char *gdb_target_xml(const struct gdb_view *view, size_t *len);	/* NULL if it did not fit */

/* monitor.c */
void gdb_cmd_monitor(struct gdb_stub *g, struct gdb_cursor *c);
void gdb_monitor_emit(void *ctx, const char *line);	/* ctx: the stub */
void gdb_monitor_help(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx);
/* monitor_bp.c */
void gdb_monitor_bp_mode(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx);
/* monitor_cmds.c: the built-in commands */
struct gdb_monitor_cmd {
	const char *name, *help;
	gdb_monitor_fn fn;
};
extern const struct gdb_monitor_cmd gdb_monitor_builtins[];
extern const unsigned gdb_monitor_builtin_count;

#endif
