/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the NBD server's files, one a phase:
 *   nbd-server.c    the server: listen, accept, add_socket, shutdown, free
 *   nbd-conn.c      a connection's lifetime: open, hold/unhold, close, free
 *   nbd-recv.c      receive: negotiation and request headers/payloads
 *   nbd-dispatch.c  a request from its parsed header to the engine and back
 *   nbd-send.c      send: replies and negotiation answers, batched SENDMSG
 *   nbd-buffers.c   the payload buffer pool
 * and nbd-tls.c for STARTTLS's handshake and records (no server state).
 */
#ifndef LUNBRIDGE_NBD_SERVER_INTERNAL_H
#define LUNBRIDGE_NBD_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "nbd-negotiate.h"
#include "nbd-proto.h"
#include "nbd-request.h"
#include "nbd-server.h"
#include "nbd-tls.h"

#define RXBUF_SIZE (NBD_MAX_OPTION_DATA + 64 * 1024)
/* From accept to the transmission phase, at most (option haggling included). */
#define NBD_HANDSHAKE_TIMEOUT_MS 10000
/* Out of memory for a request: read it again after this long.  A
 * connection never closes for want of memory (the kernel would take a
 * closed socket as dead): it stops reading until memory comes back. */
#define NBD_MEM_RETRY_MS 100
#define TX_IOV_MAX 64
#define BUFCACHE_MAX_SHIFT 25
#define BUFCACHE_PER_BUCKET 64
#define BUFCACHE_IDLE_MS 5000

enum rx_state {
	RX_CFLAGS,	/* the client's flags word */
	RX_OPT_HDR,	/* an option header */
	RX_OPT_DATA,	/* its data */
	RX_TLS,		/* STARTTLS: its ACK goes out, then the handshake's thread */
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
	unsigned extents; /* BLOCK_STATUS: struct lb_extent at buf */
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
	bool tx_reaping; /* nbd_conn_tx_done() is walking the queue */
	bool mem_wait;	 /* out of memory for a request: reading waits for mem_op */
	unsigned hold;	 /* entry points in progress: not freed meanwhile */
	struct lb_engine *engine;
	void *priv;
	/* a handed-over socket's owner (nbd_server_add_socket), else NULL */
	const struct nbd_socket_ops *sops;
	void *sarg;
	unsigned inflight;	 /* requests not yet released */
	uint64_t inflight_bytes; /* their payload buffers */
	/* receive */
	struct lb_op rx_op;
	/* the handshake's deadline (NBD_HANDSHAKE_TIMEOUT_MS from accept),
	 * a timeout linked to each receive while negotiating */
	uint64_t hs_deadline_ms;
	struct lb_op hs_timeout_op;
	struct __kernel_timespec hs_ts;
	/* STARTTLS: the handshake's thread writes tls_efd once tls_res is
	 * filled; tls_op reads it */
	bool tls_started;
	struct lb_op tls_op;
	int tls_efd;
	uint64_t tls_val;
	struct nbd_tls_result tls_res;
	/* out of memory for a request: the retry's timer (NBD_MEM_RETRY_MS) */
	struct lb_op mem_op;
	struct __kernel_timespec mem_ts;
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

/* Payload buffers by power-of-two size, kept for the next request, and
 * given back once no request has needed one for BUFCACHE_IDLE_MS. */
struct nbd_buf_pool {
	void *cache[BUFCACHE_MAX_SHIFT + 1][BUFCACHE_PER_BUCKET];
	unsigned n[BUFCACHE_MAX_SHIFT + 1];
	size_t bytes;
	struct lb_loop *loop;
	bool idle; /* no buffer out since idle_since_ms */
	uint64_t idle_since_ms;
	struct lb_op trim_op; /* one-shot: armed when the pool goes idle */
	struct __kernel_timespec trim_ts;
};

struct nbd_server {
	struct lb_loop *loop;
	const struct nbd_export_desc *x;
	const struct nbd_server_ops *ops;
	void *arg;
	int listen_fd;
	char tls_why[160]; /* why the last user-space TLS records were not the kernel's */
	struct lb_op accept_op;
	bool shutdown;
	bool resume; /* memory came back under SERVER_MAX_BYTES: read again */
	bool mem_short; /* a connection waits for memory (said once in the log) */
	uint64_t inflight_bytes;
	struct nbd_conn *conns;
	struct nbd_tls *tls; /* NULL: STARTTLS unsupported */
	struct nbd_server_stats st;
	struct nbd_buf_pool bufs;
};

/* nbd-server.c */
/* One line to the owner's ops->log, if it has one. */
void nbd_server_log(struct nbd_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* nbd-conn.c */
/* A connection on fd, linked into srv and counted; NULL when out of memory
 * (fd is then still the caller's). */
struct nbd_conn *nbd_conn_new(struct nbd_server *srv, int fd);
/* No more I/O on c's socket (why, if any, goes to the log); the receive
 * and send in flight end, and nbd_conn_unhold() frees c. */
void nbd_conn_close(struct nbd_conn *c, const char *why);
/* STARTTLS was answered (its ACK queued): the handshake follows once the
 * ACK is out; then negotiation starts again over TLS. */
void nbd_conn_starttls(struct nbd_conn *c);
/* Enter the transmission phase: ask the owner for an engine (ops->conn_open). */
void nbd_conn_start_transmission(struct nbd_conn *c);
/* The end of every entry point that took c->hold++: once none is left in
 * progress, close, read or free as c's state says; c may be gone after. */
void nbd_conn_unhold(struct nbd_conn *c);

/* Out of memory for c's next request: stop reading and try again in
 * NBD_MEM_RETRY_MS (the request stays unread). */
void nbd_conn_wait_memory(struct nbd_conn *c);

/* Before taking requests from a kernel socket: close its siblings whose
 * peer has shut them down.  The kernel shuts a socket down when a request
 * times out there and only then sends that request again on a sibling;
 * seen here first, the dead socket's requests are being fenced (and a
 * newer overlapping write held) before the copy is taken.  Its LINK_DEAD
 * event would come too late: it is queued, not sent before the copy. */
void nbd_server_check_siblings(struct nbd_conn *self);

/* nbd-recv.c */
/* Take what the receive buffer holds, state by state, then post a RECV
 * for more; returns early when closing, a RECV is in flight, or a limit is
 * reached (nbd_conn_unhold() resumes). */
void nbd_conn_rx_process(struct nbd_conn *c);
/* c->rx_op's completion. */
void nbd_conn_rx_done(struct lb_op *op, int res, uint32_t cqe_flags);

/* nbd-dispatch.c */
/* May c take another request: under its own and the server's limits? */
bool nbd_conn_has_room(const struct nbd_conn *c);
/* A decoded request header: DISC drains c; otherwise check it, then
 * discard or receive its payload, answer its error, or dispatch it.
 * -ENOMEM: not taken (no memory for it), to be tried again. */
int nbd_conn_request(struct nbd_conn *c, const struct nbd_req_hdr *h);
/* A discarded payload is all read: answer its request with its error.
 * -ENOMEM: not answered yet, to be tried again. */
int nbd_conn_discarded(struct nbd_conn *c);
/* Split a checked request (payload in) at the engine's limits and start
 * every piece; the last completion answers it (nbd_req_reply()). */
void nbd_req_dispatch(struct nbd_req *req);
/* Release req: its buffer back to the pool, c's and the server's counts
 * down (the caller's nbd_conn_unhold() resumes reading or frees c). */
void nbd_req_free(struct nbd_req *req);

/* nbd-send.c */
/* Answer req with its nbd_err (and READ data): queue the reply, or free req
 * when c is closing. */
void nbd_req_reply(struct nbd_req *req);
/* Queue the negotiation bytes in b (taken over, b emptied); none: nothing. */
void nbd_conn_send_neg(struct nbd_conn *c, struct nbd_buf *b);
/* c->tx_op's completion. */
void nbd_conn_tx_done(struct lb_op *op, int res, uint32_t cqe_flags);
/* Release every queued reply unsent (c is closing, no SENDMSG in flight). */
void nbd_conn_tx_drop(struct nbd_conn *c);

/* nbd-buffers.c */
/* A 4096-aligned buffer of at least len bytes, from the pool or new; NULL
 * when out of memory. */
void *nbd_buf_pool_get(struct nbd_buf_pool *pool, uint32_t len);
/* Give back p (NULL: nothing), got for len: kept in the pool or freed. */
void nbd_buf_pool_put(struct nbd_buf_pool *pool, void *p, uint32_t len);
/* Free every buffer the pool keeps; it is empty afterwards. */
void nbd_buf_pool_clear(struct nbd_buf_pool *pool);
/* Before the first get: the loop the idle timer runs on. */
void nbd_buf_pool_init(struct nbd_buf_pool *pool, struct lb_loop *loop);
/* No buffer is out any more: give the kept ones back (to the kernel, not
 * only to malloc) unless one is asked for within BUFCACHE_IDLE_MS. */
void nbd_buf_pool_idle(struct nbd_buf_pool *pool);
/* Stop the idle timer (shutdown); busy until its completion is in. */
void nbd_buf_pool_stop(struct nbd_buf_pool *pool);

#endif
