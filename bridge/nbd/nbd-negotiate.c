/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NBD fixed newstyle negotiation, option by option (doc/proto.md). */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nbd-negotiate.h"
#include "nbd-proto.h"

int nbd_buf_put(struct nbd_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void nbd_buf_free(struct nbd_buf *b)
{
	free(b->p);
	*b = (struct nbd_buf){0};
}

const char *nbd_option_name(uint32_t opt)
{
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return "EXPORT_NAME";
	case NBD_OPT_ABORT:
		return "ABORT";
	case NBD_OPT_LIST:
		return "LIST";
	case NBD_OPT_STARTTLS:
		return "STARTTLS";
	case NBD_OPT_INFO:
		return "INFO";
	case NBD_OPT_GO:
		return "GO";
	case NBD_OPT_STRUCTURED_REPLY:
		return "STRUCTURED_REPLY";
	case NBD_OPT_LIST_META_CONTEXT:
		return "LIST_META_CONTEXT";
	case NBD_OPT_SET_META_CONTEXT:
		return "SET_META_CONTEXT";
	case NBD_OPT_EXTENDED_HEADERS:
		return "EXTENDED_HEADERS";
	default:
		return "unknown";
	}
}

void nbd_negotiate_init(struct nbd_negotiate *n, const struct nbd_export_desc *x)
{
	*n = (struct nbd_negotiate){.x = x};
}

int nbd_negotiate_greeting(struct nbd_buf *out)
{
	struct nbd_greeting g = {
		.nbdmagic = htobe64(NBD_MAGIC),
		.version = htobe64(NBD_OPTS_MAGIC),
		.gflags = htobe16(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES),
	};

	return nbd_buf_put(out, &g, sizeof(g));
}

int nbd_negotiate_client_flags(struct nbd_negotiate *n, uint32_t cflags)
{
	if (!(cflags & NBD_FLAG_C_FIXED_NEWSTYLE))
		return -EPROTO;
	if (cflags & ~(uint32_t)(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES))
		return -EPROTO;
	n->no_zeroes = cflags & NBD_FLAG_C_NO_ZEROES;
	return 0;
}

/* One option reply: header and payload. */
static int reply(struct nbd_buf *out, uint32_t opt, uint32_t type, const void *p, uint32_t len)
{
	struct nbd_option_reply h = {
		.magic = htobe64(NBD_REP_MAGIC),
		.option = htobe32(opt),
		.reply = htobe32(type),
		.len = htobe32(len),
	};
	int r = nbd_buf_put(out, &h, sizeof(h));

	return r < 0 ? r : nbd_buf_put(out, p, len);
}

/* An error reply with a message the client may show. */
static int reply_err(struct nbd_buf *out, uint32_t opt, uint32_t type, const char *msg)
{
	int r = reply(out, opt, type, msg, (uint32_t)strlen(msg));

	return r < 0 ? r : NBD_NEG_CONTINUE;
}

static bool name_matches(const struct nbd_export_desc *x, const uint8_t *name, uint32_t len)
{
	/* "" is the default export: ours */
	return len == 0 || (len == strlen(x->name) && memcmp(name, x->name, len) == 0);
}

static int reply_info_export(struct nbd_buf *out, uint32_t opt, const struct nbd_export_desc *x)
{
	struct nbd_info_export ie = {
		.info = htobe16(NBD_INFO_EXPORT),
		.size = htobe64(x->size),
		.eflags = htobe16(x->eflags),
	};

	return reply(out, opt, NBD_REP_INFO, &ie, sizeof(ie));
}

static int reply_info_string(struct nbd_buf *out, uint32_t opt, uint16_t info, const char *s)
{
	size_t len = strlen(s);
	uint16_t be = htobe16(info);
	uint8_t tmp[2 + NBD_MAX_STRING];

	if (len > NBD_MAX_STRING)
		len = NBD_MAX_STRING;
	memcpy(tmp, &be, 2);
	memcpy(tmp + 2, s, len);
	return reply(out, opt, NBD_REP_INFO, tmp, (uint32_t)(2 + len));
}

static int reply_info_block_size(struct nbd_buf *out, uint32_t opt, const struct nbd_export_desc *x)
{
	struct nbd_info_block_size bs = {
		.info = htobe16(NBD_INFO_BLOCK_SIZE),
		.minimum = htobe32(x->min_block),
		.preferred = htobe32(x->pref_block),
		.maximum = htobe32(x->max_block),
	};

	return reply(out, opt, NBD_REP_INFO, &bs, sizeof(bs));
}

/* The export name that starts INFO, GO and the metadata options: u32
 * length, then the name, then at least tail more bytes.  false when it
 * does not fit. */
static bool read_name(const uint8_t *d, uint32_t len, uint32_t tail, uint32_t *nlen)
{
	if (len < 4 + tail)
		return false;
	memcpy(nlen, d, 4);
	*nlen = be32toh(*nlen);
	return *nlen <= NBD_MAX_STRING && *nlen <= len - 4 - tail;
}

/* NBD_OPT_INFO and NBD_OPT_GO: u32 name length, name, u16 count, u16
 * info requests. */
static int opt_info_go(struct nbd_negotiate *n, uint32_t opt, const uint8_t *d, uint32_t len,
		       struct nbd_buf *out)
{
	const struct nbd_export_desc *x = n->x;
	bool want_name = false, want_desc = false, want_bs = false;
	uint32_t nlen;
	uint16_t count;
	int r;

	if (!read_name(d, len, 2, &nlen))
		return reply_err(out, opt, NBD_REP_ERR_INVALID,
				 "export name does not fit the option");
	memcpy(&count, d + 4 + nlen, 2);
	count = be16toh(count);
	if (len != 6 + nlen + 2u * count)
		return reply_err(out, opt, NBD_REP_ERR_INVALID,
				 "option length does not match its information requests");
	if (memchr(d + 4, '\0', nlen))
		return reply_err(out, opt, NBD_REP_ERR_INVALID, "export name contains NUL");
	for (uint16_t i = 0; i < count; i++) {
		uint16_t t;

		memcpy(&t, d + 6 + nlen + 2u * i, 2);
		switch (be16toh(t)) {
		case NBD_INFO_NAME:
			want_name = true;
			break;
		case NBD_INFO_DESCRIPTION:
			want_desc = true;
			break;
		case NBD_INFO_BLOCK_SIZE:
			want_bs = true;
			break;
		default: /* NBD_INFO_EXPORT is always sent; unknown ones ignored */
			break;
		}
	}
	if (!name_matches(x, d + 4, nlen))
		return reply_err(out, opt, NBD_REP_ERR_UNKNOWN, "no such export");
	/* a client that cannot honour our block size must not go ahead */
	if (opt == NBD_OPT_GO && !want_bs && x->min_block > 512)
		return reply_err(out, opt, NBD_REP_ERR_BLOCK_SIZE_REQD,
				 "the export's block size is larger than 512 bytes");
	r = reply_info_export(out, opt, x);
	if (r == 0 && want_name)
		r = reply_info_string(out, opt, NBD_INFO_NAME, x->name);
	if (r == 0 && want_desc && x->description)
		r = reply_info_string(out, opt, NBD_INFO_DESCRIPTION, x->description);
	if (r == 0)
		r = reply_info_block_size(out, opt, x);
	if (r == 0)
		r = reply(out, opt, NBD_REP_ACK, NULL, 0);
	if (r < 0)
		return r;
	return opt == NBD_OPT_GO ? NBD_NEG_TRANSMISSION : NBD_NEG_CONTINUE;
}

/* Whether a query names base:allocation: the whole name, or its namespace
 * alone ("base:") in a LIST, which asks for every context in it. */
static bool query_allocation(uint32_t opt, const uint8_t *q, uint32_t qlen)
{
	static const char name[] = NBD_META_BASE_ALLOCATION;

	if (qlen == sizeof(name) - 1 && memcmp(q, name, qlen) == 0)
		return true;
	return opt == NBD_OPT_LIST_META_CONTEXT && qlen == 5 && memcmp(q, "base:", 5) == 0;
}

/* NBD_OPT_LIST_META_CONTEXT and SET: u32 name length, name, u32 count,
 * count x (u32 length, query).  We serve one context, base:allocation
 * (NBD_CMD_BLOCK_STATUS): LIST without queries names it; a query names it
 * by its name, or by its namespace in a LIST.  SET replaces what an
 * earlier SET chose; other queries match nothing. */
static int opt_meta_context(struct nbd_negotiate *n, uint32_t opt, const uint8_t *d, uint32_t len,
			    struct nbd_buf *out)
{
	uint32_t nlen, count, off;
	bool allocation;
	int r;

	if (!n->structured)
		return reply_err(out, opt, NBD_REP_ERR_INVALID,
				 "metadata contexts need structured replies first");
	if (!read_name(d, len, 4, &nlen))
		return reply_err(out, opt, NBD_REP_ERR_INVALID,
				 "export name does not fit the option");
	memcpy(&count, d + 4 + nlen, 4);
	count = be32toh(count);
	off = 8 + nlen;
	allocation = count == 0 && opt == NBD_OPT_LIST_META_CONTEXT;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t qlen;

		if (len - off < 4)
			return reply_err(out, opt, NBD_REP_ERR_INVALID, "query list truncated");
		memcpy(&qlen, d + off, 4);
		qlen = be32toh(qlen);
		if (qlen > len - off - 4)
			return reply_err(out, opt, NBD_REP_ERR_INVALID, "query list truncated");
		allocation |= query_allocation(opt, d + off + 4, qlen);
		off += 4 + qlen;
	}
	if (off != len)
		return reply_err(out, opt, NBD_REP_ERR_INVALID, "trailing bytes after the queries");
	if (!name_matches(n->x, d + 4, nlen))
		return reply_err(out, opt, NBD_REP_ERR_UNKNOWN, "no such export");
	if (opt == NBD_OPT_SET_META_CONTEXT)
		n->meta_allocation = allocation;
	if (allocation) {
		static const char name[] = NBD_META_BASE_ALLOCATION;
		uint8_t tmp[4 + sizeof(name) - 1];
		uint32_t id = htobe32(NBD_META_ID_ALLOCATION);

		memcpy(tmp, &id, 4);
		memcpy(tmp + 4, name, sizeof(name) - 1);
		r = reply(out, opt, NBD_REP_META_CONTEXT, tmp, sizeof(tmp));
		if (r < 0)
			return r;
	}
	r = reply(out, opt, NBD_REP_ACK, NULL, 0);
	return r < 0 ? r : NBD_NEG_CONTINUE;
}

static int opt_list(struct nbd_negotiate *n, uint32_t len, struct nbd_buf *out)
{
	const char *name = n->x->name;
	uint32_t nlen = (uint32_t)strlen(name), be = htobe32(nlen);
	uint8_t tmp[4 + NBD_MAX_STRING];
	int r;

	if (len != 0)
		return reply_err(out, NBD_OPT_LIST, NBD_REP_ERR_INVALID, "LIST takes no data");
	if (nlen > NBD_MAX_STRING)
		nlen = NBD_MAX_STRING;
	memcpy(tmp, &be, 4);
	memcpy(tmp + 4, name, nlen);
	r = reply(out, NBD_OPT_LIST, NBD_REP_SERVER, tmp, 4 + nlen);
	if (r == 0)
		r = reply(out, NBD_OPT_LIST, NBD_REP_ACK, NULL, 0);
	return r < 0 ? r : NBD_NEG_CONTINUE;
}

/* The old way into transmission: no reply header, no way to say no. */
static int opt_export_name(struct nbd_negotiate *n, const uint8_t *d, uint32_t len,
			   struct nbd_buf *out)
{
	struct nbd_export_name_reply er = {
		.size = htobe64(n->x->size),
		.eflags = htobe16(n->x->eflags),
	};
	int r;

	if (len > NBD_MAX_STRING || (len && memchr(d, '\0', len)) || !name_matches(n->x, d, len))
		return NBD_NEG_CLOSE;
	r = nbd_buf_put(out, &er, n->no_zeroes ? 10 : sizeof(er));
	return r < 0 ? r : NBD_NEG_TRANSMISSION;
}

void nbd_negotiate_tls_started(struct nbd_negotiate *n)
{
	/* the spec: what was negotiated before STARTTLS does not carry over */
	n->tls = true;
	n->structured = false;
}

/* NBD_OPT_STARTTLS: ACK and the handshake where TLS is offered; once TLS
 * is up, or with data, ERR_INVALID (doc/proto.md). */
static int opt_starttls(struct nbd_negotiate *n, uint32_t len, struct nbd_buf *out)
{
	int r;

	if (n->tls_mode == NBD_TLS_OFF)
		return reply_err(out, NBD_OPT_STARTTLS, NBD_REP_ERR_UNSUP, "TLS is not supported");
	if (n->tls)
		return reply_err(out, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
				 "TLS is already negotiated");
	if (len != 0)
		return reply_err(out, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
				 "STARTTLS takes no data");
	r = reply(out, NBD_OPT_STARTTLS, NBD_REP_ACK, NULL, 0);
	return r < 0 ? r : NBD_NEG_STARTTLS;
}

int nbd_negotiate_option(struct nbd_negotiate *n, uint32_t opt, const uint8_t *data, uint32_t len,
			 struct nbd_buf *out)
{
	int r;

	n->options++;
	/* FORCEDTLS: nothing but STARTTLS and ABORT in plaintext; EXPORT_NAME
	 * has no error reply, so the connection just ends */
	if (n->tls_mode == NBD_TLS_REQUIRE && !n->tls && opt != NBD_OPT_STARTTLS &&
	    opt != NBD_OPT_ABORT) {
		n->tls_refused++;
		if (opt == NBD_OPT_EXPORT_NAME)
			return NBD_NEG_CLOSE;
		return reply_err(out, opt, NBD_REP_ERR_TLS_REQD, "TLS is required");
	}
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(n, data, len, out);
	case NBD_OPT_ABORT:
		r = reply(out, opt, NBD_REP_ACK, NULL, 0);
		return r < 0 ? r : NBD_NEG_CLOSE;
	case NBD_OPT_LIST:
		return opt_list(n, len, out);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info_go(n, opt, data, len, out);
	case NBD_OPT_STRUCTURED_REPLY:
		if (len != 0)
			return reply_err(out, opt, NBD_REP_ERR_INVALID,
					 "STRUCTURED_REPLY takes no data");
		n->structured = true;
		r = reply(out, opt, NBD_REP_ACK, NULL, 0);
		return r < 0 ? r : NBD_NEG_CONTINUE;
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta_context(n, opt, data, len, out);
	case NBD_OPT_STARTTLS:
		return opt_starttls(n, len, out);
	default:
		return reply_err(out, opt, NBD_REP_ERR_UNSUP, "option not supported");
	}
}
