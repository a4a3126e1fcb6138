/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD server's connections on io_uring.
 *
 * Receive: one RECV in flight per connection, into a buffer that holds
 * many request headers (and the small writes' payloads) at once; a large
 * write's payload is received straight into the request's buffer.  The
 * receive side is an explicit state machine (rx_state).
 *
 * Send: replies queue as tx items (header plus data) and go out as one
 * SENDMSG per batch, in completion order.
 *
 * Lifetime: a connection is freed once it is closing and has no SQE and
 * no request in flight; requests keep their buffers until the engine is
 * done with them and their reply is sent (or dropped).
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "nbd-proto.h"
#include "nbd-request.h"
#include "nbd-server.h"

#define RXBUF_SIZE (NBD_MAX_OPTION_DATA + 64 * 1024)
#define TX_IOV_MAX 64
/* what a connection may have in flight before we stop reading from it:
 * requests, and bytes of payload buffers; and the bytes of all of them */
#define CONN_MAX_INFLIGHT 128
#define CONN_MAX_BYTES (64u << 20)
#define SERVER_MAX_BYTES (512u << 20)
#define SERVER_MAX_CONNS 64
#define SOCKET_BUFFER (4 << 20)
#define BUFCACHE_MIN_SHIFT 12
#define BUFCACHE_MAX_SHIFT 25
#define BUFCACHE_PER_BUCKET 64
#define BUFCACHE_MAX_BYTES (128u << 20)


enum rx_state {
	RX_CFLAGS,	/* the client's flags word */
	RX_OPT_HDR,	/* an option header */
	RX_OPT_DATA,	/* its data */
	RX_WAIT_ENGINE, /* transmission, but no engine yet */
	RX_REQ_HDR,	/* a request header */
	RX_PAYLOAD,	/* a write's payload */
	RX_DISCARD,	/* an oversized write's payload, dropped */
	RX_STOPPED,	/* DISC, shutdown or close: read no more */
};

struct tx_item {
	struct tx_item *next;
	struct iovec iov[2];
	unsigned iovcnt;
	struct nbd_req *req; /* released once sent */
	uint8_t *own;	     /* freed once sent */
	uint8_t hdr[sizeof(struct nbd_structured_reply) + sizeof(struct nbd_chunk_offset_data)];
};

struct nbd_req {
	struct nbd_conn *c;
	struct nbd_req_hdr h;
	uint8_t *buf;
	uint32_t buflen, got; /* payload bytes received */
	unsigned nsub, pending;
	int res; /* first error, -errno */
	uint32_t nbd_err;
	struct tx_item tx;
	struct iovec *iov; /* nsub, one per READ/WRITE piece */
	struct lb_io io[]; /* nsub, then the iovecs */
};

struct nbd_conn {
	struct nbd_server *srv;
	struct nbd_conn *prev, *next;
	int fd;
	enum rx_state rx;
	struct nbd_negotiate neg;
	bool structured;
	bool opened;	 /* conn_open accepted it */
	bool closing;	 /* no more I/O on the socket */
	bool draining;	 /* DISC, ABORT, shutdown: close once replies are out */
	bool tx_reaping; /* conn_tx_done() is walking the queue */
	unsigned hold;	 /* entry points in progress: not freed meanwhile */
	struct lb_engine *engine;
	void *priv;
	unsigned inflight;	 /* requests not yet released */
	uint64_t inflight_bytes; /* their payload buffers */
	/* receive */
	struct lb_op rx_op;
	uint8_t *rxbuf;
	size_t rx_off, rx_len;
	struct nbd_option opt; /* host order fields */
	struct nbd_req *rx_req;
	uint64_t discard_left;
	struct nbd_req_hdr discard_hdr;
	/* send */
	struct lb_op tx_op;
	struct tx_item *txq_head, *txq_tail;
	struct msghdr tx_msg;
	struct iovec tx_iov[TX_IOV_MAX];
	char peer[64];
};

struct nbd_server {
	struct lb_loop *loop;
	const struct nbd_export_desc *x;
	const struct nbd_server_ops *ops;
	void *arg;
	int listen_fd;
	struct lb_op accept_op;
	bool shutdown;
	bool resume; /* memory came back under SERVER_MAX_BYTES: read again */
	uint64_t inflight_bytes;
	struct nbd_conn *conns;
	struct nbd_server_stats st;
	/* payload buffers by power-of-two size */
	void *bufcache[BUFCACHE_MAX_SHIFT + 1][BUFCACHE_PER_BUCKET];
	unsigned bufcache_n[BUFCACHE_MAX_SHIFT + 1];
	size_t bufcache_bytes;
};

static void conn_rx_process(struct nbd_conn *c);
static void conn_tx_kick(struct nbd_conn *c);
static void conn_unhold(struct nbd_conn *c);

static void srv_log(struct nbd_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void srv_log(struct nbd_server *srv, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!srv->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	srv->ops->log(srv->arg, line);
}

/* ---- payload buffers ---- */

static unsigned buf_shift(uint32_t len)
{
	unsigned s = BUFCACHE_MIN_SHIFT;

	while ((1u << s) < len)
		s++;
	return s;
}

static void *buf_get(struct nbd_server *srv, uint32_t len)
{
	unsigned s = buf_shift(len);
	void *p;

	if (s <= BUFCACHE_MAX_SHIFT && srv->bufcache_n[s]) {
		srv->bufcache_bytes -= 1u << s;
		return srv->bufcache[s][--srv->bufcache_n[s]];
	}
	if (posix_memalign(&p, 4096, (size_t)1 << s) != 0)
		return NULL;
	return p;
}

static void buf_put(struct nbd_server *srv, void *p, uint32_t len)
{
	unsigned s = buf_shift(len);

	if (!p)
		return;
	if (s <= BUFCACHE_MAX_SHIFT && srv->bufcache_n[s] < BUFCACHE_PER_BUCKET &&
	    srv->bufcache_bytes + (1u << s) <= BUFCACHE_MAX_BYTES) {
		srv->bufcache[s][srv->bufcache_n[s]++] = p;
		srv->bufcache_bytes += 1u << s;
		return;
	}
	free(p);
}

/* ---- requests ---- */

/* May we take another request from c? */
static bool conn_has_room(const struct nbd_conn *c)
{
	return c->inflight < CONN_MAX_INFLIGHT && c->inflight_bytes < CONN_MAX_BYTES &&
	       c->srv->inflight_bytes < SERVER_MAX_BYTES;
}

static struct nbd_req *req_new(struct nbd_conn *c, const struct nbd_req_hdr *h, unsigned nsub,
			       uint32_t buflen)
{
	struct nbd_req *req =
		calloc(1, sizeof(*req) + nsub * (sizeof(struct lb_io) + sizeof(struct iovec)));

	if (!req)
		return NULL;
	req->iov = (struct iovec *)&req->io[nsub];
	if (buflen) {
		req->buf = buf_get(c->srv, buflen);
		if (!req->buf) {
			free(req);
			return NULL;
		}
	}
	req->c = c;
	req->h = *h;
	req->buflen = buflen;
	req->nsub = nsub;
	c->inflight++;
	c->inflight_bytes += buflen;
	c->srv->inflight_bytes += buflen;
	return req;
}

static void req_free(struct nbd_req *req)
{
	struct nbd_conn *c = req->c;

	struct nbd_server *srv = c->srv;

	if (srv->inflight_bytes >= SERVER_MAX_BYTES &&
	    srv->inflight_bytes - req->buflen < SERVER_MAX_BYTES)
		srv->resume = true;
	srv->inflight_bytes -= req->buflen;
	c->inflight_bytes -= req->buflen;
	buf_put(srv, req->buf, req->buflen);
	free(req);
	c->inflight--; /* conn_unhold() resumes reading or frees */
}

static uint32_t errno_to_nbd(int res)
{
	switch (-res) {
	case EPERM:
	case EACCES:
	case EROFS:
		return NBD_EPERM;
	case ENOSPC:
		return NBD_ENOSPC;
	case EINVAL:
	case EOPNOTSUPP:
		return NBD_EINVAL;
	case ENOMEM:
		return NBD_ENOMEM;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

static void tx_queue(struct nbd_conn *c, struct tx_item *t)
{
	t->next = NULL;
	if (c->txq_tail)
		c->txq_tail->next = t;
	else
		c->txq_head = t;
	c->txq_tail = t;
	conn_tx_kick(c);
}

/* Answer a request: a structured chunk for READ when agreed, else a
 * simple reply; READ data follows a successful header. */
static void req_reply(struct nbd_req *req)
{
	struct nbd_conn *c = req->c;
	struct tx_item *t = &req->tx;
	uint32_t err = req->nbd_err;
	bool data = err == NBD_SUCCESS && req->h.type == NBD_CMD_READ;

	if (c->closing) {
		req_free(req);
		return;
	}
	if (err)
		lb_io_stats_error(&c->srv->st.io);
	t->req = req;
	t->iovcnt = 1;
	if (c->structured && req->h.type == NBD_CMD_READ) {
		struct nbd_structured_reply sr = {
			.magic = htobe32(NBD_STRUCTURED_REPLY_MAGIC),
			.flags = htobe16(NBD_REPLY_FLAG_DONE),
			.handle = req->h.handle,
		};
		if (data) {
			struct nbd_chunk_offset_data od = {.offset = htobe64(req->h.offset)};

			sr.type = htobe16(NBD_REPLY_TYPE_OFFSET_DATA);
			sr.length = htobe32((uint32_t)sizeof(od) + req->h.count);
			memcpy(t->hdr, &sr, sizeof(sr));
			memcpy(t->hdr + sizeof(sr), &od, sizeof(od));
			t->iov[0] = (struct iovec){t->hdr, sizeof(sr) + sizeof(od)};
		} else {
			struct nbd_chunk_error ce = {.error = htobe32(err)};

			sr.type = htobe16(NBD_REPLY_TYPE_ERROR);
			sr.length = htobe32((uint32_t)sizeof(ce));
			memcpy(t->hdr, &sr, sizeof(sr));
			memcpy(t->hdr + sizeof(sr), &ce, sizeof(ce));
			t->iov[0] = (struct iovec){t->hdr, sizeof(sr) + sizeof(ce)};
		}
	} else {
		struct nbd_simple_reply r = {
			.magic = htobe32(NBD_SIMPLE_REPLY_MAGIC),
			.error = htobe32(err),
			.handle = req->h.handle,
		};
		memcpy(t->hdr, &r, sizeof(r));
		t->iov[0] = (struct iovec){t->hdr, sizeof(r)};
	}
	if (data) {
		t->iov[1] = (struct iovec){req->buf, req->h.count};
		t->iovcnt = 2;
	}
	tx_queue(c, t);
}

/* The engine's op for a checked command. */
static enum lb_io_op io_op(uint16_t type)
{
	switch (type) {
	case NBD_CMD_READ:
		return LB_IO_READ;
	case NBD_CMD_WRITE:
		return LB_IO_WRITE;
	case NBD_CMD_TRIM:
		return LB_IO_DISCARD;
	case NBD_CMD_WRITE_ZEROES:
		return LB_IO_WRITE_ZEROES;
	default:
		return LB_IO_FLUSH;
	}
}

static void req_sub_put(struct nbd_req *req)
{
	if (--req->pending)
		return;
	if (req->res < 0)
		req->nbd_err = errno_to_nbd(req->res);
	else
		lb_io_stats_count(&req->c->srv->st.io, io_op(req->h.type), req->h.count);
	req_reply(req);
}

static void req_sub_done(struct lb_io *io, int res)
{
	struct nbd_req *req = io->arg;
	struct nbd_conn *c = req->c;

	c->hold++;
	if (res < 0 && req->res == 0)
		req->res = res;
	req_sub_put(req);
	conn_unhold(c);
}


/* Split a checked request at the engine's limits and start every piece. */
static void req_dispatch(struct nbd_req *req)
{
	struct lb_engine *e = req->c->engine;
	uint32_t max = lb_io_op_max(&e->info, io_op(req->h.type)), flags = 0;
	uint32_t left = req->h.type == NBD_CMD_FLUSH ? 0 : req->h.count;
	uint64_t off = req->h.offset;

	if (req->h.flags & NBD_CMD_FLAG_FUA)
		flags |= LB_IO_FUA;
	if (req->h.flags & NBD_CMD_FLAG_NO_HOLE)
		flags |= LB_IO_NO_HOLE;
	req->pending = req->nsub + 1; /* + 1: completions inside the loop */
	for (unsigned i = 0; i < req->nsub; i++) {
		struct lb_io *io = &req->io[i];
		uint32_t len = left < max ? left : max;
		int r;

		*io = (struct lb_io){
			.op = io_op(req->h.type),
			.flags = flags,
			.offset = off,
			.length = len,
			.done = req_sub_done,
			.arg = req,
		};
		if (req->buf) {
			req->iov[i] = (struct iovec){req->buf + (off - req->h.offset), len};
			io->iov = &req->iov[i];
			io->iovcnt = 1;
		}
		off += len;
		left -= len;
		r = lb_engine_submit(e, io);
		if (r < 0)
			req_sub_done(io, r);
	}
	req_sub_put(req);
}

/* How many engine I/Os a checked request needs; 0 if the engine cannot. */
static unsigned req_nsub(const struct nbd_conn *c, const struct nbd_req_hdr *h)
{
	uint32_t max;

	if (h->type == NBD_CMD_FLUSH)
		return 1;
	max = lb_io_op_max(&c->engine->info, io_op(h->type));
	if (max == 0)
		return 0;
	return (unsigned)((h->count + (uint64_t)max - 1) / max);
}

/* ---- receive ---- */

static void conn_close(struct nbd_conn *c, const char *why)
{
	if (c->closing)
		return;
	if (why)
		srv_log(c->srv, "nbd client %s: %s", c->peer, why);
	c->closing = true;
	c->rx = RX_STOPPED;
	/* wake the receive and send in flight: they end with 0 or -EPIPE */
	(void)shutdown(c->fd, SHUT_RDWR);
}

void nbd_conn_abort(struct nbd_conn *c, const char *why)
{
	c->hold++;
	conn_close(c, why);
	conn_unhold(c);
}

static void conn_post_recv(struct nbd_conn *c, void *buf, size_t len)
{
	struct io_uring_sqe *sqe;
	int r = lb_loop_sqe(c->srv->loop, &c->rx_op, &sqe);

	if (r < 0) {
		conn_close(c, "cannot queue a receive");
		return;
	}
	io_uring_prep_recv(sqe, c->fd, buf, len, 0);
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

static void conn_send_neg(struct nbd_conn *c, struct nbd_buf *b)
{
	struct tx_item *t;

	if (b->len == 0)
		return;
	t = calloc(1, sizeof(*t));
	if (!t) {
		nbd_buf_free(b);
		conn_close(c, "out of memory");
		return;
	}
	t->own = b->p;
	t->iov[0] = (struct iovec){b->p, b->len};
	t->iovcnt = 1;
	*b = (struct nbd_buf){0};
	tx_queue(c, t);
}

/* Enter the transmission phase: ask the owner for an engine. */
static void conn_start_transmission(struct nbd_conn *c)
{
	int r;

	c->structured = c->neg.structured;
	c->rx = RX_WAIT_ENGINE;
	r = c->srv->ops->conn_open(c->srv->arg, c);
	if (r < 0) {
		conn_close(c, "no path to the LUN");
		return;
	}
	c->opened = true;
	if (c->engine && c->rx == RX_WAIT_ENGINE)
		c->rx = RX_REQ_HDR;
}

void nbd_conn_set_engine(struct nbd_conn *c, struct lb_engine *e)
{
	c->hold++;
	c->engine = e;
	if (c->rx == RX_WAIT_ENGINE && c->opened)
		c->rx = RX_REQ_HDR; /* conn_unhold() starts reading */
	conn_unhold(c);
}

void nbd_conn_set_priv(struct nbd_conn *c, void *priv)
{
	c->priv = priv;
}

void *nbd_conn_get_priv(const struct nbd_conn *c)
{
	return c->priv;
}

/* One option off the wire, answered. */
static void conn_option(struct nbd_conn *c)
{
	struct nbd_buf out = {0};
	uint32_t opt = c->opt.option;
	int r = nbd_negotiate_option(&c->neg, opt, c->rxbuf + c->rx_off, c->opt.len, &out);

	c->rx_off += c->opt.len;
	if (r < 0) {
		nbd_buf_free(&out);
		conn_close(c, "out of memory");
		return;
	}
	conn_send_neg(c, &out);
	switch (r) {
	case NBD_NEG_TRANSMISSION:
		conn_start_transmission(c);
		break;
	case NBD_NEG_CLOSE:
		c->rx = RX_STOPPED;
		c->draining = true; /* close once the answer is out */
		break;
	default:
		c->rx = RX_OPT_HDR;
		break;
	}
}

/* A request header: check it, then read its payload or dispatch it. */
static void conn_request(struct nbd_conn *c, const struct nbd_req_hdr *h)
{
	uint32_t err = nbd_request_check(h, c->srv->x, c->structured);
	struct nbd_req *req;
	unsigned nsub = 0;

	if (h->type == NBD_CMD_DISC) {
		c->rx = RX_STOPPED;
		c->draining = true; /* answer what is in flight, then close */
		return;
	}
	if (err == NBD_SUCCESS) {
		nsub = req_nsub(c, h);
		if (nsub == 0)
			err = NBD_EINVAL;
	}
	if (nbd_request_has_payload(h) && (err != NBD_SUCCESS || h->count > NBD_MAX_PAYLOAD)) {
		/* the payload comes anyway: drop it, then answer */
		c->discard_hdr = *h;
		c->discard_left = h->count;
		c->rx = RX_DISCARD;
		return;
	}
	req = req_new(c, h, err ? 0 : nsub,
		      err == NBD_SUCCESS && (h->type == NBD_CMD_READ || h->type == NBD_CMD_WRITE)
			      ? h->count
			      : 0);
	if (!req) {
		conn_close(c, "out of memory");
		return;
	}
	req->nbd_err = err;
	if (err) {
		req_reply(req);
	} else if (nbd_request_has_payload(h)) {
		c->rx_req = req;
		c->rx = RX_PAYLOAD;
	} else {
		req_dispatch(req);
	}
}

/* A dropped payload's request, answered with its error. */
static void conn_discarded(struct nbd_conn *c)
{
	const struct nbd_req_hdr *h = &c->discard_hdr;
	uint32_t err = nbd_request_check(h, c->srv->x, c->structured);
	struct nbd_req *req = req_new(c, h, 0, 0);

	c->rx = RX_REQ_HDR;
	if (!req) {
		conn_close(c, "out of memory");
		return;
	}
	req->nbd_err = err ? err : NBD_EINVAL; /* too large to take */
	req_reply(req);
}

static void conn_rx_process(struct nbd_conn *c)
{
	for (;;) {
		size_t avail = c->rx_len - c->rx_off;
		uint8_t *p = c->rxbuf + c->rx_off;

		if (c->closing || c->rx_op.busy || c->tx_reaping)
			return;
		switch (c->rx) {
		case RX_CFLAGS: {
			uint32_t f;

			if (avail < 4)
				goto need;
			memcpy(&f, p, 4);
			c->rx_off += 4;
			if (nbd_negotiate_client_flags(&c->neg, be32toh(f)) < 0) {
				conn_close(c, "not a fixed newstyle client");
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
				conn_close(c, "bad option magic");
				return;
			}
			c->opt.option = be32toh(c->opt.option);
			c->opt.len = be32toh(c->opt.len);
			if (c->opt.len > NBD_MAX_OPTION_DATA) {
				conn_close(c, "option data too large");
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

			if (!conn_has_room(c) || c->draining)
				return; /* resumed by conn_unhold() */
			if (avail < sizeof(struct nbd_request))
				goto need;
			if (nbd_request_decode(p, &h) < 0) {
				conn_close(c, "bad request magic");
				return;
			}
			c->rx_off += sizeof(struct nbd_request);
			conn_request(c, &h);
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
			req_dispatch(req);
			break;
		}
		case RX_DISCARD: {
			uint64_t n = avail < c->discard_left ? avail : c->discard_left;

			c->rx_off += n;
			c->discard_left -= n;
			if (c->discard_left)
				goto need;
			conn_discarded(c);
			break;
		}
		case RX_WAIT_ENGINE:
		case RX_STOPPED:
			return;
		}
	}
need:
	conn_need_more(c);
}

static void conn_rx_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct nbd_conn *c = container_of(op, struct nbd_conn, rx_op);

	c->hold++;
	if (c->closing || c->rx == RX_STOPPED || res == -ECANCELED) {
		/* closing, or a read that shutdown cancelled: nothing to do */
	} else if (res == 0 || res == -ECONNRESET) {
		conn_close(c, c->rx == RX_REQ_HDR && c->rx_off == c->rx_len
				      ? NULL /* a clean end between requests */
				      : "disconnected mid-request");
	} else if (res < 0) {
		char why[96];

		snprintf(why, sizeof(why), "receive failed: %s", strerror(-res));
		conn_close(c, why);
	} else {
		if (c->rx == RX_PAYLOAD)
			c->rx_req->got += (uint32_t)res;
		else
			c->rx_len += (size_t)res;
		conn_rx_process(c);
	}
	conn_unhold(c);
}

/* ---- send ---- */

static void tx_release(struct nbd_conn *c, struct tx_item *t)
{
	if (t->req) {
		req_free(t->req);
	} else {
		free(t->own);
		free(t);
	}
}

static void conn_tx_kick(struct nbd_conn *c)
{
	struct io_uring_sqe *sqe;
	unsigned n = 0;
	int r;

	if (c->tx_op.busy || c->closing || c->tx_reaping || !c->txq_head)
		return;
	for (struct tx_item *t = c->txq_head; t && n + t->iovcnt <= TX_IOV_MAX; t = t->next)
		for (unsigned i = 0; i < t->iovcnt; i++)
			c->tx_iov[n++] = t->iov[i];
	c->tx_msg = (struct msghdr){.msg_iov = c->tx_iov, .msg_iovlen = n};
	r = lb_loop_sqe(c->srv->loop, &c->tx_op, &sqe);
	if (r < 0) {
		conn_close(c, "cannot queue a send");
		return;
	}
	io_uring_prep_sendmsg(sqe, c->fd, &c->tx_msg, MSG_NOSIGNAL);
}

static void conn_tx_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct nbd_conn *c = container_of(op, struct nbd_conn, tx_op);
	size_t left = res > 0 ? (size_t)res : 0;

	c->hold++;
	if (res <= 0 && !c->closing) {
		char why[96];

		snprintf(why, sizeof(why), "send failed: %s", res ? strerror(-res) : "closed");
		conn_close(c, why);
	}
	/* release what went out; advance into a partly sent item */
	c->tx_reaping = true;
	while (c->txq_head && left) {
		struct tx_item *t = c->txq_head;
		unsigned i = 0;

		while (i < t->iovcnt && left >= t->iov[i].iov_len)
			left -= t->iov[i++].iov_len;
		if (i == t->iovcnt) {
			c->txq_head = t->next;
			if (!c->txq_head)
				c->txq_tail = NULL;
			tx_release(c, t);
			continue;
		}
		/* partial: drop the sent iovecs, trim the current one */
		memmove(t->iov, t->iov + i, (t->iovcnt - i) * sizeof(t->iov[0]));
		t->iovcnt -= i;
		t->iov[0].iov_base = (uint8_t *)t->iov[0].iov_base + left;
		t->iov[0].iov_len -= left;
		left = 0;
	}
	c->tx_reaping = false;
	conn_tx_kick(c);
	conn_unhold(c);
}

/* ---- connections ---- */

/* Free a closed connection once nothing of it is in flight. */
static void conn_try_free(struct nbd_conn *c)
{
	struct nbd_server *srv = c->srv;

	if (c->rx_op.busy || c->tx_op.busy)
		return;
	/* replies still queued will never go out */
	while (c->txq_head) {
		struct tx_item *t = c->txq_head;

		c->txq_head = t->next;
		tx_release(c, t);
	}
	c->txq_tail = NULL;
	if (c->rx_req) {
		req_free(c->rx_req);
		c->rx_req = NULL;
	}
	if (c->inflight)
		return; /* the engine still has some: their completions come back */
	if (c->opened)
		srv->ops->conn_close(srv->arg, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->st.connections--;
	close(c->fd);
	free(c->rxbuf);
	free(c);
}

/* Memory is back under the server's limit: the connections that stopped
 * for want of it read again. */
static void server_resume(struct nbd_server *srv)
{
	srv->resume = false;
	for (struct nbd_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (c->hold || c->closing || c->rx != RX_REQ_HDR || c->rx_op.busy)
			continue;
		c->hold++;
		conn_unhold(c); /* reads if it has room */
	}
}

/* The end of every entry point (a completion, a call from the owner):
 * once no entry point is in progress, act on the state left behind.
 * c may be freed: the caller must not touch it afterwards. */
static void conn_unhold(struct nbd_conn *c)
{
	struct nbd_server *srv = c->srv;

	if (--c->hold)
		return;
	for (;;) {
		if (c->closing) {
			conn_try_free(c);
			break;
		}
		if (c->draining && c->inflight == 0 && !c->txq_head) {
			conn_close(c, NULL); /* DISC, ABORT or shutdown: all answered */
			continue;
		}
		if (c->rx == RX_REQ_HDR && !c->draining && !c->rx_op.busy && conn_has_room(c)) {
			c->hold++;
			conn_rx_process(c); /* posts a read or stops at a limit */
			c->hold--;
			if (!c->closing && (c->rx_op.busy || c->rx != RX_REQ_HDR ||
					    !conn_has_room(c) || c->draining))
				break;
			continue;
		}
		break;
	}
	if (srv->resume)
		server_resume(srv);
}

static struct nbd_conn *conn_new(struct nbd_server *srv, int fd)
{
	struct nbd_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rxbuf = malloc(RXBUF_SIZE);
	if (!c->rxbuf) {
		free(c);
		return NULL;
	}
	c->srv = srv;
	c->fd = fd;
	lb_op_init(&c->rx_op, conn_rx_done);
	lb_op_init(&c->tx_op, conn_tx_done);
	nbd_negotiate_init(&c->neg, srv->x);
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->st.connections++;
	srv->st.accepted++;
	return c;
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 || ss.ss_family == AF_UNIX) {
		snprintf(buf, len, "fd %d", fd);
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	}
}

/* Room for a few large replies at once, so that a 1 MiB read goes out in
 * one sendmsg rather than in rounds paced by the client's reads.  The
 * FORCE forms pass the sysctl caps when we may (CAP_NET_ADMIN). */
static void socket_buffers(int fd)
{
	int size = SOCKET_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static void accept_arm(struct nbd_server *srv);

static void accept_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct nbd_server *srv = container_of(op, struct nbd_server, accept_op);
	struct nbd_buf out = {0};
	struct nbd_conn *c;
	int one = 1;

	if (srv->shutdown) {
		if (res >= 0)
			close(res);
		return;
	}
	if (res < 0) {
		srv_log(srv, "accept failed: %s", strerror(-res));
		accept_arm(srv);
		return;
	}
	if (srv->st.connections >= SERVER_MAX_CONNS) {
		srv_log(srv, "refusing a client: %u connections already", srv->st.connections);
		close(res);
		accept_arm(srv);
		return;
	}
	(void)setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	socket_buffers(res);
	c = conn_new(srv, res);
	if (!c) {
		close(res);
		accept_arm(srv);
		return;
	}
	peer_name(res, c->peer, sizeof(c->peer));
	c->rx = RX_CFLAGS;
	c->hold++;
	if (nbd_negotiate_greeting(&out) < 0) {
		nbd_buf_free(&out);
		conn_close(c, "out of memory");
	} else {
		conn_send_neg(c, &out);
		conn_rx_process(c);
	}
	conn_unhold(c);
	accept_arm(srv);
}

static void accept_arm(struct nbd_server *srv)
{
	struct io_uring_sqe *sqe;

	if (srv->shutdown || srv->listen_fd < 0)
		return;
	if (lb_loop_sqe(srv->loop, &srv->accept_op, &sqe) < 0) {
		srv_log(srv, "cannot queue an accept");
		return;
	}
	io_uring_prep_accept(sqe, srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

int nbd_server_new(struct lb_loop *loop, const struct nbd_export_desc *x,
		   const struct nbd_server_ops *ops, void *arg, struct nbd_server **ret)
{
	struct nbd_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return -ENOMEM;
	srv->loop = loop;
	srv->x = x;
	srv->ops = ops;
	srv->arg = arg;
	srv->listen_fd = -1;
	lb_op_init(&srv->accept_op, accept_done);
	*ret = srv;
	return 0;
}

int nbd_server_listen(struct nbd_server *srv, int fd)
{
	if (srv->listen_fd >= 0)
		return -EBUSY;
	srv->listen_fd = fd;
	accept_arm(srv);
	return srv->accept_op.busy ? 0 : -EAGAIN;
}

int nbd_server_add_socket(struct nbd_server *srv, int fd)
{
	struct nbd_conn *c = conn_new(srv, fd);

	if (!c)
		return -ENOMEM;
	snprintf(c->peer, sizeof(c->peer), "kernel socket %d", fd);
	socket_buffers(fd);
	c->hold++;
	conn_start_transmission(c);
	conn_unhold(c); /* reads once the engine is there */
	return 0;
}

void nbd_server_shutdown(struct nbd_server *srv)
{
	srv->shutdown = true;
	if (srv->listen_fd >= 0) {
		lb_loop_cancel(srv->loop, &srv->accept_op);
		close(srv->listen_fd);
		srv->listen_fd = -1;
	}
	for (struct nbd_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		c->hold++;
		c->draining = true;
		if (c->rx == RX_PAYLOAD || c->rx == RX_DISCARD || c->rx < RX_WAIT_ENGINE) {
			conn_close(c, NULL); /* mid-request or still negotiating */
		} else {
			c->rx = RX_STOPPED;
			lb_loop_cancel(srv->loop, &c->rx_op);
		}
		conn_unhold(c);
	}
}

bool nbd_server_idle(const struct nbd_server *srv)
{
	return srv->conns == NULL && !srv->accept_op.busy;
}

void nbd_server_free(struct nbd_server *srv)
{
	if (!srv)
		return;
	for (unsigned s = 0; s <= BUFCACHE_MAX_SHIFT; s++)
		for (unsigned i = 0; i < srv->bufcache_n[s]; i++)
			free(srv->bufcache[s][i]);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	free(srv);
}

void nbd_server_get_stats(const struct nbd_server *srv, struct nbd_server_stats *ret)
{
	*ret = srv->st;
}
