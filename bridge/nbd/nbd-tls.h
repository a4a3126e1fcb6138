/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS for the NBD socket export (NBD_OPT_STARTTLS), by GnuTLS.
 *
 * The credentials are loaded once (nbd_tls_new): x509 from a directory
 * in qemu's and nbdkit's layout (ca-cert.pem, server-cert.pem,
 * server-key.pem, ca-crl.pem if present), or pre-shared keys in psktool's
 * format ("username:hexkey" lines).  Each STARTTLS runs its handshake on a
 * thread of its own, so that the loop serves the other connections
 * meanwhile; the thread fills a nbd_tls_result and writes 1 to an eventfd
 * the loop reads.  After it the connection's records are done:
 *   - by the kernel (kTLS: TCP_ULP "tls", the keys from GnuTLS) where it
 *     can, on the same socket: the server's io_uring sends and receives
 *     stay as they are;
 *   - else by a relay (two threads: one a direction) between the TCP
 *     socket (GnuTLS records) and one end of a socketpair; the server
 *     uses the other end as the connection's socket.
 * Either way the rest of the server sees a plain byte stream.
 */
#ifndef LUNBRIDGE_NBD_TLS_H
#define LUNBRIDGE_NBD_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "lb-err.h"
#include "nbd-negotiate.h"

struct nbd_tls_config {
	enum nbd_tls_mode mode;
	const char *creds_dir; /* x509: DIR/server-cert.pem ... */
	const char *psk_file;  /* PSK: psktool's file; or */
	int psk_fd;	       /* PSK read from this descriptor (-1: none) */
	bool verify_peer;      /* x509: clients must show a certificate the CA signed */
};

/* Who does a TLS connection's records. */
enum nbd_tls_records {
	NBD_TLS_RECORDS_NONE, /* no TLS connection yet */
	NBD_TLS_RECORDS_KTLS,
	NBD_TLS_RECORDS_GNUTLS,
};

struct nbd_tls;

/* "off", "on", "require" -> mode: 0, or -EINVAL. */
int nbd_tls_mode_parse(const char *s, enum nbd_tls_mode *ret);
const char *nbd_tls_mode_name(enum nbd_tls_mode mode);
const char *nbd_tls_records_name(enum nbd_tls_records records);

/* Load cfg's credentials (mode ON or REQUIRE; exactly one of creds_dir,
 * psk_file, psk_fd).  -errno with one sentence naming the file. */
int nbd_tls_new(const struct nbd_tls_config *cfg, struct nbd_tls **ret, lb_err *err);
/* Drop the caller's reference; connections still relaying keep theirs.
 * NULL: nothing. */
void nbd_tls_free(struct nbd_tls *t);
enum nbd_tls_mode nbd_tls_mode(const struct nbd_tls *t);
/* "x509" or "psk" */
const char *nbd_tls_auth_name(const struct nbd_tls *t);
bool nbd_tls_verify_peer(const struct nbd_tls *t);

/* What a handshake thread leaves for the loop. */
struct nbd_tls_result {
	int fd; /* the connection's socket from now on; -1: the handshake failed */
	enum nbd_tls_records records;
	char why[160]; /* fd -1: what failed; records in user space: why not the kernel */
};

/* Start the handshake on fd (a connected TCP socket; the server sent
 * STARTTLS's ACK), to finish by deadline_ms (lb_now_ms()).  On return 0
 * a thread runs it; *ret_efd is an eventfd it writes once res is filled
 * (the caller reads it, then closes it).  Until then neither fd nor res
 * may go; a shutdown() of fd ends the handshake early.  After a
 * successful one, fd belongs to the relay if res->fd differs from it
 * (the caller must then not close fd), else it is still the caller's.
 * -errno when no thread could start (res untouched). */
int nbd_tls_handshake_start(struct nbd_tls *t, int fd, uint64_t deadline_ms,
			    struct nbd_tls_result *res, int *ret_efd);

#endif
