/* memory.c — m, M, X: guest memory at guest-virtual addresses, through the
 * guest's own paging and then EPT (target_read_virt/target_write_virt).
 *
 * Errors: an unmapped address is E14 (EFAULT), the hypervisor's own region
 * E01 (EPERM) — the target never faults on either.  A read that runs into
 * an unmapped page returns the bytes before it (the protocol allows a short
 * reply; gdb asks again for the rest and then gets the error), so `x/64x`
 * across the end of a mapping shows what is there.  A length larger than a
 * reply holds is cut to PacketSize/2 bytes, for the same reason. */
#include "stub.h"

#include "platform/errno.h"

#define PAGE 4096u

/* "addr,length" */
static bool take_range(struct gdb_cursor *c, uint64_t *addr, uint64_t *len)
{
	return gdb_take_hex(c, addr) && gdb_take(c, ',') && gdb_take_hex(c, len);
}

void gdb_cmd_read_mem(struct gdb_stub *g, struct gdb_cursor *c)
{
	uint64_t addr, len;

	if (!take_range(c, &addr, &len) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	if (len > sizeof(g->scratch))
		len = sizeof(g->scratch);
	if (addr + len < addr)	/* stop at the top of the address space */
		len = 0 - addr;
	size_t done = 0;
	int rc = 0;
	while (done < len) {
		uint64_t at = addr + done;
		size_t chunk = PAGE - (at & (PAGE - 1));
		if (chunk > len - done)
			chunk = len - done;
		rc = target_read_virt(g->v, at, g->scratch + done, chunk);
		if (rc)
			break;
		done += chunk;
	}
	if (rc && !done)
		gdb_out_error(g, rc);
	else
		gdb_out_hex(g, g->scratch, done);
}

static void write_mem(struct gdb_stub *g, uint64_t addr, const void *data, uint64_t len)
{
	int rc = 0;
	if (len && addr + len - 1 < addr)
		rc = -EFAULT;
	else if (len)
		rc = target_write_virt(g->v, addr, data, len);
	if (rc)
		gdb_out_error(g, rc);
	else
		gdb_out_str(g, "OK");
}

/* `M addr,length:hex` — exactly 2*length hex digits. */
void gdb_cmd_write_mem(struct gdb_stub *g, struct gdb_cursor *c)
{
	uint64_t addr, len;

	if (!take_range(c, &addr, &len) || !gdb_take(c, ':')) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	if (len > sizeof(g->scratch)) {
		gdb_out_error(g, -E2BIG);
		return;
	}
	if (!gdb_take_hex_bytes(c, g->scratch, len) || !gdb_at_end(c)) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	write_mem(g, addr, g->scratch, len);
}

/* `X addr,length:binary` — the packet layer has undone the escapes, so
 * exactly length bytes remain, written straight from the packet (gdb fills
 * all of PacketSize with them).  gdb probes for X with a zero length: OK. */
void gdb_cmd_write_mem_binary(struct gdb_stub *g, struct gdb_cursor *c)
{
	uint64_t addr, len;

	if (!take_range(c, &addr, &len) || !gdb_take(c, ':') ||
	    (uint64_t)(c->end - c->p) != len) {
		gdb_out_error(g, -EINVAL);
		return;
	}
	write_mem(g, addr, c->p, len);
}
