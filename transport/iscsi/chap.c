/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "chap.h"
#include "hex.h"
#include "text.h"

/* Strongest first: the order of our CHAP_A list. */
static const enum iscsi_chap_alg preference[] = {
	ISCSI_CHAP_SHA3_256,
	ISCSI_CHAP_SHA256,
	ISCSI_CHAP_SHA1,
	ISCSI_CHAP_MD5,
};

static const EVP_MD *alg_md(enum iscsi_chap_alg alg)
{
	switch (alg) {
	case ISCSI_CHAP_MD5:
		return EVP_md5();
	case ISCSI_CHAP_SHA1:
		return EVP_sha1();
	case ISCSI_CHAP_SHA256:
		return EVP_sha256();
	case ISCSI_CHAP_SHA3_256:
		return EVP_sha3_256();
	}
	return NULL;
}

size_t iscsi_chap_digest_len(enum iscsi_chap_alg alg)
{
	switch (alg) {
	case ISCSI_CHAP_MD5:
		return 16;
	case ISCSI_CHAP_SHA1:
		return 20;
	case ISCSI_CHAP_SHA256:
	case ISCSI_CHAP_SHA3_256:
		return 32;
	}
	return 0;
}

const char *iscsi_chap_alg_name(enum iscsi_chap_alg alg)
{
	switch (alg) {
	case ISCSI_CHAP_MD5:
		return "MD5";
	case ISCSI_CHAP_SHA1:
		return "SHA-1";
	case ISCSI_CHAP_SHA256:
		return "SHA-256";
	case ISCSI_CHAP_SHA3_256:
		return "SHA3-256";
	}
	return "unknown";
}

int iscsi_chap_compute(enum iscsi_chap_alg alg, uint8_t id, const uint8_t *secret,
		       size_t secret_len, const uint8_t *challenge, size_t challenge_len,
		       uint8_t out[ISCSI_CHAP_DIGEST_MAX])
{
	const EVP_MD *md = alg_md(alg);
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	int ok;

	if (!md)
		return -EOPNOTSUPP;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, &id, 1) &&
	     EVP_DigestUpdate(ctx, secret, secret_len) &&
	     EVP_DigestUpdate(ctx, challenge, challenge_len) && EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
	/* Fails when a provider (FIPS) refuses the algorithm. */
	if (!ok || n != iscsi_chap_digest_len(alg))
		return -EOPNOTSUPP;
	return (int)n;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t n = strlen(s), len = (n + 1) / 2, o = 0, i = 0;

	if (n == 0)
		return -EINVAL;
	if (len > cap)
		return -EMSGSIZE;
	if (n % 2) { /* odd digit count: implied leading zero */
		int v = lb_hex_value(s[0]);

		if (v < 0)
			return -EINVAL;
		out[o++] = (uint8_t)v;
		i = 1;
	}
	for (; i < n; i += 2) {
		int hi = lb_hex_value(s[i]), lo = lb_hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[o++] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = o;
	return 0;
}

static int b64_decode(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t n = strlen(s), pad = 0, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n == 0 || n % 4 == 1 || (pad && (n + pad) % 4))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -EMSGSIZE;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (acc & ((1u << bits) - 1))
		return -EINVAL;
	*ret_len = o;
	return 0;
}

int iscsi_binary_decode(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	if (s[0] != '0')
		return -EINVAL;
	if (s[1] == 'x' || s[1] == 'X')
		return hex_decode(s + 2, out, cap, ret_len);
	if (s[1] == 'b' || s[1] == 'B')
		return b64_decode(s + 2, out, cap, ret_len);
	return -EINVAL;
}

int iscsi_binary_encode_hex(const uint8_t *bin, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";

	if (cap < 3 || len > (cap - 3) / 2)
		return -ENOBUFS;
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < len; i++) {
		out[2 + 2 * i] = digits[bin[i] >> 4];
		out[3 + 2 * i] = digits[bin[i] & 0x0f];
	}
	out[2 + 2 * len] = '\0';
	return 0;
}

int iscsi_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int iscsi_chap_init(struct iscsi_chap *c, uint32_t allowed)
{
	if (allowed == 0)
		allowed = ISCSI_CHAP_ALGS_ALL;
	if (allowed & ~(uint32_t)ISCSI_CHAP_ALGS_ALL)
		return -EINVAL;
	*c = (struct iscsi_chap){.allowed = allowed};
	return 0;
}

int iscsi_chap_check_creds(const struct iscsi_chap_creds *creds, lb_err *err)
{
	if (!creds->name || !creds->name[0])
		return lb_err_set(err, EINVAL, "CHAP name is empty");
	if (!creds->secret || creds->secret_len < ISCSI_CHAP_SECRET_MIN ||
	    creds->secret_len > ISCSI_CHAP_SECRET_MAX)
		return lb_err_set(err, EINVAL, "CHAP secret must be %d to %d bytes",
				  ISCSI_CHAP_SECRET_MIN, ISCSI_CHAP_SECRET_MAX);
	if (!creds->target_secret)
		return 0;
	if (creds->target_secret_len < ISCSI_CHAP_SECRET_MIN ||
	    creds->target_secret_len > ISCSI_CHAP_SECRET_MAX)
		return lb_err_set(err, EINVAL, "mutual CHAP secret must be %d to %d bytes",
				  ISCSI_CHAP_SECRET_MIN, ISCSI_CHAP_SECRET_MAX);
	if (creds->target_secret_len == creds->secret_len &&
	    CRYPTO_memcmp(creds->target_secret, creds->secret, creds->secret_len) == 0)
		return lb_err_set(
			err, EINVAL,
			"the initiator and target CHAP secrets must differ (RFC 7143 9.2.1)");
	return 0;
}

/* Reflection (RFC 1994 §5 and RFC 7143 §12.1.3).  A target that sends us,
 * as its own challenge, one we issued gets from us the answer to it, which
 * it could replay where that challenge came from: a connection to a target
 * whose secret for us is the secret we answer with.  Within one login the
 * target always challenges first, so our challenge of the same login can
 * never be the one reflected; what can be is a challenge of another login:
 * an earlier connection of the session, another session of this process.
 * So every challenge we issue is remembered process-wide (sessions run on
 * several threads, hence the lock), the last CHAP_ISSUED_MAX of them, and a
 * target challenge equal to one of them is refused.  The opposite rule,
 * that our challenge must differ from the target's, is kept when we draw
 * ours (iscsi_chap_respond()). */
#define CHAP_ISSUED_MAX 64

static struct {
	uint8_t challenge[ISCSI_CHAP_DIGEST_MAX];
	size_t len;
} chap_issued_ring[CHAP_ISSUED_MAX];
static unsigned chap_issued_next;
static pthread_mutex_t chap_issued_lock = PTHREAD_MUTEX_INITIALIZER;

static void chap_remember_issued(const uint8_t *challenge, size_t len)
{
	if (len > ISCSI_CHAP_DIGEST_MAX)
		return;
	pthread_mutex_lock(&chap_issued_lock);
	memcpy(chap_issued_ring[chap_issued_next].challenge, challenge, len);
	chap_issued_ring[chap_issued_next].len = len;
	chap_issued_next = (chap_issued_next + 1) % CHAP_ISSUED_MAX;
	pthread_mutex_unlock(&chap_issued_lock);
}

static bool chap_issued(const uint8_t *challenge, size_t len)
{
	bool found = false;

	pthread_mutex_lock(&chap_issued_lock);
	for (unsigned i = 0; i < CHAP_ISSUED_MAX && !found; i++)
		found = chap_issued_ring[i].len == len &&
			!memcmp(chap_issued_ring[i].challenge, challenge, len);
	pthread_mutex_unlock(&chap_issued_lock);
	return found;
}

int iscsi_chap_offer(const struct iscsi_chap *c, struct iscsi_text_builder *b)
{
	char list[32] = "";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(preference) / sizeof(preference[0]); i++) {
		if (!(c->allowed & ISCSI_CHAP_ALG_BIT(preference[i])))
			continue;
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d", n ? "," : "",
				      (int)preference[i]);
	}
	return iscsi_text_add(b, "CHAP_A", list);
}

int iscsi_chap_respond(struct iscsi_chap *c, const struct iscsi_chap_creds *creds,
		       const char *chap_a, const char *chap_i, const char *chap_c,
		       struct iscsi_text_builder *b, lb_err *err)
{
	uint8_t challenge[ISCSI_CHAP_BINARY_MAX], resp[ISCSI_CHAP_DIGEST_MAX];
	char hex[2 + 2 * ISCSI_CHAP_BINARY_MAX + 1];
	size_t clen, dlen;
	uint64_t alg, id;
	int r;

	if (!chap_a || !chap_i || !chap_c)
		return lb_err_set(err, EPROTO,
				  "target sent CHAP_A, CHAP_I and CHAP_C incompletely");
	r = iscsi_chap_check_creds(creds, err);
	if (r < 0)
		return r;
	if (iscsi_text_parse_number(chap_a, 255, &alg) < 0 || alg > 31 ||
	    !(c->allowed & ISCSI_CHAP_ALG_BIT(alg)))
		return lb_err_set(err, EPROTO, "target chose CHAP_A=%.16s, which we did not offer",
				  chap_a);
	if (iscsi_text_parse_number(chap_i, 255, &id) < 0)
		return lb_err_set(err, EPROTO, "invalid CHAP_I");
	r = iscsi_binary_decode(chap_c, challenge, sizeof(challenge), &clen);
	if (r < 0)
		return lb_err_set(err, EPROTO, "invalid CHAP_C (%s)",
				  r == -EMSGSIZE ? "over 1024 bytes" : "bad encoding");
	if (clen < ISCSI_CHAP_CHALLENGE_MIN)
		return lb_err_set(err, EACCES, "CHAP_C of %zu bytes is shorter than %d", clen,
				  ISCSI_CHAP_CHALLENGE_MIN);
	if (chap_issued(challenge, clen))
		return lb_err_set(err, EACCES,
				  "target sent back a CHAP challenge we issued (a reflection)");

	c->alg = (enum iscsi_chap_alg)alg;
	r = iscsi_chap_compute(c->alg, (uint8_t)id, creds->secret, creds->secret_len, challenge,
			       clen, resp);
	if (r < 0)
		return lb_err_set(err, r, "CHAP %s is not available", iscsi_chap_alg_name(c->alg));
	dlen = (size_t)r;
	(void)iscsi_binary_encode_hex(resp, dlen, hex, sizeof(hex));
	r = iscsi_text_add(b, "CHAP_N", creds->name);
	if (r == 0)
		r = iscsi_text_add(b, "CHAP_R", hex);
	if (r < 0)
		return lb_err_set(err, r, "cannot add the CHAP response");

	if (!creds->target_secret)
		return 0;

	/* Mutual: our own identifier and challenge, never the target's. */
	c->challenge_len = dlen > ISCSI_CHAP_CHALLENGE_MIN ? dlen : ISCSI_CHAP_CHALLENGE_MIN;
	do {
		r = iscsi_random_bytes(c->challenge, c->challenge_len);
		if (r == 0)
			r = iscsi_random_bytes(&c->id, 1);
		if (r < 0) {
			c->challenge_len = 0;
			return lb_err_set(err, r, "getrandom failed");
		}
	} while (clen == c->challenge_len && !memcmp(challenge, c->challenge, clen));
	chap_remember_issued(c->challenge, c->challenge_len);

	(void)iscsi_binary_encode_hex(c->challenge, c->challenge_len, hex, sizeof(hex));
	r = iscsi_text_add_u32(b, "CHAP_I", c->id);
	if (r == 0)
		r = iscsi_text_add(b, "CHAP_C", hex);
	if (r < 0)
		return lb_err_set(err, r, "cannot add the CHAP challenge");
	return 0;
}

int iscsi_chap_verify(const struct iscsi_chap *c, const struct iscsi_chap_creds *creds,
		      const char *chap_n, const char *chap_r, lb_err *err)
{
	uint8_t got[ISCSI_CHAP_BINARY_MAX], want[ISCSI_CHAP_DIGEST_MAX];
	size_t glen;
	int r;

	if (!creds->target_secret || !c->challenge_len)
		return lb_err_set(err, EPROTO, "no mutual CHAP challenge outstanding");
	if (!chap_n || !chap_r)
		return lb_err_set(err, EACCES, "target did not answer our CHAP challenge");
	if (creds->target_name && strcmp(chap_n, creds->target_name) != 0)
		return lb_err_set(err, EACCES, "target CHAP name does not match");
	r = iscsi_binary_decode(chap_r, got, sizeof(got), &glen);
	if (r < 0)
		return lb_err_set(err, EACCES, "invalid CHAP_R from the target");
	r = iscsi_chap_compute(c->alg, c->id, creds->target_secret, creds->target_secret_len,
			       c->challenge, c->challenge_len, want);
	if (r < 0)
		return lb_err_set(err, r, "CHAP %s is not available", iscsi_chap_alg_name(c->alg));
	if (glen != (size_t)r || CRYPTO_memcmp(got, want, glen) != 0)
		return lb_err_set(err, EACCES, "target CHAP response is wrong");
	return 0;
}
