/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS for the NBD socket export: credentials, the handshake thread, kTLS
 * and the user-space record relay (nbd-tls.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hex.h"
#include "loop.h"
#include "nbd-tls.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

#define PSK_MAX_KEYS 64
#define PSK_FILE_MAX (64u << 10)
#define RELAY_BUF (256u << 10)
#define THREAD_STACK (256u << 10)
#define SOCKETPAIR_BUFFER (4 << 20)

struct psk_key {
	char *user;
	uint8_t *key;
	size_t len;
};

struct nbd_tls {
	atomic_uint refs; /* the owner's, and one per handshake or relay */
	enum nbd_tls_mode mode;
	bool verify_peer;
	gnutls_certificate_credentials_t x509; /* or */
	gnutls_psk_server_credentials_t psk;
	struct psk_key keys[PSK_MAX_KEYS];
	size_t nkeys;
};

int nbd_tls_mode_parse(const char *s, enum nbd_tls_mode *ret)
{
	if (strcmp(s, "off") == 0)
		*ret = NBD_TLS_OFF;
	else if (strcmp(s, "on") == 0)
		*ret = NBD_TLS_ON;
	else if (strcmp(s, "require") == 0)
		*ret = NBD_TLS_REQUIRE;
	else
		return -EINVAL;
	return 0;
}

const char *nbd_tls_mode_name(enum nbd_tls_mode mode)
{
	return mode == NBD_TLS_REQUIRE ? "require" : mode == NBD_TLS_ON ? "on" : "off";
}

const char *nbd_tls_records_name(enum nbd_tls_records records)
{
	return records == NBD_TLS_RECORDS_KTLS	   ? "ktls"
	       : records == NBD_TLS_RECORDS_GNUTLS ? "gnutls"
						   : "none";
}

enum nbd_tls_mode nbd_tls_mode(const struct nbd_tls *t)
{
	return t->mode;
}

const char *nbd_tls_auth_name(const struct nbd_tls *t)
{
	return t->psk ? "psk" : "x509";
}

bool nbd_tls_verify_peer(const struct nbd_tls *t)
{
	return t->verify_peer;
}

static void tls_unref(struct nbd_tls *t)
{
	if (atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	if (t->x509)
		gnutls_certificate_free_credentials(t->x509);
	if (t->psk)
		gnutls_psk_free_server_credentials(t->psk);
	for (size_t i = 0; i < t->nkeys; i++) {
		free(t->keys[i].user);
		explicit_bzero(t->keys[i].key, t->keys[i].len);
		free(t->keys[i].key);
	}
	free(t);
}

void nbd_tls_free(struct nbd_tls *t)
{
	if (t)
		tls_unref(t);
}

/* ---- credentials ---- */

static int x509_load(struct nbd_tls *t, const char *dir, lb_err *err)
{
	_cleanup_free_ char *ca = NULL, *crl = NULL, *cert = NULL, *key = NULL;
	int r;

	if (asprintf(&ca, "%s/ca-cert.pem", dir) < 0 || asprintf(&crl, "%s/ca-crl.pem", dir) < 0 ||
	    asprintf(&cert, "%s/server-cert.pem", dir) < 0 ||
	    asprintf(&key, "%s/server-key.pem", dir) < 0)
		return lb_err_set(err, ENOMEM, "out of memory");
	if (gnutls_certificate_allocate_credentials(&t->x509) < 0)
		return lb_err_set(err, ENOMEM, "out of memory");
	/* each file named in the error as the user gave the directory */
	if (access(cert, R_OK) < 0)
		return lb_err_set(err, errno, "--tls-creds: %s: %m", cert);
	if (access(key, R_OK) < 0)
		return lb_err_set(err, errno, "--tls-creds: %s: %m", key);
	r = gnutls_certificate_set_x509_key_file(t->x509, cert, key, GNUTLS_X509_FMT_PEM);
	if (r < 0)
		return lb_err_set(err, EINVAL, "--tls-creds: %s or %s: %s", cert, key,
				  gnutls_strerror(r));
	if (access(ca, R_OK) == 0) {
		r = gnutls_certificate_set_x509_trust_file(t->x509, ca, GNUTLS_X509_FMT_PEM);
		if (r <= 0)
			return lb_err_set(err, EINVAL, "--tls-creds: %s: %s", ca,
					  r < 0 ? gnutls_strerror(r) : "no certificate in it");
	} else if (t->verify_peer) {
		return lb_err_set(err, errno,
				  "--tls-verify-peer needs the CA that signs the clients: %s: %m",
				  ca);
	}
	if (access(crl, R_OK) == 0) {
		r = gnutls_certificate_set_x509_crl_file(t->x509, crl, GNUTLS_X509_FMT_PEM);
		if (r < 0)
			return lb_err_set(err, EINVAL, "--tls-creds: %s: %s", crl,
					  gnutls_strerror(r));
	}
	return 0;
}

/* psktool's format: "username:hexkey" a line; empty lines skipped. */
static int psk_parse(struct nbd_tls *t, char *text, const char *what, lb_err *err)
{
	unsigned line = 0;

	for (char *p = text, *next; p && *p; p = next) {
		char *colon, *hex;
		struct psk_key *k;
		size_t hlen;

		line++;
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		if (*p && p[strlen(p) - 1] == '\r')
			p[strlen(p) - 1] = '\0';
		if (!*p)
			continue;
		colon = strchr(p, ':');
		if (!colon || colon == p)
			return lb_err_set(err, EINVAL,
					  "--tls-psk %s:%u: not a 'username:hexkey' line", what,
					  line);
		hex = colon + 1;
		hlen = strlen(hex);
		if (hlen == 0 || hlen % 2)
			return lb_err_set(err, EINVAL,
					  "--tls-psk %s:%u: the key is not an even number of hex "
					  "digits",
					  what, line);
		if (t->nkeys == PSK_MAX_KEYS)
			return lb_err_set(err, EINVAL, "--tls-psk %s: more than %u keys", what,
					  PSK_MAX_KEYS);
		k = &t->keys[t->nkeys];
		k->user = strndup(p, (size_t)(colon - p));
		k->key = malloc(hlen / 2);
		if (!k->user || !k->key) {
			free(k->user);
			free(k->key);
			return lb_err_set(err, ENOMEM, "out of memory");
		}
		t->nkeys++;
		k->len = hlen / 2;
		for (size_t i = 0; i < k->len; i++) {
			int hi = lb_hex_value(hex[2 * i]), lo = lb_hex_value(hex[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return lb_err_set(err, EINVAL,
						  "--tls-psk %s:%u: the key is not hex digits",
						  what, line);
			k->key[i] = (uint8_t)(hi << 4 | lo);
		}
		explicit_bzero(hex, hlen);
	}
	if (t->nkeys == 0)
		return lb_err_set(err, EINVAL, "--tls-psk %s: no key in it", what);
	return 0;
}

/* The whole of fd, at most PSK_FILE_MAX bytes. */
static int read_all(int fd, char **ret, const char *what, lb_err *err)
{
	char *buf = malloc(PSK_FILE_MAX + 1);
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return lb_err_set(err, ENOMEM, "out of memory");
	while ((n = read(fd, buf + len, PSK_FILE_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			explicit_bzero(buf, len);
			free(buf);
			return lb_err_set(err, e, "--tls-psk %s: %s", what, strerror(e));
		}
		len += (size_t)n;
		if (len > PSK_FILE_MAX) {
			explicit_bzero(buf, len);
			free(buf);
			return lb_err_set(err, EFBIG, "--tls-psk %s: longer than %u bytes", what,
					  PSK_FILE_MAX);
		}
	}
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

static int psk_lookup(gnutls_session_t s, const char *user, gnutls_datum_t *key)
{
	const struct nbd_tls *t = gnutls_session_get_ptr(s);

	for (size_t i = 0; i < t->nkeys; i++) {
		if (strcmp(t->keys[i].user, user) != 0)
			continue;
		key->data = gnutls_malloc(t->keys[i].len);
		if (!key->data)
			return -1;
		memcpy(key->data, t->keys[i].key, t->keys[i].len);
		key->size = (unsigned)t->keys[i].len;
		return 0;
	}
	return -1; /* unknown user: the handshake fails */
}

static int psk_load(struct nbd_tls *t, const struct nbd_tls_config *cfg, lb_err *err)
{
	_cleanup_close_ int fd = -1;
	char what[64], *text = NULL;
	const char *name = cfg->psk_file;
	struct stat st;
	size_t len;
	int r;

	if (cfg->psk_file) {
		fd = open(cfg->psk_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return lb_err_set(err, errno, "--tls-psk %s: %m", cfg->psk_file);
		/* as CHAP's secret files: keys nobody else may read */
		if (fstat(fd, &st) < 0)
			return lb_err_set(err, errno, "--tls-psk %s: %m", cfg->psk_file);
		if (!S_ISREG(st.st_mode) || (st.st_mode & S_IROTH))
			return lb_err_set(err, EPERM,
					  "--tls-psk %s: not a regular file, or readable by "
					  "everyone (chmod o-r)",
					  cfg->psk_file);
		r = read_all(fd, &text, name, err);
	} else {
		snprintf(what, sizeof(what), "fd %d", cfg->psk_fd);
		name = what;
		r = read_all(cfg->psk_fd, &text, name, err);
	}
	if (r < 0)
		return r;
	len = strlen(text); /* before psk_parse() cuts it into lines */
	r = psk_parse(t, text, name, err);
	explicit_bzero(text, len);
	free(text);
	if (r < 0)
		return r;
	if (gnutls_psk_allocate_server_credentials(&t->psk) < 0)
		return lb_err_set(err, ENOMEM, "out of memory");
	gnutls_psk_set_server_credentials_function(t->psk, psk_lookup);
	return 0;
}

int nbd_tls_new(const struct nbd_tls_config *cfg, struct nbd_tls **ret, lb_err *err)
{
	struct nbd_tls *t;
	int r;

	if (cfg->mode == NBD_TLS_OFF)
		return lb_err_set(err, EINVAL, "TLS is off");
	if (!!cfg->creds_dir + !!cfg->psk_file + (cfg->psk_fd >= 0) != 1)
		return lb_err_set(err, EINVAL,
				  "TLS needs one of --tls-creds DIR, --tls-psk FILE or "
				  "--tls-psk-fd N");
	if (cfg->verify_peer && !cfg->creds_dir)
		return lb_err_set(err, EINVAL,
				  "--tls-verify-peer is for x509 (--tls-creds); a PSK is "
				  "the client's credential already");
	t = calloc(1, sizeof(*t));
	if (!t)
		return lb_err_set(err, ENOMEM, "out of memory");
	atomic_init(&t->refs, 1);
	t->mode = cfg->mode;
	t->verify_peer = cfg->verify_peer;
	r = cfg->creds_dir ? x509_load(t, cfg->creds_dir, err) : psk_load(t, cfg, err);
	if (r < 0) {
		tls_unref(t);
		return r;
	}
	*ret = t;
	return 0;
}

/* ---- kTLS ---- */

union ktls_info {
	struct tls_crypto_info base;
	struct tls12_crypto_info_aes_gcm_128 gcm128;
	struct tls12_crypto_info_aes_gcm_256 gcm256;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

/* The fields of the kernel's AES-GCM structs (128 and 256 differ only
 * in the key's size). */
struct ktls_fields {
	unsigned char *iv, *key, *salt, *rec_seq;
	size_t key_size;
};

/* One direction's keys as the kernel takes them (as GnuTLS's own
 * lib/system/ktls.c builds them): TLS 1.3 splits GnuTLS's 12-byte IV into
 * salt and IV; TLS 1.2 has a 4-byte salt and the explicit nonce starts at
 * the sequence number; ChaCha20-Poly1305 (which GnuTLS prefers on a CPU
 * without AES instructions) takes the whole 12-byte IV and no salt.
 * Returns the struct's size, 0: not a cipher the kernel takes (here). */
static size_t ktls_info(gnutls_session_t s, unsigned read, union ktls_info *ci)
{
	gnutls_datum_t mac, iv, key;
	unsigned char seq[8];
	gnutls_protocol_t ver = gnutls_protocol_get_version(s);
	gnutls_cipher_algorithm_t c = gnutls_cipher_get(s);
	struct ktls_fields f;
	size_t size;

	if (ver != GNUTLS_TLS1_2 && ver != GNUTLS_TLS1_3)
		return 0;
	memset(ci, 0, sizeof(*ci));
	if (c == GNUTLS_CIPHER_CHACHA20_POLY1305) {
		struct tls12_crypto_info_chacha20_poly1305 *g = &ci->chacha;

		if (gnutls_record_get_state(s, read, &mac, &iv, &key, seq) < 0 ||
		    key.size != sizeof(g->key) || iv.size != sizeof(g->iv))
			return 0;
		g->info.version = ver == GNUTLS_TLS1_3 ? TLS_1_3_VERSION : TLS_1_2_VERSION;
		g->info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		memcpy(g->iv, iv.data, sizeof(g->iv));
		memcpy(g->key, key.data, sizeof(g->key));
		memcpy(g->rec_seq, seq, sizeof(g->rec_seq));
		return sizeof(*g);
	}
	if (c == GNUTLS_CIPHER_AES_128_GCM) {
		struct tls12_crypto_info_aes_gcm_128 *g = &ci->gcm128;

		g->info.cipher_type = TLS_CIPHER_AES_GCM_128;
		f = (struct ktls_fields){g->iv, g->key, g->salt, g->rec_seq, sizeof(g->key)};
		size = sizeof(*g);
	} else if (c == GNUTLS_CIPHER_AES_256_GCM) {
		struct tls12_crypto_info_aes_gcm_256 *g = &ci->gcm256;

		g->info.cipher_type = TLS_CIPHER_AES_GCM_256;
		f = (struct ktls_fields){g->iv, g->key, g->salt, g->rec_seq, sizeof(g->key)};
		size = sizeof(*g);
	} else {
		return 0;
	}
	/* both: salt 4, iv 8, rec_seq 8 bytes */
	_Static_assert(TLS_CIPHER_AES_GCM_128_SALT_SIZE == 4 &&
			       TLS_CIPHER_AES_GCM_256_SALT_SIZE == 4,
		       "AES-GCM salt");
	_Static_assert(TLS_CIPHER_AES_GCM_128_IV_SIZE == 8 && TLS_CIPHER_AES_GCM_256_IV_SIZE == 8,
		       "AES-GCM explicit IV");
	if (gnutls_record_get_state(s, read, &mac, &iv, &key, seq) < 0 || key.size != f.key_size ||
	    iv.size < (ver == GNUTLS_TLS1_3 ? 12u : 4u))
		return 0;
	ci->base.version = ver == GNUTLS_TLS1_3 ? TLS_1_3_VERSION : TLS_1_2_VERSION;
	memcpy(f.salt, iv.data, 4);
	memcpy(f.iv, ver == GNUTLS_TLS1_3 ? iv.data + 4 : seq, 8);
	memcpy(f.key, key.data, f.key_size);
	memcpy(f.rec_seq, seq, 8);
	return size;
}

/* Hand the session's records to the kernel.  0: done; 1: the kernel
 * cannot (no kTLS, another cipher, data GnuTLS already holds; why says
 * which): the socket is as it was; -errno: half done, the connection is
 * lost. */
static int ktls_try(gnutls_session_t s, int fd, char *why, size_t whylen)
{
	union ktls_info tx, rx;
	size_t txlen, rxlen;
	int r = 0;

	if (gnutls_record_check_pending(s) > 0) {
		snprintf(why, whylen, "GnuTLS holds %zu bytes already received",
			 gnutls_record_check_pending(s));
		return 1;
	}
	txlen = ktls_info(s, 0, &tx);
	rxlen = ktls_info(s, 1, &rx);
	if (!txlen || !rxlen) {
		snprintf(why, whylen,
			 "%s with %s: the kernel takes AES-GCM and ChaCha20-Poly1305 "
			 "on TLS 1.2 and 1.3",
			 gnutls_protocol_get_name(gnutls_protocol_get_version(s)),
			 gnutls_cipher_get_name(gnutls_cipher_get(s)));
		r = 1;
		goto out;
	}
	/* with the ULP but no keys the socket still carries plain bytes */
	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0 ||
	    setsockopt(fd, SOL_TLS, TLS_TX, &tx, (socklen_t)txlen) < 0) {
		snprintf(why, whylen, "the kernel has no kTLS (%s)", strerror(errno));
		r = 1;
		goto out;
	}
	if (setsockopt(fd, SOL_TLS, TLS_RX, &rx, (socklen_t)rxlen) < 0)
		r = -errno;
out:
	explicit_bzero(&tx, sizeof(tx));
	explicit_bzero(&rx, sizeof(rx));
	return r;
}

/* ---- the handshake thread and the relay ---- */

struct tls_conn {
	struct nbd_tls *t;
	gnutls_session_t s;
	int fd;	   /* TCP */
	int plain; /* the relay's end of the socketpair, -1: none */
	int efd;   /* the loop's eventfd; -1 once written */
	uint64_t deadline_ms;
	struct nbd_tls_result *res; /* NULL once handed back */
	atomic_uint refs;	    /* relay: one a direction */
};

static void tls_conn_unref(struct tls_conn *tc)
{
	if (atomic_fetch_sub(&tc->refs, 1) != 1)
		return;
	if (tc->s)
		gnutls_deinit(tc->s);
	if (tc->plain >= 0) {
		/* the relay owns the TCP socket once it runs */
		close(tc->plain);
		close(tc->fd);
	}
	tls_unref(tc->t);
	free(tc);
}

/* Signals go to the loop's thread, not to ours. */
static int thread_start(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t th;
	int r;

	if (pthread_attr_init(&attr))
		return -ENOMEM;
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	(void)pthread_attr_setstacksize(&attr, THREAD_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&th, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return -r;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Client to server: TLS records in, plain bytes out to the server. */
static void relay_down(struct tls_conn *tc)
{
	uint8_t *buf = malloc(RELAY_BUF);

	while (buf) {
		ssize_t n = gnutls_record_recv(tc->s, buf, RELAY_BUF);

		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
			continue;
		if (n <= 0 || write_all(tc->plain, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	/* the server reads the end, closes its end, and relay_up ends */
	(void)shutdown(tc->plain, SHUT_WR);
	tls_conn_unref(tc);
}

/* Server to client: plain bytes in, TLS records out. */
static void *relay_up(void *arg)
{
	struct tls_conn *tc = arg;
	uint8_t *buf = malloc(RELAY_BUF);

	while (buf) {
		ssize_t n = read(tc->plain, buf, RELAY_BUF), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (off < n) {
			ssize_t w = gnutls_record_send(tc->s, buf + off, (size_t)(n - off));

			if (w == GNUTLS_E_INTERRUPTED || w == GNUTLS_E_AGAIN)
				continue;
			if (w < 0)
				goto out;
			off += w;
		}
	}
	/* the server closed: close_notify, then wake relay_down */
	(void)gnutls_bye(tc->s, GNUTLS_SHUT_WR);
out:
	free(buf);
	(void)shutdown(tc->fd, SHUT_RDWR);
	(void)shutdown(tc->plain, SHUT_RDWR);
	tls_conn_unref(tc);
	return NULL;
}

static void set_timeouts(int fd, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (long)(ms % 1000) * 1000};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int session_new(struct tls_conn *tc, char *why, size_t len)
{
	struct nbd_tls *t = tc->t;
	int r;

	r = gnutls_init(&tc->s, GNUTLS_SERVER | GNUTLS_NO_TICKETS);
	if (r < 0)
		goto fail;
	gnutls_session_set_ptr(tc->s, t);
	if (t->psk) {
		r = gnutls_set_default_priority_append(tc->s, "+ECDHE-PSK:+DHE-PSK:+PSK", NULL, 0);
		if (r == 0)
			r = gnutls_credentials_set(tc->s, GNUTLS_CRD_PSK, t->psk);
	} else {
		r = gnutls_set_default_priority(tc->s);
		if (r == 0)
			r = gnutls_credentials_set(tc->s, GNUTLS_CRD_CERTIFICATE, t->x509);
		if (r == 0 && t->verify_peer) {
			gnutls_certificate_server_set_request(tc->s, GNUTLS_CERT_REQUIRE);
			gnutls_session_set_verify_cert(tc->s, NULL, 0);
		}
	}
	if (r < 0)
		goto fail;
	gnutls_transport_set_int(tc->s, tc->fd);
	return 0;
fail:
	snprintf(why, len, "TLS session: %s", gnutls_strerror(r));
	return -1;
}

/* The client's certificate, checked once more after the handshake (the
 * handshake already failed an untrusted one). */
static int peer_verified(gnutls_session_t s, char *why, size_t len)
{
	unsigned status = 0;
	int r = gnutls_certificate_verify_peers2(s, &status);

	if (r < 0 || status != 0 || gnutls_certificate_type_get(s) != GNUTLS_CRT_X509) {
		snprintf(why, len, "TLS: the client's certificate is %s",
			 r == GNUTLS_E_NO_CERTIFICATE_FOUND || r < 0 ? "missing" : "not trusted");
		return -1;
	}
	return 0;
}

/* Tell the loop: res is filled.  tc->res is not ours afterwards. */
static void hand_back(struct tls_conn *tc)
{
	uint64_t one = 1;

	tc->res = NULL;
	(void)!write(tc->efd, &one, sizeof(one));
	tc->efd = -1;
}

static void *handshake_thread(void *arg)
{
	struct tls_conn *tc = arg;
	struct nbd_tls_result *res = tc->res;
	uint64_t now = lb_now_ms();
	int sp[2], r, size = SOCKETPAIR_BUFFER;

	res->fd = -1;
	if (now >= tc->deadline_ms) {
		snprintf(res->why, sizeof(res->why), "handshake not finished in time");
		goto fail;
	}
	if (session_new(tc, res->why, sizeof(res->why)) < 0)
		goto fail;
	/* the handshake's share of the connection's deadline */
	set_timeouts(tc->fd, tc->deadline_ms - now);
	gnutls_handshake_set_timeout(tc->s, (unsigned)(tc->deadline_ms - now));
	do
		r = gnutls_handshake(tc->s);
	while (r == GNUTLS_E_INTERRUPTED);
	if (r < 0) {
		snprintf(res->why, sizeof(res->why), "TLS handshake failed: %s",
			 r == GNUTLS_E_AGAIN || r == GNUTLS_E_TIMEDOUT ? "timed out"
								       : gnutls_strerror(r));
		goto fail;
	}
	if (tc->t->verify_peer && peer_verified(tc->s, res->why, sizeof(res->why)) < 0)
		goto fail;
	set_timeouts(tc->fd, 0);
	r = ktls_try(tc->s, tc->fd, res->why, sizeof(res->why));
	if (r < 0) {
		snprintf(res->why, sizeof(res->why), "kTLS: %s", strerror(-r));
		goto fail;
	}
	if (r == 0) {
		res->fd = tc->fd;
		res->records = NBD_TLS_RECORDS_KTLS;
		hand_back(tc);
		tls_conn_unref(tc); /* the keys are the kernel's */
		return NULL;
	}
	/* user space: a relay between fd and a socketpair */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(res->why, sizeof(res->why), "socketpair: %s", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < 2; i++) {
		(void)setsockopt(sp[i], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
		(void)setsockopt(sp[i], SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	}
	tc->plain = sp[0];
	atomic_store(&tc->refs, 2);
	if (thread_start(relay_up, tc) < 0) {
		tc->plain = -1;
		close(sp[0]);
		close(sp[1]);
		atomic_store(&tc->refs, 1);
		snprintf(res->why, sizeof(res->why), "no thread for the TLS relay");
		goto fail;
	}
	res->fd = sp[1];
	res->records = NBD_TLS_RECORDS_GNUTLS;
	hand_back(tc);
	relay_down(tc);
	return NULL;
fail:
	hand_back(tc);
	tls_conn_unref(tc);
	return NULL;
}

int nbd_tls_handshake_start(struct nbd_tls *t, int fd, uint64_t deadline_ms,
			    struct nbd_tls_result *res, int *ret_efd)
{
	struct tls_conn *tc = calloc(1, sizeof(*tc));
	int efd, r;

	if (!tc)
		return -ENOMEM;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0) {
		r = -errno;
		free(tc);
		return r;
	}
	atomic_fetch_add(&t->refs, 1);
	tc->t = t;
	tc->fd = fd;
	tc->plain = -1;
	tc->efd = efd;
	tc->deadline_ms = deadline_ms;
	tc->res = res;
	atomic_init(&tc->refs, 1);
	*res = (struct nbd_tls_result){.fd = -1};
	r = thread_start(handshake_thread, tc);
	if (r < 0) {
		close(efd);
		tls_unref(t);
		free(tc);
		return r;
	}
	*ret_efd = efd;
	return 0;
}
