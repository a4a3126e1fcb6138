/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An NBD server on an lb_loop, serving one export through lb_engines.
 *
 * Connections come from a listening socket (fixed newstyle negotiation
 * first) or are handed over already connected (the kernel NBD device's
 * sockets: transmission phase at once, simple replies).  When a
 * connection enters the transmission phase the server asks its owner for
 * an engine (ops->conn_open); the owner gives one with nbd_conn_set_engine()
 * at once or later (a session still logging in), and requests wait until
 * then.  Requests are checked (nbd-request.c) before anything reaches the
 * engine, split at the engine's limits, and answered in completion order.
 */
#ifndef LUNBRIDGE_NBD_SERVER_H
#define LUNBRIDGE_NBD_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "io-stats.h"
#include "loop.h"
#include "nbd-negotiate.h"
#include "nbd-tls.h"

struct nbd_server;
struct nbd_conn;

struct nbd_server_ops {
	/* required: conn entered the transmission phase and needs an engine.
	 * Return 0 and call nbd_conn_set_engine() now or later, or -errno
	 * to close the connection. */
	int (*conn_open)(void *arg, struct nbd_conn *c);
	/* required: conn is gone and has nothing in flight; release what
	 * conn_open gave it.  Called only for connections conn_open accepted. */
	void (*conn_close)(void *arg, struct nbd_conn *c);
	/* optional: conn's client has gone (or broke the protocol) with
	 * requests in flight, whose replies nobody will read: give them up so
	 * that none reaches the LUN later (the engine fences them); their
	 * completions still come back.  Not called when the server drains
	 * (shutdown answers every request). */
	void (*conn_cancel)(void *arg, struct nbd_conn *c);
	/* optional: one line about a connection (refused, dropped, broken) */
	void (*log)(void *arg, const char *line);
};

/* What the owner of a handed-over socket (a kernel NBD device's) hears
 * of it, with the arg it gave nbd_server_add_socket(). */
struct nbd_socket_ops {
	/* required: the socket ended while the server runs (the peer shut it
	 * down, an error, or nbd_server_check_sockets() found it hung up).
	 * Its requests in flight (inflight) are given up (ops->conn_cancel):
	 * they end once fenced.  why: NULL when the peer shut it down (the
	 * kernel does when one of its requests timed out). */
	void (*lost)(void *arg, unsigned inflight, const char *why);
	/* required: the socket is closed and none of its requests is in
	 * flight any more: each was answered or fenced.  Also after a
	 * shutdown, and after a DISC (then without lost). */
	void (*gone)(void *arg);
};

struct nbd_server_stats {
	struct lb_io_stats io;
	uint64_t accepted; /* connections, ever */
	uint32_t connections;
	/* STARTTLS: handshakes done and failed, and who did the records of
	 * the last connection that got TLS */
	uint64_t tls_handshakes, tls_failures;
	enum nbd_tls_records tls_records;
};

/* x (and its strings) must outlive the server. */
int nbd_server_new(struct lb_loop *loop, const struct nbd_export_desc *x,
		   const struct nbd_server_ops *ops, void *arg, struct nbd_server **ret);
/* Offer TLS to the clients of nbd_server_listen() (tls's mode: on or
 * require); tls must outlive the server.  Before nbd_server_listen(). */
void nbd_server_set_tls(struct nbd_server *srv, struct nbd_tls *tls);
/* Accept clients on a bound, listening socket (the server owns fd). */
int nbd_server_listen(struct nbd_server *srv, int fd);
/* Serve a connected socket in the transmission phase with simple replies,
 * as the kernel's NBD client speaks (the server owns fd); sops (arg) hear
 * when it ends.  -ENOMEM: fd is still the caller's. */
int nbd_server_add_socket(struct nbd_server *srv, int fd, const struct nbd_socket_ops *sops,
			  void *arg);
/* Close every handed-over socket whose peer has shut it down, even one we
 * are not reading now (at a limit, or waiting for memory): each is lost
 * as above.  Returns how many. */
unsigned nbd_server_check_sockets(struct nbd_server *srv);
/* Stop accepting and reading; requests in flight finish and are
 * answered, then every connection closes. */
void nbd_server_shutdown(struct nbd_server *srv);
/* No connection left and no operation in flight: free may follow. */
bool nbd_server_idle(const struct nbd_server *srv);
void nbd_server_free(struct nbd_server *srv);
void nbd_server_get_stats(const struct nbd_server *srv, struct nbd_server_stats *ret);

void nbd_conn_set_engine(struct nbd_conn *c, struct lb_engine *e);
void nbd_conn_set_priv(struct nbd_conn *c, void *priv);
void *nbd_conn_get_priv(const struct nbd_conn *c);
/* Drop a connection (its engine failed, say): in-flight requests end
 * first, their replies are not sent. */
void nbd_conn_abort(struct nbd_conn *c, const char *why);

#endif
