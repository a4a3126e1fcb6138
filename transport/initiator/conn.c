/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One TCP connection of a session on io_uring: connect with a linked
 * timeout, a receive state machine (BHS, then AHS and header digest, then
 * the data segment: into our buffer, or straight into a task's buffers for
 * Data-In) and a send queue flushed as one sendmsg per batch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "digest.h"
#include "session-internal.h"

/* One RECV takes up to this much: the PDUs of many small commands at
 * once.  A data segment with at least RX_DIRECT_MIN bytes still to come
 * is received straight into its destination instead. */
#define RX_STAGE_SIZE (64 * 1024)
#define RX_DIRECT_MIN (16 * 1024)


struct iscsi_txbuf *iscsi_txbuf_new(void)
{
	struct iscsi_txbuf *tx = calloc(1, sizeof(struct iscsi_txbuf));

	if (tx)
		tx->itt = ISCSI_RESERVED_TAG;
	return tx;
}

/* Free a PDU the live connection is done with, telling its task. */
static void tx_release(struct iscsi_conn *c, struct iscsi_txbuf *tx)
{
	uint32_t itt = tx->itt;

	iscsi_txbuf_free(tx);
	if (itt != ISCSI_RESERVED_TAG && !c->dead)
		iscsi_task_tx_released(c->s, itt);
}

unsigned iscsi_conn_purge(struct iscsi_conn *c, uint32_t itt)
{
	struct iscsi_txbuf **p = &c->txq_head, *last = NULL;
	unsigned n = 0;

	while (*p) {
		struct iscsi_txbuf *tx = *p;

		if (tx->itt == itt) {
			*p = tx->next;
			iscsi_txbuf_free(tx);
			n++;
		} else {
			last = tx;
			p = &tx->next;
		}
	}
	c->txq_tail = last;
	return n;
}

void iscsi_txbuf_free(struct iscsi_txbuf *tx)
{
	if (!tx)
		return;
	free(tx->owned);
	free(tx);
}

int iscsi_iov_slice(const struct iovec *iov, unsigned iovcnt, size_t off, size_t len,
		    struct iovec *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < iovcnt && len > 0; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (n == max)
			return -EINVAL;
		out[n].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[n].iov_len = l - off < len ? l - off : len;
		len -= out[n].iov_len;
		off = 0;
		n++;
	}
	return len ? -EINVAL : (int)n;
}

int iscsi_txbuf_frame(struct iscsi_txbuf *tx, const union iscsi_hdr *bhs, const struct iovec *iov,
		      unsigned iovcnt, const struct iscsi_pdu_limits *limits, lb_err *err)
{
	int r;

	if (iovcnt > ISCSI_CMD_MAX_IOV)
		return lb_err_set(err, EINVAL, "too many data buffers (%u)", iovcnt);
	r = iscsi_pdu_encode(bhs, NULL, 0, iov, iovcnt, limits, &tx->frame, err);
	if (r < 0)
		return r;
	tx->iovcnt = 0;
	tx->iov[tx->iovcnt++] = (struct iovec){tx->frame.hdr, tx->frame.hdr_len};
	for (unsigned i = 0; i < iovcnt; i++)
		if (iov[i].iov_len)
			tx->iov[tx->iovcnt++] = iov[i];
	if (tx->frame.trailer_len)
		tx->iov[tx->iovcnt++] = (struct iovec){tx->frame.trailer, tx->frame.trailer_len};
	return 0;
}

/* Consume done bytes from iov[*pos..cnt); returns true when all is done. */
static bool iov_advance(struct iovec *iov, unsigned cnt, unsigned *pos, size_t done)
{
	while (*pos < cnt) {
		struct iovec *v = &iov[*pos];

		if (done < v->iov_len) {
			v->iov_base = (uint8_t *)v->iov_base + done;
			v->iov_len -= done;
			return false;
		}
		done -= v->iov_len;
		(*pos)++;
	}
	return true;
}

static void conn_put(struct iscsi_conn *c)
{
	if (--c->ops == 0 && c->dead) {
		struct iscsi_txbuf *tx;

		while ((tx = c->txq_head)) {
			c->txq_head = tx->next;
			iscsi_txbuf_free(tx);
		}
		while ((tx = c->tx_batch)) {
			c->tx_batch = tx->next;
			iscsi_txbuf_free(tx);
		}
		if (c->fd >= 0)
			close(c->fd);
		free(c->rxs);
		free(c->rx_buf);
		free(c);
	}
}

static int conn_sqe(struct iscsi_conn *c, struct lb_op *op, struct io_uring_sqe **ret)
{
	int r = lb_loop_sqe(c->s->loop, op, ret);

	if (r == 0)
		c->ops++;
	return r;
}

static void conn_fail(struct iscsi_conn *c, int res, const char *reason)
{
	if (c->dead)
		return;
	iscsi_session_conn_failed(c->s, c, res, reason);
}

/* ---- connect ------------------------------------------------------------ */

static void on_rx(struct lb_op *op, int res, uint32_t flags);
static void on_tx(struct lb_op *op, int res, uint32_t flags);

static void on_link_timeout(struct lb_op *op, int res, uint32_t flags)
{
	struct iscsi_conn *c = container_of(op, struct iscsi_conn, link_timeout_op);

	conn_put(c);
}

static void on_connect(struct lb_op *op, int res, uint32_t flags)
{
	struct iscsi_conn *c = container_of(op, struct iscsi_conn, connect_op);

	if (!c->dead) {
		if (res == -ECANCELED)
			conn_fail(c, -ETIMEDOUT, "connect failed");
		else if (res < 0)
			conn_fail(c, res, "connect failed");
		else
			iscsi_session_connected(c->s, c);
	}
	conn_put(c);
}

int iscsi_conn_source_addr(const char *ip, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ret;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;

	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		*ret_len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		*ret_len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/* iface.ipaddress: the connection leaves from that address (as open-iscsi's
 * iscsid binds its software iSCSI socket), port chosen by the kernel. */
static int bind_source(struct iscsi_session *s, int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int r;

	if (!s->cfg.bind_addr || !s->cfg.bind_addr[0])
		return 0;
	r = iscsi_conn_source_addr(s->cfg.bind_addr, &ss, &len);
	if (r == 0 && ss.ss_family != family)
		return lb_err_set(&s->err, EAFNOSUPPORT,
				  "source address %s and portal %s are not of one address family",
				  s->cfg.bind_addr, s->portal);
	if (r == 0 && bind(fd, (struct sockaddr *)&ss, len) < 0)
		r = -errno;
	if (r < 0)
		return lb_err_set(&s->err, -r, "cannot bind to source address %s: %s",
				  s->cfg.bind_addr, strerror(-r));
	return 0;
}

int iscsi_conn_new(struct iscsi_session *s, const struct sockaddr *addr, socklen_t addrlen,
		   struct iscsi_conn **ret)
{
	struct iscsi_conn *c;
	int one = 1;

	if (addrlen > sizeof(c->addr))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	memcpy(&c->addr, addr, addrlen);
	c->addrlen = addrlen;
	iscsi_pdu_limits_init(&c->limits);
	c->rx_buf_cap = c->limits.max_recv_dsl + 8;
	c->rx_buf = malloc(c->rx_buf_cap);
	c->rxs = malloc(RX_STAGE_SIZE);
	c->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (!c->rx_buf || !c->rxs || c->fd < 0) {
		int r = c->rx_buf && c->rxs ? -errno : -ENOMEM;

		if (c->fd >= 0)
			close(c->fd);
		free(c->rxs);
		free(c->rx_buf);
		free(c);
		return lb_err_set(&s->err, r, "cannot create a socket: %s", strerror(-r));
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (s->cfg.bind_netdev && s->cfg.bind_netdev[0]) {
		const char *dev = s->cfg.bind_netdev;

		if (setsockopt(c->fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) <
		    0) {
			int r = -errno;

			close(c->fd);
			free(c->rxs);
			free(c->rx_buf);
			free(c);
			return lb_err_set(&s->err, r, "cannot bind to network device '%s': %s", dev,
					  strerror(-r));
		}
	}
	{
		int r = bind_source(s, c->fd, addr->sa_family);

		if (r < 0) {
			close(c->fd);
			free(c->rxs);
			free(c->rx_buf);
			free(c);
			return r;
		}
	}
	lb_op_init(&c->connect_op, on_connect);
	lb_op_init(&c->link_timeout_op, on_link_timeout);
	lb_op_init(&c->rx_op, on_rx);
	lb_op_init(&c->tx_op, on_tx);
	*ret = c;
	return 0;
}

int iscsi_conn_connect(struct iscsi_conn *c, uint32_t timeout_ms)
{
	struct io_uring_sqe *sqe, *lt;
	int r;

	/* both SQEs or neither: make room for two first */
	if (io_uring_sq_space_left(&c->s->loop->ring) < 2)
		(void)io_uring_submit(&c->s->loop->ring);
	r = conn_sqe(c, &c->connect_op, &sqe);
	if (r < 0)
		return r;
	io_uring_prep_connect(sqe, c->fd, (struct sockaddr *)&c->addr, c->addrlen);
	if (timeout_ms) {
		sqe->flags |= IOSQE_IO_LINK;
		r = conn_sqe(c, &c->link_timeout_op, &lt);
		if (r < 0) {
			sqe->flags &= (uint8_t)~IOSQE_IO_LINK;
			return r; /* the connect still completes */
		}
		c->connect_ts = lb_ms_timespec(timeout_ms);
		io_uring_prep_link_timeout(lt, &c->connect_ts, 0);
	}
	return 0;
}

void iscsi_conn_close(struct iscsi_conn *c)
{
	if (!c || c->dead)
		return;
	c->dead = true;
	(void)shutdown(c->fd, SHUT_RDWR);
	(void)lb_loop_cancel(c->s->loop, &c->connect_op);
	(void)lb_loop_cancel(c->s->loop, &c->rx_op);
	(void)lb_loop_cancel(c->s->loop, &c->tx_op);
	/* the fd is closed, and c freed, by conn_put() once the last SQE
	 * naming it has completed: an unsubmitted SQE must not meet a reused
	 * descriptor number */
	c->ops++;
	conn_put(c);
}

int iscsi_conn_set_limits(struct iscsi_conn *c, const struct iscsi_params *p)
{
	size_t need = (size_t)p->max_recv_dsl + 8;

	c->limits.header_digest = p->header_digest;
	c->limits.data_digest = p->data_digest;
	c->limits.max_recv_dsl = p->max_recv_dsl;
	c->limits.max_send_dsl = p->max_xmit_dsl;
	if (need > c->rx_buf_cap) {
		uint8_t *b = realloc(c->rx_buf, need);

		if (!b)
			return -ENOMEM;
		c->rx_buf = b;
		c->rx_buf_cap = need;
	}
	return 0;
}

/* ---- send --------------------------------------------------------------- */

static void tx_submit(struct iscsi_conn *c)
{
	struct io_uring_sqe *sqe;

	c->tx_msg = (struct msghdr){
		.msg_iov = c->tx_iov + c->tx_iov_pos,
		.msg_iovlen = c->tx_iovcnt - c->tx_iov_pos,
	};
	if (conn_sqe(c, &c->tx_op, &sqe) < 0) {
		conn_fail(c, -EBUSY, "submission queue full");
		return;
	}
	io_uring_prep_sendmsg(sqe, c->fd, &c->tx_msg, MSG_NOSIGNAL);
}

static void tx_kick(struct iscsi_conn *c)
{
	struct iscsi_txbuf **tail = &c->tx_batch;

	if (c->dead || c->tx_op.busy || c->tx_batch || !c->txq_head)
		return;
	c->tx_iovcnt = 0;
	c->tx_iov_pos = 0;
	while (c->txq_head && c->tx_iovcnt + c->txq_head->iovcnt <= ISCSI_TX_IOV_MAX) {
		struct iscsi_txbuf *tx = c->txq_head;

		c->txq_head = tx->next;
		tx->next = NULL;
		memcpy(c->tx_iov + c->tx_iovcnt, tx->iov, tx->iovcnt * sizeof(struct iovec));
		c->tx_iovcnt += tx->iovcnt;
		*tail = tx;
		tail = &tx->next;
	}
	if (!c->txq_head)
		c->txq_tail = NULL;
	tx_submit(c);
}

static void on_tx(struct lb_op *op, int res, uint32_t flags)
{
	struct iscsi_conn *c = container_of(op, struct iscsi_conn, tx_op);

	if (c->dead)
		goto out;
	if (res < 0) {
		conn_fail(c, res, "send failed");
		goto out;
	}
	if (!iov_advance(c->tx_iov, c->tx_iovcnt, &c->tx_iov_pos, (size_t)res)) {
		tx_submit(c);
		goto out;
	}
	/* detach the batch first: releasing may complete a command whose
	 * callback queues (and kicks) new PDUs */
	{
		struct iscsi_txbuf *done = c->tx_batch;

		c->tx_batch = NULL;
		while (done) {
			struct iscsi_txbuf *tx = done;

			done = tx->next;
			tx_release(c, tx);
		}
	}
	tx_kick(c);
out:
	conn_put(c);
}

void iscsi_conn_queue(struct iscsi_conn *c, struct iscsi_txbuf *tx)
{
	if (c->dead) {
		iscsi_txbuf_free(tx);
		return;
	}
	tx->next = NULL;
	if (c->txq_tail)
		c->txq_tail->next = tx;
	else
		c->txq_head = tx;
	c->txq_tail = tx;
	tx_kick(c);
}

/* ---- receive ------------------------------------------------------------ */

static size_t iov_left(const struct iovec *iov, unsigned cnt, unsigned pos)
{
	size_t n = 0;

	for (; pos < cnt; pos++)
		n += iov[pos].iov_len;
	return n;
}

/* Post the next RECV: straight into a large data segment's destination,
 * else into the staging buffer (kept compact). */
static void rx_post(struct iscsi_conn *c)
{
	struct io_uring_sqe *sqe;

	if (conn_sqe(c, &c->rx_op, &sqe) < 0) {
		conn_fail(c, -EBUSY, "submission queue full");
		return;
	}
	if (c->rx_stage == ISCSI_RX_DATA && c->rxs_off == c->rxs_len &&
	    iov_left(c->rx_iov, c->rx_iovcnt, c->rx_iov_pos) >= RX_DIRECT_MIN) {
		c->rx_into_stage = false;
		c->rx_msg = (struct msghdr){
			.msg_iov = c->rx_iov + c->rx_iov_pos,
			.msg_iovlen = c->rx_iovcnt - c->rx_iov_pos,
		};
		io_uring_prep_recvmsg(sqe, c->fd, &c->rx_msg, 0);
		return;
	}
	if (c->rxs_off == c->rxs_len) {
		c->rxs_off = c->rxs_len = 0;
	} else if (c->rxs_off) {
		memmove(c->rxs, c->rxs + c->rxs_off, c->rxs_len - c->rxs_off);
		c->rxs_len -= c->rxs_off;
		c->rxs_off = 0;
	}
	c->rx_into_stage = true;
	io_uring_prep_recv(sqe, c->fd, c->rxs + c->rxs_len, RX_STAGE_SIZE - c->rxs_len, 0);
}

/* Expect a BHS next (no receive is posted here). */
static void rx_reset(struct iscsi_conn *c)
{
	c->rx_stage = ISCSI_RX_BHS;
	c->rx_have = 0;
	c->rx_want = ISCSI_BHS_LEN;
}

static void rx_pump(struct iscsi_conn *c);

int iscsi_conn_start_rx(struct iscsi_conn *c)
{
	rx_reset(c);
	c->rx_stopped = false;
	c->last_rx_ms = lb_now_ms();
	rx_pump(c);
	return 0;
}

static bool rx_data_digest_ok(struct iscsi_conn *c)
{
	uint32_t crc = ISCSI_CRC32C_INIT, want;

	if (!c->rx.ddigest_len)
		return true;
	crc = iscsi_crc32c_update_iov(crc, c->rx_win, c->rx_wincnt);
	crc = iscsi_crc32c_update(crc, c->rx_trailer, c->rx.pad_len);
	want = iscsi_digest_get(c->rx_trailer + c->rx.pad_len);
	return iscsi_crc32c_final(crc) == want;
}

/* A whole PDU is in: hand it to the session, then expect the next one
 * (unless the session took the connection off meanwhile). */
static void rx_complete(struct iscsi_conn *c)
{
	struct iscsi_session *s = c->s;

	iscsi_session_rx_pdu(s, c, c->rx_direct ? NULL : c->rx_buf);
	if (!c->dead && s->conn == c)
		rx_reset(c);
	else
		c->rx_stopped = true;
}

/* BHS and header rest are in rx_hdr: set up the data stage. */
static void rx_header_done(struct iscsi_conn *c)
{
	lb_err err;
	size_t rest = iscsi_pdu_rx_data_rest(&c->rx);
	int r;

	r = iscsi_pdu_rx_check_header(&c->rx, c->rx_hdr + ISCSI_BHS_LEN,
				      iscsi_pdu_rx_header_rest(&c->rx), &err);
	if (r < 0) {
		conn_fail(c, r, err.msg);
		return;
	}
	c->rx_direct = false;
	if (rest == 0) {
		rx_complete(c);
		return;
	}
	r = iscsi_session_rx_dest(c->s, c);
	if (r < 0) {
		conn_fail(c, r, c->s->err.msg);
		return;
	}
	if (r == 1) {
		c->rx_direct = true;
		memcpy(c->rx_win, c->rx_iov, c->rx_iovcnt * sizeof(struct iovec));
		c->rx_wincnt = c->rx_iovcnt;
		if (c->rx.pad_len + c->rx.ddigest_len)
			c->rx_iov[c->rx_iovcnt++] =
				(struct iovec){c->rx_trailer, c->rx.pad_len + c->rx.ddigest_len};
	} else {
		if (rest > c->rx_buf_cap) {
			conn_fail(c, -EMSGSIZE, "data segment larger than our buffer");
			return;
		}
		c->rx_iov[0] = (struct iovec){c->rx_buf, rest};
		c->rx_iovcnt = 1;
	}
	c->rx_iov_pos = 0;
	c->rx_stage = ISCSI_RX_DATA;
}

/* The data segment is in: check it, then complete the PDU. */
static void rx_data_done(struct iscsi_conn *c)
{
	lb_err err;
	int r;

	if (c->rx_direct) {
		if (!rx_data_digest_ok(c)) {
			conn_fail(c, -EBADMSG, "data digest mismatch on Data-In");
			return;
		}
	} else {
		r = iscsi_pdu_rx_check_data(&c->rx, c->rx_buf, iscsi_pdu_rx_data_rest(&c->rx),
					    &err);
		if (r < 0) {
			conn_fail(c, r, err.msg);
			return;
		}
	}
	rx_complete(c);
}

/* The BHS is in: how long the rest of the header is. */
static void rx_bhs_done(struct iscsi_conn *c)
{
	lb_err err;
	int r = iscsi_pdu_rx_begin(c->rx_hdr, &c->limits, &c->rx, &err);

	if (r < 0) {
		conn_fail(c, r, err.msg);
		return;
	}
	if (iscsi_pdu_rx_header_rest(&c->rx)) {
		c->rx_stage = ISCSI_RX_HEADER;
		c->rx_want = ISCSI_BHS_LEN + iscsi_pdu_rx_header_rest(&c->rx);
		return;
	}
	rx_header_done(c);
}

/* Feed what the staging buffer holds to the receive stages, PDU after
 * PDU; post a RECV once it runs dry. */
static void rx_pump(struct iscsi_conn *c)
{
	while (!c->dead && !c->rx_stopped && !c->rx_op.busy) {
		size_t avail = c->rxs_len - c->rxs_off;
		const uint8_t *src = c->rxs + c->rxs_off;

		if (c->rx_stage != ISCSI_RX_DATA) {
			size_t n = c->rx_want - c->rx_have;

			if (n > avail)
				n = avail;
			memcpy(c->rx_hdr + c->rx_have, src, n);
			c->rx_have += n;
			c->rxs_off += n;
			if (c->rx_have < c->rx_want)
				break;
			if (c->rx_stage == ISCSI_RX_BHS)
				rx_bhs_done(c);
			else
				rx_header_done(c);
			continue;
		}
		while (avail && c->rx_iov_pos < c->rx_iovcnt) {
			struct iovec *v = &c->rx_iov[c->rx_iov_pos];
			size_t n = v->iov_len < avail ? v->iov_len : avail;

			memcpy(v->iov_base, src, n);
			src += n;
			avail -= n;
			c->rxs_off += n;
			(void)iov_advance(c->rx_iov, c->rx_iovcnt, &c->rx_iov_pos, n);
		}
		if (c->rx_iov_pos < c->rx_iovcnt)
			break;
		rx_data_done(c);
	}
	if (!c->dead && !c->rx_stopped && !c->rx_op.busy)
		rx_post(c);
}

static void on_rx(struct lb_op *op, int res, uint32_t flags)
{
	struct iscsi_conn *c = container_of(op, struct iscsi_conn, rx_op);

	if (c->dead)
		goto out;
	if (res <= 0) {
		conn_fail(c, res == 0 ? -ECONNRESET : res,
			  res == 0 ? "the target closed the connection" : "receive failed");
		goto out;
	}
	c->last_rx_ms = lb_now_ms();
	if (c->rx_into_stage) {
		c->rxs_len += (size_t)res;
	} else if (iov_advance(c->rx_iov, c->rx_iovcnt, &c->rx_iov_pos, (size_t)res)) {
		rx_data_done(c); /* a large data segment, received in place */
	}
	rx_pump(c);
out:
	conn_put(c);
}
