/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD server's send side: replies (a structured chunk for READ when
 * agreed, else a simple reply) and negotiation answers queue as tx items
 * (header plus data) and go out as one SENDMSG per batch, in completion
 * order.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "nbd-server-internal.h"

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
		nbd_conn_close(c, "cannot queue a send");
		return;
	}
	io_uring_prep_sendmsg(sqe, c->fd, &c->tx_msg, MSG_NOSIGNAL);
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

static void tx_release(struct nbd_conn *c, struct tx_item *t)
{
	if (t->req) {
		nbd_req_free(t->req);
	} else {
		free(t->own);
		free(t);
	}
}

/* Answer a request: a structured chunk for READ when agreed, else a
 * simple reply; READ data follows a successful header. */
void nbd_req_reply(struct nbd_req *req)
{
	struct nbd_conn *c = req->c;
	struct tx_item *t = &req->tx;
	uint32_t err = req->nbd_err;
	bool data = err == NBD_SUCCESS && req->h.type == NBD_CMD_READ;
	bool bstatus = err == NBD_SUCCESS && req->h.type == NBD_CMD_BLOCK_STATUS;
	size_t bslen = 0;

	if (c->closing) {
		nbd_req_free(req);
		return;
	}
	if (err)
		lb_io_stats_error(&c->srv->st.io);
	t->req = req;
	t->iovcnt = 1;
	if (c->structured && (req->h.type == NBD_CMD_READ || req->h.type == NBD_CMD_BLOCK_STATUS)) {
		struct nbd_structured_reply sr = {
			.magic = htobe32(NBD_STRUCTURED_REPLY_MAGIC),
			.flags = htobe16(NBD_REPLY_FLAG_DONE),
			.handle = req->h.handle,
		};
		if (bstatus) {
			/* encoded after the engine's extents, in the same buffer */
			uint8_t *payload = req->buf + req->extents * sizeof(struct lb_extent);

			bslen = nbd_block_status_encode(
				NBD_META_ID_ALLOCATION, (const struct lb_extent *)(void *)req->buf,
				req->extents, req->h.count, req->h.flags & NBD_CMD_FLAG_REQ_ONE,
				payload);
			sr.type = htobe16(NBD_REPLY_TYPE_BLOCK_STATUS);
			sr.length = htobe32((uint32_t)bslen);
			memcpy(t->hdr, &sr, sizeof(sr));
			t->iov[0] = (struct iovec){t->hdr, sizeof(sr)};
			t->iov[1] = (struct iovec){payload, bslen};
			t->iovcnt = 2;
		} else if (data) {
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

void nbd_conn_send_neg(struct nbd_conn *c, struct nbd_buf *b)
{
	struct tx_item *t;

	if (b->len == 0)
		return;
	t = calloc(1, sizeof(*t));
	if (!t) {
		nbd_buf_free(b);
		nbd_conn_close(c, "out of memory");
		return;
	}
	t->own = b->p;
	t->iov[0] = (struct iovec){b->p, b->len};
	t->iovcnt = 1;
	*b = (struct nbd_buf){0};
	tx_queue(c, t);
}

void nbd_conn_tx_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct nbd_conn *c = container_of(op, struct nbd_conn, tx_op);
	size_t left = res > 0 ? (size_t)res : 0;

	c->hold++;
	if (res <= 0 && !c->closing) {
		char why[96];

		snprintf(why, sizeof(why), "send failed: %s", res ? strerror(-res) : "closed");
		nbd_conn_close(c, why);
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
	nbd_conn_unhold(c);
}

void nbd_conn_tx_drop(struct nbd_conn *c)
{
	while (c->txq_head) {
		struct tx_item *t = c->txq_head;

		c->txq_head = t->next;
		tx_release(c, t);
	}
	c->txq_tail = NULL;
}
