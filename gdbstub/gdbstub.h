/* gdbstub.h — the GDB remote serial protocol stub, as the hypervisor drives
 * it.  The stub sees the guest only through hv's debug target API
 * (hv/target.h) and the line only through struct gdb_io, so the same code
 * runs in the image and in the host unit tests and fuzzer.
 *
 * Life cycle: gdb_init() once; gdb_poll() on preemption-timer exits while
 * the guest runs; gdb_serve() whenever the guest stops for the debugger. */
#ifndef GDBSTUB_GDBSTUB_H
#define GDBSTUB_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>

#include "hv/target.h"

/* What getc returns when there is no byte. */
#define GDB_IO_NONE (-1)	/* nothing waiting now: poll again */
#define GDB_IO_HANGUP (-2)	/* the line is gone (carrier lost, socket closed,
				 * end of a test script): gdb_serve detaches */

struct gdb_io {
	void *ctx;
	int (*getc)(void *ctx);		/* next byte, GDB_IO_NONE or GDB_IO_HANGUP; never blocks */
	void (*write)(void *ctx, const void *buf, size_t n);
};

struct gdb_stub;
extern struct gdb_stub gdb_stub0;	/* the stub of the debug UART: every vCPU, as threads (hv/main.c binds it) */

/* Resets every protocol state (ack mode, pending stop reply) and binds the
 * line; v is the vCPU selected until the first stop names one.  *io is
 * copied. */
void gdb_init(struct gdb_stub *g, const struct gdb_io *io, struct vcpu *v);

enum gdb_outcome {
	GDB_RESUMED,	/* target_resume() was called: run the guest */
	GDB_DETACHED,	/* breakpoints cleared and target_resume() called (D, or the line hung up) */
	GDB_KILLED,	/* `k`: breakpoints cleared; what a kill means is the hypervisor's call */
};

/* The guest stopped (every vCPU: all-stop); why->vcpu is the vCPU that
 * stopped, which gdb then sees selected.  Sends the stop reply if gdb is waiting for one (it
 * resumed the guest earlier), then reads and answers packets, busy-polling
 * getc, until gdb resumes the guest, detaches or kills it.  A resume the
 * target refuses (dead guest) is answered with the stop reply at once and
 * the loop goes on. */
enum gdb_outcome gdb_serve(struct gdb_stub *g, const struct target_stop *why);

/* The guest runs; call about every millisecond of guest time.  Never blocks.
 * True when the guest should stop for gdb_serve(): 0x03 arrived (break-in),
 * or the start of a packet (a gdb connecting while the guest runs; the bytes
 * stay buffered for gdb_serve).  Acknowledgements and line noise do not stop
 * the guest: gdb acknowledges the reply to `D` after the guest runs again. */
bool gdb_poll(struct gdb_stub *g);

/* The guest powered off.  A gdb waiting for a stop reply (it resumed the
 * guest) gets `W` and the exit code, as for a process that exited, and
 * prints "[Inferior 1 (Remote target) exited normally]" for 0.  True when
 * the packet went out (the caller lets the line drain). */
bool gdb_exited(struct gdb_stub *g, int code);

/* The vCPU gdb selected (Hg, or the one that stopped): what `monitor`
 * commands are about. */
struct vcpu *gdb_vcpu(struct gdb_stub *g);

/* Extra `monitor` commands from other modules (Lua adds `monitor lua CHUNK`).
 * fn writes its output one line per out() call.  name: one word of at most
 * 15 characters.  -EEXIST when taken (built-ins included), -ENOSPC when the
 * table is full, -EINVAL for a bad name or a NULL fn. */
typedef void (*gdb_monitor_fn)(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx);
int gdb_monitor_register(const char *name, const char *help, gdb_monitor_fn fn);

#endif
