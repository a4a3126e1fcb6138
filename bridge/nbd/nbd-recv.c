/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD server's receive side: one RECV in flight per connection, into
 * a buffer that holds many request headers (and the small writes'
 * payloads) at once; a large write's payload is received straight into
 * the request's buffer.  An explicit state machine (rx_state) takes the
 * negotiation (client flags, options) and then the request headers and
 * payloads off it.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "nbd-server-internal.h"

static void conn_post_recv(struct nbd_conn *c, void *buf, size_t len)
{
	struct lb_loop *l = c->srv->loop;
	struct io_uring_sqe *sqe, *lt;
	bool negotiating = c->rx < RX_WAIT_ENGINE && c->hs_deadline_ms;
	uint64_t now = lb_now_ms();
	int r;

	if (negotiating && now >= c->hs_deadline_ms) {
		nbd_conn_close(c, "handshake not finished in time");
		return;
	}
	/* the receive and its timeout: both SQEs or neither */
	if (negotiating && io_uring_sq_space_left(&l->ring) < 2)
		(void)io_uring_submit(&l->ring);
	r = lb_loop_sqe(l, &c->rx_op, &sqe);
	if (r < 0) {
		nbd_conn_close(c, "cannot queue a receive");
		return;
	}
	io_uring_prep_recv(sqe, c->fd, buf, len, 0);
	if (!negotiating || c->hs_timeout_op.busy)
		return;
	sqe->flags |= IOSQE_IO_LINK;
	if (lb_loop_sqe(l, &c->hs_timeout_op, &lt) < 0) {
		sqe->flags &= (uint8_t)~IOSQE_IO_LINK;
		return;
	}
	c->hs_ts = lb_ms_timespec(c->hs_deadline_ms - now);
	io_uring_prep_link_timeout(lt, &c->hs_ts, 0);
}

/* Read more into the receive buffer, keeping what is unconsumed. */
static void conn_need_more(struct nbd_conn *c)
{
	if (c->rx_off == c->rx_len) {
		c->rx_off = c->rx_len = 0;
	} else if (c->rx_off > 0 && RXBUF_SIZE - c->rx_len < NBD_MAX_OPTION_DATA + 64) {
		memmove(c->rxbuf, c->rxbuf + c->rx_off, c->rx_len - c->rx_off);
		c->rx_len -= c->rx_off;
		c->rx_off = 0;
	}
	conn_post_recv(c, c->rxbuf + c->rx_len, RXBUF_SIZE - c->rx_len);
}

/* One option off the wire, answered. */
static void conn_option(struct nbd_conn *c)
{
	struct nbd_buf out = {0};
	uint32_t opt = c->opt.option;
	unsigned refused = c->neg.tls_refused;
	int r = nbd_negotiate_option(&c->neg, opt, c->rxbuf + c->rx_off, c->opt.len, &out);

	c->rx_off += c->opt.len;
	if (refused == 0 && c->neg.tls_refused) /* once a connection */
		nbd_server_log(c->srv, "nbd client %s: option %s refused: TLS is required", c->peer,
			       nbd_option_name(opt));
	if (r < 0) {
		nbd_buf_free(&out);
		nbd_conn_close(c, "out of memory");
		return;
	}
	nbd_conn_send_neg(c, &out);
	switch (r) {
	case NBD_NEG_TRANSMISSION:
		nbd_conn_start_transmission(c);
		break;
	case NBD_NEG_CLOSE:
		c->rx = RX_STOPPED;
		c->draining = true; /* close once the answer is out */
		break;
	case NBD_NEG_STARTTLS:
		nbd_conn_starttls(c);
		break;
	default:
		c->rx = RX_OPT_HDR;
		break;
	}
}

void nbd_conn_rx_process(struct nbd_conn *c)
{
	bool siblings_checked = false;

	for (;;) {
		size_t avail = c->rx_len - c->rx_off;
		uint8_t *p = c->rxbuf + c->rx_off;

		if (c->closing || c->rx_op.busy || c->tx_reaping || c->mem_wait)
			return;
		switch (c->rx) {
		case RX_CFLAGS: {
			uint32_t f;

			if (avail < 4)
				goto need;
			memcpy(&f, p, 4);
			c->rx_off += 4;
			if (nbd_negotiate_client_flags(&c->neg, be32toh(f)) < 0) {
				nbd_conn_close(c, "not a fixed newstyle client");
				return;
			}
			c->rx = RX_OPT_HDR;
			break;
		}
		case RX_OPT_HDR:
			if (avail < sizeof(struct nbd_option))
				goto need;
			memcpy(&c->opt, p, sizeof(c->opt));
			c->rx_off += sizeof(c->opt);
			if (be64toh(c->opt.version) != NBD_OPTS_MAGIC) {
				nbd_conn_close(c, "bad option magic");
				return;
			}
			c->opt.option = be32toh(c->opt.option);
			c->opt.len = be32toh(c->opt.len);
			if (c->opt.len > NBD_MAX_OPTION_DATA) {
				nbd_conn_close(c, "option data too large");
				return;
			}
			c->rx = RX_OPT_DATA;
			break;
		case RX_OPT_DATA:
			if (avail < c->opt.len)
				goto need;
			conn_option(c);
			break;
		case RX_REQ_HDR: {
			struct nbd_req_hdr h;

			if (!nbd_conn_has_room(c) || c->draining)
				return; /* resumed by nbd_conn_unhold() */
			if (avail < sizeof(struct nbd_request))
				goto need;
			if (nbd_request_decode(p, &h) < 0) {
				nbd_conn_close(c, "bad request magic");
				return;
			}
			if (c->sops && !siblings_checked) {
				siblings_checked = true; /* once per batch received */
				nbd_server_check_siblings(c);
			}
			/* the header is consumed only once the request is taken */
			if (nbd_conn_request(c, &h) < 0) {
				nbd_conn_wait_memory(c);
				return;
			}
			c->rx_off += sizeof(struct nbd_request);
			break;
		}
		case RX_PAYLOAD: {
			struct nbd_req *req = c->rx_req;
			uint32_t want = req->h.count - req->got;
			uint32_t n = avail < want ? (uint32_t)avail : want;

			memcpy(req->buf + req->got, p, n);
			req->got += n;
			c->rx_off += n;
			if (req->got < req->h.count) {
				/* the rest straight into the request's buffer */
				c->rx_off = c->rx_len = 0;
				conn_post_recv(c, req->buf + req->got, req->h.count - req->got);
				return;
			}
			c->rx_req = NULL;
			c->rx = RX_REQ_HDR;
			nbd_req_dispatch(req);
			break;
		}
		case RX_DISCARD: {
			uint64_t n = avail < c->discard_left ? avail : c->discard_left;

			c->rx_off += n;
			c->discard_left -= n;
			if (c->discard_left)
				goto need;
			if (nbd_conn_discarded(c) < 0) {
				nbd_conn_wait_memory(c);
				return;
			}
			break;
		}
		case RX_TLS: /* no plaintext read until the handshake is done */
		case RX_WAIT_ENGINE:
		case RX_STOPPED:
			return;
		}
	}
need:
	conn_need_more(c);
}

void nbd_conn_rx_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct nbd_conn *c = container_of(op, struct nbd_conn, rx_op);

	c->hold++;
	if (res == -ECANCELED && !c->closing && c->rx < RX_WAIT_ENGINE && c->hs_deadline_ms) {
		nbd_conn_close(c, "handshake not finished in time");
	} else if (c->closing || c->rx == RX_STOPPED || res == -ECANCELED) {
		/* closing, or a read that shutdown cancelled: nothing to do */
	} else if (res == 0 || res == -ECONNRESET) {
		/* the kernel shuts its socket down when a request timed out,
		 * mid-request or not: its owner words that */
		nbd_conn_close(c, c->sops || (c->rx == RX_REQ_HDR && c->rx_off == c->rx_len)
					  ? NULL /* a clean end between requests */
					  : "disconnected mid-request");
	} else if (res < 0) {
		char why[96];

		snprintf(why, sizeof(why), "receive failed: %s", strerror(-res));
		nbd_conn_close(c, why);
	} else {
		if (c->rx == RX_PAYLOAD)
			c->rx_req->got += (uint32_t)res;
		else
			c->rx_len += (size_t)res;
		nbd_conn_rx_process(c);
	}
	nbd_conn_unhold(c);
}
