/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An NBD connection's lifetime: made (nbd_conn_new), given an engine by
 * its owner, held by every entry point in progress, closed, and freed
 * once it is closing and has no SQE and no request in flight; requests
 * keep their buffers until the engine is done with them and their reply
 * is sent (or dropped).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "nbd-server-internal.h"

void nbd_conn_close(struct nbd_conn *c, const char *why)
{
	struct nbd_server *srv = c->srv;
	bool lost = !c->draining && !srv->shutdown;

	if (c->closing)
		return;
	/* a handed-over socket's owner says it in its own words */
	if (c->sops && lost)
		c->sops->lost(c->sarg, c->inflight, why);
	else if (why)
		nbd_server_log(srv, "nbd client %s: %s", c->peer, why);
	c->closing = true;
	c->rx = RX_STOPPED;
	/* wake the receive and send in flight: they end with 0 or -EPIPE */
	(void)shutdown(c->fd, SHUT_RDWR);
	if (c->mem_op.busy)
		lb_loop_cancel(srv->loop, &c->mem_op);
	/* nobody reads their replies: fence them (the kernel re-sends a dead
	 * socket's requests on another, which must not race this copy) */
	if (c->inflight && c->opened && lost && srv->ops->conn_cancel)
		srv->ops->conn_cancel(srv->arg, c);
}

void nbd_conn_abort(struct nbd_conn *c, const char *why)
{
	c->hold++;
	nbd_conn_close(c, why);
	nbd_conn_unhold(c);
}

void nbd_conn_start_transmission(struct nbd_conn *c)
{
	int r;

	c->structured = c->neg.structured;
	c->rx = RX_WAIT_ENGINE;
	r = c->srv->ops->conn_open(c->srv->arg, c);
	if (r < 0) {
		nbd_conn_close(c, "no path to the LUN");
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
		c->rx = RX_REQ_HDR; /* nbd_conn_unhold() starts reading */
	nbd_conn_unhold(c);
}

void nbd_conn_set_priv(struct nbd_conn *c, void *priv)
{
	c->priv = priv;
}

void *nbd_conn_get_priv(const struct nbd_conn *c)
{
	return c->priv;
}

/* Free a closed connection once nothing of it is in flight. */
static void conn_try_free(struct nbd_conn *c)
{
	struct nbd_server *srv = c->srv;

	/* a handshake's thread holds c->fd and c->tls_res until tls_op ends */
	if (c->rx_op.busy || c->tx_op.busy || c->hs_timeout_op.busy || c->mem_op.busy ||
	    c->tls_op.busy)
		return;
	/* replies still queued will never go out */
	nbd_conn_tx_drop(c);
	if (c->rx_req) {
		nbd_req_free(c->rx_req);
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
	/* every request answered or fenced: its owner may replace it */
	if (c->sops)
		c->sops->gone(c->sarg);
	free(c->rxbuf);
	free(c);
}

/* The handshake's thread is done: go on over TLS, or close. */
static void conn_tls_result(struct nbd_conn *c)
{
	struct nbd_server *srv = c->srv;
	struct nbd_tls_result *res = &c->tls_res;

	close(c->tls_efd);
	c->tls_efd = -1;
	if (res->fd < 0) {
		srv->st.tls_failures++;
		nbd_conn_close(c, res->why);
		return;
	}
	/* the relay's socketpair end (the relay owns the TCP socket now),
	 * or the same socket with kTLS */
	c->fd = res->fd;
	srv->st.tls_handshakes++;
	/* said once per export, and again when the reason changes */
	if (res->records == NBD_TLS_RECORDS_GNUTLS && res->why[0] &&
	    (srv->st.tls_records != NBD_TLS_RECORDS_GNUTLS || strcmp(srv->tls_why, res->why))) {
		nbd_server_log(srv, "TLS records in user space (GnuTLS): %s", res->why);
		snprintf(srv->tls_why, sizeof(srv->tls_why), "%s", res->why);
	}
	srv->st.tls_records = res->records;
	if (c->closing) { /* while the handshake ran: the relay ends too */
		(void)shutdown(c->fd, SHUT_RDWR);
		return;
	}
	nbd_negotiate_tls_started(&c->neg);
	c->rx = RX_OPT_HDR;
	c->rx_off = c->rx_len = 0;
	nbd_conn_rx_process(c);
}

static void tls_done(struct lb_op *op, int res, uint32_t flags)
{
	struct nbd_conn *c = container_of(op, struct nbd_conn, tls_op);

	c->hold++;
	if (res == -EINTR || res == -EAGAIN) { /* not the eventfd's value yet: again */
		struct io_uring_sqe *sqe;

		if (lb_loop_sqe(c->srv->loop, &c->tls_op, &sqe) == 0) {
			io_uring_prep_read(sqe, c->tls_efd, &c->tls_val, sizeof(c->tls_val), 0);
			nbd_conn_unhold(c);
			return;
		}
		while (read(c->tls_efd, &c->tls_val, sizeof(c->tls_val)) < 0 && errno == EINTR)
			;
	}
	conn_tls_result(c);
	nbd_conn_unhold(c);
}

void nbd_conn_starttls(struct nbd_conn *c)
{
	/* the client waits for the ACK before its ClientHello: plaintext
	 * sent after STARTTLS must not pass for what came over TLS */
	if (c->rx_off != c->rx_len) {
		nbd_conn_close(c, "data after STARTTLS, before the TLS handshake");
		return;
	}
	c->rx = RX_TLS; /* nbd_conn_unhold() starts the handshake once the ACK is out */
}

/* Start the handshake's thread, and a read of its eventfd. */
static void conn_tls_begin(struct nbd_conn *c)
{
	struct nbd_server *srv = c->srv;
	struct io_uring_sqe *sqe;
	int r;

	c->tls_started = true;
	r = nbd_tls_handshake_start(srv->tls, c->fd, c->hs_deadline_ms, &c->tls_res, &c->tls_efd);
	if (r < 0) {
		char why[96];

		snprintf(why, sizeof(why), "cannot start the TLS handshake: %s", strerror(-r));
		nbd_conn_close(c, why);
		return;
	}
	if (lb_loop_sqe(srv->loop, &c->tls_op, &sqe) == 0) {
		io_uring_prep_read(sqe, c->tls_efd, &c->tls_val, sizeof(c->tls_val), 0);
		return;
	}
	/* no SQE: wait here (the handshake's deadline bounds it) */
	while (read(c->tls_efd, &c->tls_val, sizeof(c->tls_val)) < 0 && errno == EINTR)
		;
	conn_tls_result(c);
}

/* Memory is back under the server's limit: the connections that stopped
 * for want of it read again. */
static void server_resume(struct nbd_server *srv)
{
	srv->resume = false;
	for (struct nbd_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (c->hold || c->closing || c->rx_op.busy || c->mem_op.busy)
			continue;
		if (c->mem_wait) { /* its retry could not be queued */
			c->mem_wait = false;
			c->hold++;
			nbd_conn_rx_process(c);
			nbd_conn_unhold(c);
			continue;
		}
		if (c->rx != RX_REQ_HDR)
			continue;
		c->hold++;
		nbd_conn_unhold(c); /* reads if it has room */
	}
}

/* The end of every entry point (a completion, a call from the owner):
 * once no entry point is in progress, act on the state left behind.
 * c may be freed: the caller must not touch it afterwards. */
void nbd_conn_unhold(struct nbd_conn *c)
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
			nbd_conn_close(c, NULL); /* DISC, ABORT or shutdown: all answered */
			continue;
		}
		if (c->rx == RX_TLS && !c->tls_started && !c->txq_head && !c->tx_op.busy) {
			c->hold++;
			conn_tls_begin(c); /* STARTTLS's ACK is out */
			c->hold--;
			continue;
		}
		if (c->rx == RX_REQ_HDR && !c->draining && !c->rx_op.busy && !c->mem_wait &&
		    nbd_conn_has_room(c)) {
			c->hold++;
			nbd_conn_rx_process(c); /* posts a read or stops at a limit */
			c->hold--;
			if (!c->closing && (c->rx_op.busy || c->rx != RX_REQ_HDR ||
					    !nbd_conn_has_room(c) || c->draining || c->mem_wait))
				break;
			continue;
		}
		break;
	}
	if (srv->resume)
		server_resume(srv);
}

static void hs_timeout_done(struct lb_op *op, int res, uint32_t flags)
{
	struct nbd_conn *c = container_of(op, struct nbd_conn, hs_timeout_op);

	/* the receive it guards ends too (-ECANCELED if this fired) */
	c->hold++;
	nbd_conn_unhold(c);
}

static void mem_retry_done(struct lb_op *op, int res, uint32_t flags)
{
	struct nbd_conn *c = container_of(op, struct nbd_conn, mem_op);

	c->hold++;
	if (c->mem_wait && !c->closing) {
		c->mem_wait = false;
		nbd_conn_rx_process(c); /* the request that found no memory, again */
	}
	nbd_conn_unhold(c);
}

void nbd_conn_wait_memory(struct nbd_conn *c)
{
	struct nbd_server *srv = c->srv;
	struct io_uring_sqe *sqe;

	if (!srv->mem_short)
		nbd_server_log(srv,
			       "nbd client %s: out of memory for a request: it waits (reading "
			       "stops) until memory is back",
			       c->peer);
	srv->mem_short = true;
	c->mem_wait = true;
	if (c->mem_op.busy)
		return;
	if (lb_loop_sqe(srv->loop, &c->mem_op, &sqe) < 0)
		return; /* no SQE either: the next request freed resumes it */
	c->mem_ts.tv_sec = 0;
	c->mem_ts.tv_nsec = NBD_MEM_RETRY_MS * 1000000LL;
	io_uring_prep_timeout(sqe, &c->mem_ts, 0, 0);
}

struct nbd_conn *nbd_conn_new(struct nbd_server *srv, int fd)
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
	lb_op_init(&c->rx_op, nbd_conn_rx_done);
	lb_op_init(&c->tx_op, nbd_conn_tx_done);
	lb_op_init(&c->hs_timeout_op, hs_timeout_done);
	lb_op_init(&c->mem_op, mem_retry_done);
	lb_op_init(&c->tls_op, tls_done);
	c->tls_efd = -1;
	nbd_negotiate_init(&c->neg, srv->x);
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->st.connections++;
	srv->st.accepted++;
	return c;
}
