/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A client's side of the negotiation: a flags word, then options (u32
 * option, u32 length, data) until the input ends.  Every answer must be a
 * well-formed sequence of option replies echoing the option (or, for
 * EXPORT_NAME, the fixed-size export reply), and nothing is answered after
 * a close or the transmission phase.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "nbd-negotiate.h"
#include "nbd-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_replies(const struct nbd_buf *out, uint32_t opt, int r)
{
	size_t off = 0;
	bool acked = false;

	if (opt == NBD_OPT_EXPORT_NAME) {
		if (!(r == NBD_NEG_CLOSE && out->len == 0) &&
		    !(r == NBD_NEG_TRANSMISSION && (out->len == 10 || out->len == 134)))
			abort();
		return;
	}
	while (off < out->len) {
		struct nbd_option_reply h;
		uint32_t type;

		if (acked || out->len - off < sizeof(h))
			abort();
		memcpy(&h, out->p + off, sizeof(h));
		if (be64toh(h.magic) != NBD_REP_MAGIC || be32toh(h.option) != opt)
			abort();
		off += sizeof(h);
		if (be32toh(h.len) > out->len - off)
			abort();
		type = be32toh(h.reply);
		/* the one context served: base:allocation, id 1, and only
		 * in answer to the metadata options */
		if (type == NBD_REP_META_CONTEXT) {
			static const char name[] = NBD_META_BASE_ALLOCATION;
			uint32_t id;

			if ((opt != NBD_OPT_LIST_META_CONTEXT && opt != NBD_OPT_SET_META_CONTEXT) ||
			    be32toh(h.len) != 4 + sizeof(name) - 1)
				abort();
			memcpy(&id, out->p + off, 4);
			if (be32toh(id) != NBD_META_ID_ALLOCATION ||
			    memcmp(out->p + off + 4, name, sizeof(name) - 1) != 0)
				abort();
		}
		off += be32toh(h.len);
		if (type == NBD_REP_ACK || (type & NBD_REP_FLAG_ERROR))
			acked = true; /* the final reply */
	}
	if (!acked)
		abort();
	if (r == NBD_NEG_TRANSMISSION && opt != NBD_OPT_GO)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbd_export_desc x = {
		.name = "vol",
		.description = "fuzz",
		.size = 1 << 30,
		.eflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH,
		.min_block = size % 2 ? 4096 : 512,
		.pref_block = 4096,
		.max_block = NBD_MAX_PAYLOAD,
	};
	struct nbd_negotiate n;
	uint32_t cflags, opt, len;
	size_t off = 4;

	if (size < 4)
		return 0;
	nbd_negotiate_init(&n, &x);
	memcpy(&cflags, data, 4);
	if (nbd_negotiate_client_flags(&n, be32toh(cflags)) < 0)
		return 0;
	while (size - off >= 8) {
		struct nbd_buf out = {0};
		int r;

		memcpy(&opt, data + off, 4);
		memcpy(&len, data + off + 4, 4);
		opt = be32toh(opt) % 16; /* mostly known options */
		len = be32toh(len) % 512;
		off += 8;
		if (len > size - off)
			len = (uint32_t)(size - off);
		bool chosen = n.meta_allocation;

		r = nbd_negotiate_option(&n, opt, data + off, len, &out);
		off += len;
		if (r < 0)
			abort();
		check_replies(&out, opt, r);
		/* only SET chooses, and only with structured replies agreed */
		if (n.meta_allocation != chosen &&
		    (opt != NBD_OPT_SET_META_CONTEXT || !n.structured))
			abort();
		nbd_buf_free(&out);
		if (r != NBD_NEG_CONTINUE)
			break;
	}
	return 0;
}
