/* packet.c — the RSP wire: `$data#cs` framing, acknowledgements, escapes,
 * run-length encoding, resynchronisation.
 *
 * Receiving is a byte-at-a-time state machine, so gdb_poll() can take what
 * the UART holds without blocking and gdb_serve() carries on from there.
 * Between packets: '$' starts one, 0x03 is a break-in, '+'/'-' acknowledge
 * our last packet (in no-ack mode a '+' starts a new session in ack mode),
 * anything else is line noise and ignored.  Inside one, a
 * '$' starts over (gdb resends a packet whole; the partial one is lost), and
 * the checksum covers the raw bytes.  Decoding follows gdb's order: runs
 * ('*' and a count byte, n - 29 more copies of the previous raw byte) are
 * expanded first, then '}' escapes (next byte XOR 0x20) are undone. */
#include "stub.h"

#include "platform/errno.h"
#include "platform/kstring.h"

enum { RX_IDLE, RX_DATA, RX_CSUM_HI, RX_CSUM_LO };

static void put_byte(struct gdb_stub *g, uint8_t c)
{
	g->io.write(g->io.ctx, &c, 1);
}

static void rx_start(struct gdb_rx *rx)
{
	rx->state = RX_DATA;
	rx->len = 0;
	rx->sum = 0;
	rx->prev = -1;
	rx->escape = rx->repeat = rx->overflow = rx->malformed = false;
	rx->error = 0;
}

static void rx_store(struct gdb_rx *rx, uint8_t c)
{
	if (rx->len < GDB_PACKET_SIZE)
		rx->data[rx->len++] = c;
	else
		rx->overflow = true;
}

static void rx_unescape(struct gdb_rx *rx, uint8_t c)
{
	if (rx->escape) {
		rx->escape = false;
		rx_store(rx, c ^ 0x20);
	} else if (c == '}') {
		rx->escape = true;
	} else {
		rx_store(rx, c);
	}
}

/* Count bytes are printable, ' ' (3 more) to '~' (97 more); '#' and '$'
 * never are, so a '*' before the '#' leaves the packet malformed. */
static void rx_raw(struct gdb_rx *rx, uint8_t c)
{
	rx->sum += c;
	if (rx->repeat) {
		rx->repeat = false;
		if (c < ' ' || c > '~' || rx->prev < 0) {
			rx->malformed = true;
			return;
		}
		for (int n = c - 29; n > 0 && !rx->overflow; n--)
			rx_unescape(rx, (uint8_t)rx->prev);
		return;
	}
	if (c == '*') {
		rx->repeat = true;
		return;
	}
	rx->prev = c;
	rx_unescape(rx, c);
}

/* Our last packet arrived: forget it, and enter no-ack mode if that packet
 * was the OK to QStartNoAckMode (the switch happens once gdb has it). */
static void tx_acked(struct gdb_stub *g)
{
	g->unacked = false;
	if (g->no_ack_next) {
		g->no_ack_next = false;
		g->no_ack = true;
	}
}

static void tx_retransmit(struct gdb_stub *g)
{
	if (!g->no_ack && g->frame_len)
		g->io.write(g->io.ctx, g->frame, g->frame_len);
}

static enum gdb_rx_event rx_idle(struct gdb_stub *g, int c)
{
	switch (c) {
	case '$':
		/* gdb sends a packet only after it has our last reply: an
		 * implicit ack when its '+' was lost to noise. */
		if (g->unacked)
			tx_acked(g);
		rx_start(&g->rx);
		return GDB_RX_START;
	case 0x03:
		return GDB_RX_BREAK;
	case '+':
		/* In no-ack mode nobody acknowledges: a '+' is the first byte
		 * of a new debugger (gdb and lldb both open with one, lldb
		 * then asks for no-ack mode before anything else, and waits
		 * for the '+' to that).  Back to ack mode for it. */
		if (g->no_ack)
			g->no_ack = g->no_ack_next = false;
		else
			tx_acked(g);
		return GDB_RX_NONE;
	case '-':
		tx_retransmit(g);
		return GDB_RX_NONE;
	default:
		return GDB_RX_NONE;
	}
}

static bool starts_with(const struct gdb_rx *rx, const char *s)
{
	size_t n = strlen(s);
	return rx->len >= n && memcmp(rx->data, s, n) == 0;
}

/* A bad checksum in ack mode asks for the packet again.  In no-ack mode
 * nobody resends: the packet is answered E05 (EIO) rather than acted on,
 * so gdb is not left waiting.  A packet that arrived intact but cannot be
 * decoded (overlong, a dangling '}' or '*') is acknowledged (resending it
 * would not help) and answered with an error. */
static enum gdb_rx_event rx_finish(struct gdb_stub *g)
{
	struct gdb_rx *rx = &g->rx;

	rx->state = RX_IDLE;
	rx->data[rx->len] = 0;
	if (rx->sent_sum != rx->sum) {
		if (!g->no_ack) {
			put_byte(g, '-');
			return GDB_RX_NONE;
		}
		rx->error = -EIO;
	} else if (rx->overflow) {
		rx->error = -E2BIG;
	} else if (rx->malformed || rx->escape || rx->repeat) {
		rx->error = -EINVAL;
	}
	/* A gdb that connects starts in ack mode and opens with qSupported:
	 * a no-ack session before it (detached or vanished) is over. */
	if (g->no_ack && !rx->error && starts_with(rx, "qSupported"))
		g->no_ack = false;
	if (!g->no_ack)
		put_byte(g, '+');
	return GDB_RX_PACKET;
}

static enum gdb_rx_event rx_checksum(struct gdb_stub *g, int c)
{
	struct gdb_rx *rx = &g->rx;
	int v = gdb_hexval(c);

	if (v < 0) {
		/* Not a checksum: the frame is broken.  Resync on '$'. */
		if (!g->no_ack)
			put_byte(g, '-');
		rx->state = RX_IDLE;
		return c == '$' ? rx_idle(g, c) : GDB_RX_NONE;
	}
	if (rx->state == RX_CSUM_HI) {
		rx->sent_sum = (uint8_t)(v << 4);
		rx->state = RX_CSUM_LO;
		return GDB_RX_NONE;
	}
	rx->sent_sum |= (uint8_t)v;
	return rx_finish(g);
}

enum gdb_rx_event gdb_rx_byte(struct gdb_stub *g, int c)
{
	struct gdb_rx *rx = &g->rx;

	c &= 0xff;
	switch (rx->state) {
	case RX_DATA:
		if (c == '$')
			rx_start(rx);
		else if (c == '#')
			rx->state = RX_CSUM_HI;
		else
			rx_raw(rx, (uint8_t)c);
		return GDB_RX_NONE;
	case RX_CSUM_HI:
	case RX_CSUM_LO:
		return rx_checksum(g, c);
	default:
		return rx_idle(g, c);
	}
}

bool gdb_rx_idle(const struct gdb_stub *g)
{
	return g->rx.state == RX_IDLE;
}

/* Before the next packet goes out, the last one must have arrived: one
 * packet in flight, so '-' always means the one we still hold.  Waits for
 * '+' (retransmitting on '-'); a '$' means gdb moved on (it got our packet
 * and sent a new one, or a new gdb connected): the rest of this reply is
 * dropped and the new packet's bytes stay in the receiver. */
static void tx_wait_ack(struct gdb_stub *g)
{
	while (g->unacked && !g->hangup && !g->abandon) {
		int c = g->io.getc(g->io.ctx);
		if (c == GDB_IO_HANGUP)
			g->hangup = true;
		else if (c >= 0 && gdb_rx_byte(g, c) == GDB_RX_START)
			g->abandon = true;
	}
}

/* Run-length encoding of text replies: a run of 4 to 98 equal bytes
 * becomes the byte, '*' and 29 + (copies after the first).  Counts that
 * would give '#' or '$' (6 and 7 more) are cut to 5 more.  Saves most of a
 * `g` reply (the x87 and SSE registers are often zero). */
static size_t rle_encode(uint8_t *dst, const char *src, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		size_t run = 1;
		while (i + run < n && src[i + run] == src[i] && run < 98)
			run++;
		dst[w++] = (uint8_t)src[i];
		if (run >= 4) {
			size_t more = run - 1;
			if (more == 6 || more == 7)
				more = 5;
			dst[w++] = '*';
			dst[w++] = (uint8_t)(29 + more);
			i += more + 1;
		} else {
			i++;
		}
	}
	return w;
}

void gdb_send(struct gdb_stub *g)
{
	static const char hex[] = "0123456789abcdef";

	tx_wait_ack(g);
	if (g->hangup || g->abandon) {
		gdb_out_reset(g);
		return;
	}
	if (g->out_overflow)	/* a handler's bug: say so rather than truncate */
		gdb_out_error(g, -E2BIG);
	size_t n;
	g->frame[0] = '$';
	if (g->out_binary) {
		memcpy(g->frame + 1, g->out, g->out_len);
		n = g->out_len;
	} else {
		n = rle_encode(g->frame + 1, g->out, g->out_len);
	}
	uint8_t sum = 0;
	for (size_t i = 1; i <= n; i++)
		sum += g->frame[i];
	g->frame[n + 1] = '#';
	g->frame[n + 2] = (uint8_t)hex[sum >> 4];
	g->frame[n + 3] = (uint8_t)hex[sum & 15];
	g->frame_len = n + 4;
	g->io.write(g->io.ctx, g->frame, g->frame_len);
	g->unacked = !g->no_ack;
	gdb_out_reset(g);
}

/* A new session (gdb_init, detach, hangup) starts in ack mode with nothing
 * in flight and no register view.  The last packet is kept: the OK to `D` may still need
 * resending while the guest runs. */
void gdb_reset_link(struct gdb_stub *g)
{
	g->rx.state = RX_IDLE;
	g->no_ack = g->no_ack_next = false;
	g->unacked = g->abandon = false;
	g->waiting = false;
	g->gdb_swbreak = g->gdb_hwbreak = false;
	gdb_view_forget(g);
}
