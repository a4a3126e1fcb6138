/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Request headers off the wire, 28 bytes each, checked against exports of
 * two shapes.  Whatever passes the check must be a request the engine can
 * take: inside the export, aligned, within the payload limit, of a kind
 * the export advertised.
 */
#include <stdlib.h>
#include <string.h>

#include "nbd-proto.h"
#include "nbd-request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct nbd_req_hdr *h, const struct nbd_export_desc *x, bool structured,
		  bool allocation)
{
	uint32_t err = nbd_request_check(h, x, structured, allocation);

	if (err == NBD_ENOTSUP) {
		/* only a fast zero that must stay allocated */
		if (h->type != NBD_CMD_WRITE_ZEROES || !(h->flags & NBD_CMD_FLAG_FAST_ZERO) ||
		    !(h->flags & NBD_CMD_FLAG_NO_HOLE))
			abort();
		return;
	}
	if (err != NBD_SUCCESS) {
		if (err != NBD_EINVAL && err != NBD_ENOSPC && err != NBD_EPERM)
			abort();
		return;
	}
	switch (h->type) {
	case NBD_CMD_DISC:
		return;
	case NBD_CMD_FLUSH:
		if (!(x->eflags & NBD_FLAG_SEND_FLUSH) || h->flags)
			abort();
		return;
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
		if (h->count > x->max_block)
			abort();
		break;
	case NBD_CMD_TRIM:
		if (!(x->eflags & NBD_FLAG_SEND_TRIM))
			abort();
		break;
	case NBD_CMD_WRITE_ZEROES:
		if (!(x->eflags & NBD_FLAG_SEND_WRITE_ZEROES) ||
		    ((h->flags & NBD_CMD_FLAG_FAST_ZERO) && !(x->eflags & NBD_FLAG_SEND_FAST_ZERO)))
			abort();
		break;
	case NBD_CMD_CACHE:
		if (!(x->eflags & NBD_FLAG_SEND_CACHE) || h->flags)
			abort();
		break;
	case NBD_CMD_BLOCK_STATUS:
		/* only on a context agreed, REQ_ONE the only flag */
		if (!structured || !allocation || (h->flags & ~NBD_CMD_FLAG_REQ_ONE))
			abort();
		break;
	default:
		abort();
	}
	if (h->count == 0 || h->offset % x->min_block || h->count % x->min_block ||
	    h->offset > x->size || h->count > x->size - h->offset)
		abort();
	if ((h->flags & NBD_CMD_FLAG_FUA) && !(x->eflags & NBD_FLAG_SEND_FUA))
		abort();
	if (h->type != NBD_CMD_READ && h->type != NBD_CMD_CACHE &&
	    h->type != NBD_CMD_BLOCK_STATUS && (x->eflags & NBD_FLAG_READ_ONLY))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nbd_export_desc xs[] = {
		{.name = "",
		 .size = 1u << 30,
		 .eflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
			   NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
			   NBD_FLAG_SEND_FAST_ZERO | NBD_FLAG_SEND_CACHE,
		 .min_block = 512,
		 .pref_block = 4096,
		 .max_block = NBD_MAX_PAYLOAD},
		{.name = "ro",
		 .size = (1u << 20) + 4096,
		 .eflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_DF,
		 .min_block = 4096,
		 .pref_block = 4096,
		 .max_block = 1u << 20},
	};

	for (size_t off = 0; size - off >= 28; off += 28) {
		uint8_t raw[28];
		struct nbd_req_hdr h;

		memcpy(raw, data + off, 28);
		/* the magic is mostly right, so that the checks get exercised */
		if (raw[0] & 1) {
			raw[0] = 0x25, raw[1] = 0x60, raw[2] = 0x95, raw[3] = 0x13;
		}
		if (nbd_request_decode(raw, &h) < 0)
			continue;
		for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
			for (int agreed = 0; agreed < 4; agreed++)
				check(&h, &xs[i], agreed & 1, agreed & 2);
		}
	}
	return 0;
}
