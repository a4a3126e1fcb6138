/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD server: its connections come from a listening socket (accepted
 * here, then negotiation) or are handed over already connected
 * (nbd_server_add_socket); shutdown, idle, stats and free.  The phases of
 * a connection are in nbd-conn.c (lifetime), nbd-recv.c (receive),
 * nbd-dispatch.c (requests to the engine), nbd-send.c (replies) and
 * nbd-buffers.c (payload buffers); nbd-server-internal.h ties them.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "nbd-server-internal.h"

#define SERVER_MAX_CONNS 64
#define SOCKET_BUFFER (4 << 20)

void nbd_server_log(struct nbd_server *srv, const char *fmt, ...)
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

/* At the connection limit: the oldest client still in its handshake
 * gives way to the new one, so that clients that connect and say nothing
 * cannot lock the others out.  False if every slot serves a client. */
static bool make_room(struct nbd_server *srv)
{
	struct nbd_conn *oldest = NULL;

	for (struct nbd_conn *c = srv->conns; c; c = c->next) /* newest first */
		if (!c->closing && c->rx < RX_WAIT_ENGINE)
			oldest = c;
	if (!oldest)
		return false;
	nbd_conn_abort(oldest,
		       "closed to make room: still in its handshake at the connection limit");
	return true;
}

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
		nbd_server_log(srv, "accept failed: %s", strerror(-res));
		accept_arm(srv);
		return;
	}
	if (srv->st.connections >= SERVER_MAX_CONNS && !make_room(srv)) {
		nbd_server_log(srv, "refusing a client: %u connections already",
			       srv->st.connections);
		close(res);
		accept_arm(srv);
		return;
	}
	(void)setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	socket_buffers(res);
	c = nbd_conn_new(srv, res);
	if (!c) {
		close(res);
		accept_arm(srv);
		return;
	}
	peer_name(res, c->peer, sizeof(c->peer));
	c->rx = RX_CFLAGS;
	if (srv->tls)
		c->neg.tls_mode = nbd_tls_mode(srv->tls);
	/* a client that does not finish the handshake does not hold a
	 * connection slot for ever (qemu-nbd's limit is 10 s too) */
	c->hs_deadline_ms = lb_now_ms() + NBD_HANDSHAKE_TIMEOUT_MS;
	c->hold++;
	if (nbd_negotiate_greeting(&out) < 0) {
		nbd_buf_free(&out);
		nbd_conn_close(c, "out of memory");
	} else {
		nbd_conn_send_neg(c, &out);
		nbd_conn_rx_process(c);
	}
	nbd_conn_unhold(c);
	accept_arm(srv);
}

static void accept_arm(struct nbd_server *srv)
{
	struct io_uring_sqe *sqe;

	if (srv->shutdown || srv->listen_fd < 0)
		return;
	if (lb_loop_sqe(srv->loop, &srv->accept_op, &sqe) < 0) {
		nbd_server_log(srv, "cannot queue an accept");
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
	nbd_buf_pool_init(&srv->bufs, loop);
	*ret = srv;
	return 0;
}

void nbd_server_set_tls(struct nbd_server *srv, struct nbd_tls *tls)
{
	srv->tls = tls;
}

int nbd_server_listen(struct nbd_server *srv, int fd)
{
	if (srv->listen_fd >= 0)
		return -EBUSY;
	srv->listen_fd = fd;
	accept_arm(srv);
	return srv->accept_op.busy ? 0 : -EAGAIN;
}

int nbd_server_add_socket(struct nbd_server *srv, int fd, const struct nbd_socket_ops *sops,
			  void *arg)
{
	struct nbd_conn *c = nbd_conn_new(srv, fd);

	if (!c)
		return -ENOMEM;
	c->sops = sops;
	c->sarg = arg;
	snprintf(c->peer, sizeof(c->peer), "kernel socket %d", fd);
	socket_buffers(fd);
	c->hold++;
	nbd_conn_start_transmission(c);
	nbd_conn_unhold(c); /* reads once the engine is there */
	return 0;
}

/* Close the handed-over sockets but self whose peer has shut them down. */
static unsigned check_sockets(struct nbd_server *srv, const struct nbd_conn *self)
{
	unsigned n = 0;

	/* new connections go in at the head: next stays valid */
	for (struct nbd_conn *c = srv->conns, *next; c; c = next) {
		struct pollfd p;

		next = c->next;
		if (!c->sops || c->closing || c == self)
			continue;
		p = (struct pollfd){.fd = c->fd, .events = POLLRDHUP};
		/* the peer's shutdown shows as RDHUP at once, whatever is
		 * still unread before it */
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			nbd_conn_abort(c, NULL);
			n++;
		}
	}
	return n;
}

unsigned nbd_server_check_sockets(struct nbd_server *srv)
{
	return check_sockets(srv, NULL);
}

void nbd_server_check_siblings(struct nbd_conn *self)
{
	unsigned kernel = 0;

	for (const struct nbd_conn *c = self->srv->conns; c; c = c->next)
		kernel += c->sops && !c->closing;
	if (kernel > 1)
		(void)check_sockets(self->srv, self);
}

void nbd_server_shutdown(struct nbd_server *srv)
{
	srv->shutdown = true;
	nbd_buf_pool_stop(&srv->bufs);
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
			nbd_conn_close(c, NULL); /* mid-request or still negotiating */
		} else {
			c->rx = RX_STOPPED;
			lb_loop_cancel(srv->loop, &c->rx_op);
		}
		nbd_conn_unhold(c);
	}
}

bool nbd_server_idle(const struct nbd_server *srv)
{
	return srv->conns == NULL && !srv->accept_op.busy && !srv->bufs.trim_op.busy;
}

void nbd_server_free(struct nbd_server *srv)
{
	if (!srv)
		return;
	nbd_buf_pool_clear(&srv->bufs);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	free(srv);
}

void nbd_server_get_stats(const struct nbd_server *srv, struct nbd_server_stats *ret)
{
	*ret = srv->st;
}
