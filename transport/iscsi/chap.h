/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CHAP for iSCSI login (RFC 1994; RFC 7143 §12.1.3 and §9.2.1).
 *
 *   I->T  CHAP_A=8,7,6,5                      iscsi_chap_offer()
 *   T->I  CHAP_A=a CHAP_I=i CHAP_C=c
 *   I->T  CHAP_N CHAP_R [CHAP_I CHAP_C]       iscsi_chap_respond()
 *   T->I  [CHAP_N CHAP_R]                     iscsi_chap_verify() (mutual)
 *
 * CHAP_A values are the IANA "PPP Authentication Algorithms" numbers
 * (https://www.iana.org/assignments/ppp-numbers, which RFC 7143 §12.1.3
 * refers to): 5 MD5, 6 SHA-1, 7 SHA-256, 8 SHA3-256.  RFC 7143 itself only
 * requires 5; 6-8 are what the Linux target (drivers/target/iscsi/
 * iscsi_target_auth.h) and EDK2's IScsiDxe accept.  The response is
 * H(identifier || secret || challenge) for each of them.
 *
 * Secrets are passed in and never copied, logged or put in error text.
 */
#ifndef LUNBRIDGE_ISCSI_CHAP_H
#define LUNBRIDGE_ISCSI_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb-err.h"
#include "text.h"

enum iscsi_chap_alg {
	ISCSI_CHAP_MD5 = 5,
	ISCSI_CHAP_SHA1 = 6,
	ISCSI_CHAP_SHA256 = 7,
	ISCSI_CHAP_SHA3_256 = 8,
};

#define ISCSI_CHAP_ALG_BIT(a) (1u << (a))
#define ISCSI_CHAP_ALGS_ALL                                                                        \
	(ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_MD5) | ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_SHA1) |                \
	 ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_SHA256) | ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_SHA3_256))

#define ISCSI_CHAP_DIGEST_MAX 32
/* RFC 7143 §12.1.3: C and R are at most 1024 bytes once decoded. */
#define ISCSI_CHAP_BINARY_MAX 1024
/* Shortest challenge we answer: the MD5 output size, and what common
 * targets send.  Shorter challenges make precomputation cheap. */
#define ISCSI_CHAP_CHALLENGE_MIN 16
/* Our policy, matching the Microsoft initiator and most arrays: at least
 * 96 bits.  RFC 7143 §9.2.1 asks for support of 128-bit random secrets
 * because short ones fall to an offline dictionary attack. */
#define ISCSI_CHAP_SECRET_MIN 12
#define ISCSI_CHAP_SECRET_MAX 256

struct iscsi_chap_creds {
	const char *name; /* CHAP_N we send */
	const uint8_t *secret;
	size_t secret_len;
	/* Mutual CHAP: set target_secret to authenticate the target. */
	const char *target_name; /* expected CHAP_N from the target; NULL: any */
	const uint8_t *target_secret;
	size_t target_secret_len;
};

struct iscsi_chap {
	uint32_t allowed;	 /* ISCSI_CHAP_ALG_BIT() set we offer */
	enum iscsi_chap_alg alg; /* chosen by the target; 0 before */
	uint8_t id;		 /* our CHAP_I (mutual) */
	uint8_t challenge[ISCSI_CHAP_DIGEST_MAX];
	size_t challenge_len; /* 0: we have not challenged */
};

size_t iscsi_chap_digest_len(enum iscsi_chap_alg alg); /* 0 if unknown */
const char *iscsi_chap_alg_name(enum iscsi_chap_alg alg);

/* response = H(id || secret || challenge); returns its length, or
 * -EOPNOTSUPP (unknown algorithm, or one disabled in libcrypto). */
int iscsi_chap_compute(enum iscsi_chap_alg alg, uint8_t id, const uint8_t *secret,
		       size_t secret_len, const uint8_t *challenge, size_t challenge_len,
		       uint8_t out[ISCSI_CHAP_DIGEST_MAX]);

/* Decode a binary-value (§6.1): "0x"/"0X" hex (odd digit count implies a
 * leading zero) or "0b"/"0B" base64.  -EINVAL malformed, -EMSGSIZE > cap. */
int iscsi_binary_decode(const char *s, uint8_t *out, size_t cap, size_t *ret_len);
/* "0x" + lowercase hex; -ENOBUFS if cap < 2 + 2*len + 1. */
int iscsi_binary_encode_hex(const uint8_t *bin, size_t len, char *out, size_t cap);

/* Fill buf with random bytes from getrandom(). */
int iscsi_random_bytes(void *buf, size_t len);

/* allowed: a subset of ISCSI_CHAP_ALGS_ALL (0 means all).  -EINVAL for
 * none or unknown bits. */
int iscsi_chap_init(struct iscsi_chap *c, uint32_t allowed);

/* Validate credentials: secret lengths, and the two directions must not
 * share a secret (§9.2.1).  -EINVAL with the reason in err. */
int iscsi_chap_check_creds(const struct iscsi_chap_creds *creds, lb_err *err);

/* Add CHAP_A=<our list, strongest first>. */
int iscsi_chap_offer(const struct iscsi_chap *c, struct iscsi_text_builder *b);

/* Answer the target's CHAP_A/CHAP_I/CHAP_C: adds CHAP_N and CHAP_R, and
 * for mutual CHAP our CHAP_I and CHAP_C (never equal to the target's; it
 * is remembered).  -EPROTO for an algorithm we did not offer or a
 * malformed value, -EACCES for a challenge that is too short or is one
 * this process issued (a reflection: see chap.c). */
int iscsi_chap_respond(struct iscsi_chap *c, const struct iscsi_chap_creds *creds,
		       const char *chap_a, const char *chap_i, const char *chap_c,
		       struct iscsi_text_builder *b, lb_err *err);

/* Mutual CHAP: check the target's CHAP_N/CHAP_R.  -EACCES on mismatch. */
int iscsi_chap_verify(const struct iscsi_chap *c, const struct iscsi_chap_creds *creds,
		      const char *chap_n, const char *chap_r, lb_err *err);

#endif
