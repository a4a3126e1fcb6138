/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An NBD request's life from its decoded header to the engine and back:
 * checked (nbd-request.c), its payload awaited or discarded, split at the
 * engine's limits, and answered (nbd-send.c) once its last piece is done.
 * Also the limits on what a connection and the server may have in flight.
 */
#include <errno.h>
#include <stdlib.h>

#include "nbd-server-internal.h"

/* what a connection may have in flight before we stop reading from it:
 * requests, and bytes of payload buffers; and the bytes of all of them */
#define CONN_MAX_INFLIGHT 128
#define CONN_MAX_BYTES (64u << 20)
#define SERVER_MAX_BYTES (512u << 20)
/* the extents one BLOCK_STATUS asks the engine for (REQ_ONE: a few, so
 * that neighbours of one kind merge into the one descriptor sent) */
#define BLOCK_STATUS_EXTENTS 64
#define BLOCK_STATUS_EXTENTS_ONE 4

bool nbd_conn_has_room(const struct nbd_conn *c)
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
		req->buf = nbd_buf_pool_get(&c->srv->bufs, buflen);
		if (!req->buf) {
			free(req);
			return NULL;
		}
	}
	c->srv->mem_short = false; /* the next shortage is told again */
	req->c = c;
	req->h = *h;
	req->buflen = buflen;
	req->nsub = nsub;
	c->inflight++;
	c->inflight_bytes += buflen;
	c->srv->inflight_bytes += buflen;
	return req;
}

void nbd_req_free(struct nbd_req *req)
{
	struct nbd_conn *c = req->c;

	struct nbd_server *srv = c->srv;

	if ((srv->inflight_bytes >= SERVER_MAX_BYTES &&
	     srv->inflight_bytes - req->buflen < SERVER_MAX_BYTES) ||
	    srv->mem_short)
		srv->resume = true;
	srv->inflight_bytes -= req->buflen;
	c->inflight_bytes -= req->buflen;
	nbd_buf_pool_put(&srv->bufs, req->buf, req->buflen);
	if (srv->inflight_bytes == 0 && !srv->shutdown)
		nbd_buf_pool_idle(&srv->bufs);
	free(req);
	c->inflight--; /* nbd_conn_unhold() resumes reading or frees */
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
	case NBD_CMD_BLOCK_STATUS:
		return LB_IO_BLOCK_STATUS;
	default:
		return LB_IO_FLUSH;
	}
}

/* BLOCK_STATUS's buffer: the engine's extents, then room for the reply's
 * payload (nbd_block_status_encode()) after the ones it fills in. */
static uint32_t block_status_buflen(const struct nbd_req_hdr *h)
{
	uint32_t n = BLOCK_STATUS_EXTENTS;

	if (h->flags & NBD_CMD_FLAG_REQ_ONE)
		n = BLOCK_STATUS_EXTENTS_ONE;
	return n * (uint32_t)sizeof(struct lb_extent) + 4 + n * 8;
}

/* How many extents BLOCK_STATUS's buffer holds. */
static uint32_t block_status_cap(const struct nbd_req *req)
{
	return (req->buflen - 4) / (uint32_t)(sizeof(struct lb_extent) + 8);
}

/* A LUN that does not tell which blocks are allocated: every one is. */
static void block_status_all_allocated(struct nbd_req *req)
{
	struct lb_extent *ext = (struct lb_extent *)(void *)req->buf;

	ext[0] = (struct lb_extent){.length = req->h.count, .flags = 0};
	req->extents = 1;
}

static void req_sub_put(struct nbd_req *req)
{
	if (--req->pending)
		return;
	if (req->res == -EOPNOTSUPP && req->h.type == NBD_CMD_BLOCK_STATUS) {
		/* the LUN turned out not to tell (the engine stops asking) */
		req->res = 0;
		block_status_all_allocated(req);
	}
	/* a fast zero the LUN cannot do fast: the client writes instead */
	if (req->res == -EOPNOTSUPP && (req->h.flags & NBD_CMD_FLAG_FAST_ZERO))
		req->nbd_err = NBD_ENOTSUP;
	else if (req->res < 0)
		req->nbd_err = errno_to_nbd(req->res);
	else
		lb_io_stats_count(&req->c->srv->st.io, io_op(req->h.type), req->h.count);
	nbd_req_reply(req);
}

static void req_sub_done(struct lb_io *io, int res)
{
	struct nbd_req *req = io->arg;
	struct nbd_conn *c = req->c;

	/* a short transfer: ask the engine for the rest (it reports whole
	 * blocks, and an error when it made no progress), so that a reply
	 * never carries bytes that were not read */
	if (res >= 0 && (io->op == LB_IO_READ || io->op == LB_IO_WRITE) &&
	    (uint32_t)res < io->length) {
		struct iovec *iov = &req->iov[io - req->io];

		if (res == 0) {
			res = -EIO;
		} else if (c->closing) {
			/* given up (fenced): nothing more may reach the LUN */
			res = -ECANCELED;
		} else {
			io->offset += (uint32_t)res;
			io->length -= (uint32_t)res;
			iov->iov_base = (uint8_t *)iov->iov_base + res;
			iov->iov_len -= (size_t)res;
			res = lb_engine_submit(c->engine, io);
			if (res == 0)
				return;
		}
	}
	c->hold++;
	if (res < 0 && req->res == 0)
		req->res = res;
	if (res > 0 && io->op == LB_IO_BLOCK_STATUS)
		req->extents = (unsigned)res;
	req_sub_put(req);
	nbd_conn_unhold(c);
}

void nbd_req_dispatch(struct nbd_req *req)
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
		if (req->h.type == NBD_CMD_BLOCK_STATUS) {
			size_t room = block_status_cap(req) * sizeof(struct lb_extent);

			req->iov[i] = (struct iovec){req->buf, room};
			io->iov = &req->iov[i];
			io->iovcnt = 1;
		} else if (req->buf) {
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

	if (h->type == NBD_CMD_FLUSH || h->type == NBD_CMD_BLOCK_STATUS)
		return 1; /* BLOCK_STATUS: one question, answered for a prefix */
	max = lb_io_op_max(&c->engine->info, io_op(h->type));
	if (max == 0)
		return 0;
	return (unsigned)((h->count + (uint64_t)max - 1) / max);
}

/* The buffer a checked request needs: its payload, or BLOCK_STATUS's. */
static uint32_t req_buflen(const struct nbd_req_hdr *h)
{
	if (h->type == NBD_CMD_BLOCK_STATUS)
		return block_status_buflen(h);
	return h->type == NBD_CMD_READ || h->type == NBD_CMD_WRITE ? h->count : 0;
}

/* CACHE (a hint: nothing to do) and BLOCK_STATUS where the LUN does not
 * tell are answered here, without the engine. */
static bool answered_here(const struct nbd_conn *c, const struct nbd_req_hdr *h)
{
	return h->type == NBD_CMD_CACHE ||
	       (h->type == NBD_CMD_BLOCK_STATUS && !c->engine->info.block_status);
}

/* Answer a request answered_here(): -ENOMEM, to be tried again. */
static int conn_answer_here(struct nbd_conn *c, const struct nbd_req_hdr *h)
{
	bool bs = h->type == NBD_CMD_BLOCK_STATUS;
	struct nbd_req *req = req_new(c, h, 0, bs ? block_status_buflen(h) : 0);

	if (!req)
		return -ENOMEM;
	if (bs)
		block_status_all_allocated(req);
	nbd_req_reply(req);
	return 0;
}

int nbd_conn_request(struct nbd_conn *c, const struct nbd_req_hdr *h)
{
	uint32_t err = nbd_request_check(h, c->srv->x, c->structured, c->neg.meta_allocation);
	struct nbd_req *req;
	unsigned nsub = 0;

	if (h->type == NBD_CMD_DISC) {
		c->rx = RX_STOPPED;
		c->draining = true; /* answer what is in flight, then close */
		return 0;
	}
	if (err == NBD_SUCCESS && answered_here(c, h))
		return conn_answer_here(c, h);
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
		return 0;
	}
	req = req_new(c, h, err ? 0 : nsub, err ? 0 : req_buflen(h));
	if (!req)
		return -ENOMEM; /* the caller waits for memory, never closes */
	req->nbd_err = err;
	if (err) {
		nbd_req_reply(req);
	} else if (nbd_request_has_payload(h)) {
		c->rx_req = req;
		c->rx = RX_PAYLOAD;
	} else {
		nbd_req_dispatch(req);
	}
	return 0;
}

int nbd_conn_discarded(struct nbd_conn *c)
{
	const struct nbd_req_hdr *h = &c->discard_hdr;
	uint32_t err = nbd_request_check(h, c->srv->x, c->structured, c->neg.meta_allocation);
	struct nbd_req *req = req_new(c, h, 0, 0);

	if (!req)
		return -ENOMEM; /* stays in RX_DISCARD, all read: tried again */
	c->rx = RX_REQ_HDR;
	req->nbd_err = err ? err : NBD_EINVAL; /* too large to take */
	nbd_req_reply(req);
	return 0;
}
