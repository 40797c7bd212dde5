/* cmd_regs.c — g, G, p, P: registers by the numbers of target.xml, in
 * the connection's view (arch.c). */
#include "stub.h"

#include "platform/errno.h"

/* A register the target cannot read goes as 'x' digits, which gdb shows
 * as <unavailable> instead of failing the whole read. */
static void out_reg(struct gdb_stub *g, unsigned n)
{
	uint8_t bytes[GDB_REG_BYTES_MAX];
	unsigned size = gdb_view(g)->regs[n].bits / 8;

	if (gdb_reg_get(g, n, bytes) == 0) {
		gdb_out_hex(g, bytes, size);
		return;
	}
	for (unsigned i = 0; i < 2 * size; i++)
		gdb_out_char(g, 'x');
}

/* `g`: every register in table order. */
void gdb_cmd_read_regs(struct gdb_stub *g, struct gdb_cursor *c)
{
	if (!gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	for (unsigned n = 0; n < gdb_view(g)->count; n++)
		out_reg(g, n);
}

/* `G`: exactly the layout of `g`.  Registers are written in order; the
 * first refusal ends it with its error (those before stay written). */
void gdb_cmd_write_regs(struct gdb_stub *g, struct gdb_cursor *c)
{
	const struct gdb_view *view = gdb_view(g);
	uint8_t bytes[GDB_REG_BYTES_MAX];
	int rc = 0;

	if ((size_t)(c->end - c->p) != 2 * gdb_view_bytes(view)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	for (unsigned n = 0; n < view->count && !rc; n++) {
		if (!gdb_take_hex_bytes(c, bytes, view->regs[n].bits / 8))
			rc = -EINVAL;
		else
			rc = gdb_reg_set(g, n, bytes);
	}
	if (!rc)
		rc = gdb_fpu_flush(g);
	if (rc)
		gdb_out_error(g, rc);
	else
		gdb_out_str(g, "OK");
}

static bool take_regnum(struct gdb_stub *g, struct gdb_cursor *c, unsigned *n)
{
	uint64_t v;
	if (!gdb_take_hex(c, &v) || v >= gdb_view(g)->count)
		return false;
	*n = (unsigned)v;
	return true;
}

/* `p n`: an unknown number is E22, as gdb sends p only for numbers of our
 * target.xml. */
void gdb_cmd_read_reg(struct gdb_stub *g, struct gdb_cursor *c)
{
	unsigned n;

	if (!take_regnum(g, c, &n) || !gdb_at_end(c))
		gdb_out_error(g, -EINVAL);
	else
		out_reg(g, n);
}

/* `P n=value`: the value in exactly the register's size. */
void gdb_cmd_write_reg(struct gdb_stub *g, struct gdb_cursor *c)
{
	uint8_t bytes[GDB_REG_BYTES_MAX];
	unsigned n;

	if (!take_regnum(g, c, &n) || !gdb_take(c, '=') ||
	    !gdb_take_hex_bytes(c, bytes, gdb_view(g)->regs[n].bits / 8) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	int rc = gdb_reg_set(g, n, bytes);
	if (!rc)
		rc = gdb_fpu_flush(g);
	if (rc)
		gdb_out_error(g, rc);
	else
		gdb_out_str(g, "OK");
}
