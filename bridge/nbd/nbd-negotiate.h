/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NBD fixed newstyle negotiation as a pure state machine: no I/O.  The
 * server feeds it the client's flags word and each option (header fields
 * and data), and sends what it appends to an nbd_buf.  One export is
 * served, under its own name and as the default export "".
 */
#ifndef LUNBRIDGE_NBD_NEGOTIATE_H
#define LUNBRIDGE_NBD_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the server exports, as negotiation and request checks see it. */
struct nbd_export_desc {
	const char *name;	 /* "" allowed */
	const char *description; /* NULL: none */
	uint64_t size;
	uint16_t eflags; /* NBD_FLAG_* transmission flags, HAS_FLAGS included */
	uint32_t min_block, pref_block, max_block;
};

/* A growing output buffer. */
struct nbd_buf {
	uint8_t *p;
	size_t len, cap;
};

int nbd_buf_put(struct nbd_buf *b, const void *p, size_t n); /* 0 or -ENOMEM */
void nbd_buf_free(struct nbd_buf *b);

/* The one metadata context served, base:allocation, has this id. */
#define NBD_META_ID_ALLOCATION 1u

enum nbd_neg_next {
	NBD_NEG_CONTINUE,     /* send the output, read the next option */
	NBD_NEG_TRANSMISSION, /* send the output, then the transmission phase */
	NBD_NEG_CLOSE,	      /* send the output (if any), then close */
	NBD_NEG_STARTTLS,     /* send the output (STARTTLS's ACK), then the TLS
			       * handshake; nbd_negotiate_tls_started() after it */
};

/* The protocol's TLS modes (doc/proto.md "TLS support"): NOTLS (STARTTLS
 * unsupported), TLS (offered, plaintext allowed), FORCEDTLS (every option
 * but STARTTLS and ABORT gets ERR_TLS_REQD until TLS is up). */
enum nbd_tls_mode {
	NBD_TLS_OFF,
	NBD_TLS_ON,
	NBD_TLS_REQUIRE,
};

struct nbd_negotiate {
	const struct nbd_export_desc *x;
	bool no_zeroes;	 /* the client set NBD_FLAG_C_NO_ZEROES */
	bool structured; /* NBD_OPT_STRUCTURED_REPLY agreed */
	/* NBD_OPT_SET_META_CONTEXT chose base:allocation (its id:
	 * NBD_META_ID_ALLOCATION) */
	bool meta_allocation;
	unsigned options;
	enum nbd_tls_mode tls_mode; /* NBD_TLS_OFF after init; the server sets it */
	bool tls;		    /* STARTTLS done: the rest goes over TLS */
	unsigned tls_refused;	    /* options refused with ERR_TLS_REQD (or closed) */
};

void nbd_negotiate_init(struct nbd_negotiate *n, const struct nbd_export_desc *x);
/* The server's greeting (NBDMAGIC, IHAVEOPT, handshake flags). */
int nbd_negotiate_greeting(struct nbd_buf *out);
/* The client's 32-bit flags: 0, or -EPROTO when it is not fixed newstyle
 * or sets bits we did not offer (the server then closes). */
int nbd_negotiate_client_flags(struct nbd_negotiate *n, uint32_t cflags);
/* One option; the answer is appended to out.  Returns an nbd_neg_next, or
 * -ENOMEM. */
int nbd_negotiate_option(struct nbd_negotiate *n, uint32_t opt, const uint8_t *data, uint32_t len,
			 struct nbd_buf *out);

/* The TLS handshake after NBD_NEG_STARTTLS succeeded: negotiation starts
 * again over TLS, with what was agreed in plaintext forgotten. */
void nbd_negotiate_tls_started(struct nbd_negotiate *n);

const char *nbd_option_name(uint32_t opt);

#endif
