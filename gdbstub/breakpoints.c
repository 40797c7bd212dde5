/* breakpoints.c — Z and z: breakpoints and watchpoints, by gdb's types
 * (0 software, 1 hardware, 2 write, 3 read, 4 access), which are the
 * target API's own.  The bookkeeping (int3 bytes, DR0-3, EPT pages) is the
 * target's; this file only translates.
 *
 * kind is the watched length for Z2-Z4, any length gdb asks for (gdb
 * sends a whole struct as one Z2): the target takes what the debug
 * registers cannot express on EPT page protection.
 *
 * Replies: an unknown type is the empty reply (gdb then knows that type is
 * unsupported and, for Z1-Z4, falls back or says so); past a limit E28
 * (ENOSPC: gdb reports "Could not insert hardware breakpoint"; the
 * hypervisor's log names the limit) or E07 (E2BIG: a watch longer than one
 * may be), an unmapped address E14, a length of 0 or over 32 bits E22.  The protocol asks for
 * idempotent Z and z (a retransmitted packet may arrive twice): inserting
 * one that exists and removing one that does not both answer OK.
 * Conditions and commands evaluated by the stub (";X..." / ";cmds") are not
 * supported, as qSupported does not offer them. */
#include "stub.h"

#include "platform/errno.h"

static bool take_bp(struct gdb_cursor *c, uint64_t *type, uint64_t *addr, uint64_t *kind)
{
	return gdb_take_hex(c, type) && gdb_take(c, ',') && gdb_take_hex(c, addr) &&
	       gdb_take(c, ',') && gdb_take_hex(c, kind) && gdb_at_end(c);
}

static void bp_command(struct gdb_stub *g, struct gdb_cursor *c, bool insert)
{
	uint64_t type, addr, kind;

	if (gdb_at_end(c) || gdb_hexval(*c->p) < 0 || gdb_hexval(*c->p) > BP_ACCESS ||
	    (c->end - c->p > 1 && c->p[1] != ','))
		return;	/* empty reply: a type we do not know */
	if (!take_bp(c, &type, &addr, &kind) || kind == 0 || kind > UINT32_MAX) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	int rc = insert ? target_bp_insert(g->v, (enum target_bp_type)type, addr, (unsigned)kind)
			: target_bp_remove(g->v, (enum target_bp_type)type, addr, (unsigned)kind);
	if (rc == -ENOSYS)
		return;
	if (rc == (insert ? -EEXIST : -ENOENT))
		rc = 0;
	if (rc)
		gdb_out_error(g, rc);
	else
		gdb_out_str(g, "OK");
}

void gdb_cmd_insert_bp(struct gdb_stub *g, struct gdb_cursor *c)
{
	bp_command(g, c, true);
}

void gdb_cmd_remove_bp(struct gdb_stub *g, struct gdb_cursor *c)
{
	bp_command(g, c, false);
}
