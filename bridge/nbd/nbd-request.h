/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NBD transmission requests: decoding a header off the wire and deciding,
 * before anything reaches the target, whether the request is one we may
 * serve.  Pure functions; the server (nbd-recv.c, nbd-dispatch.c) and
 * the fuzzer call them.
 */
#ifndef LUNBRIDGE_NBD_REQUEST_H
#define LUNBRIDGE_NBD_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "nbd-negotiate.h"

struct nbd_req_hdr {
	uint16_t flags, type;
	uint64_t handle, offset;
	uint32_t count;
};

/* 28 bytes off the wire: 0, or -EPROTO when the magic is wrong (the
 * stream is out of step: close the connection). */
int nbd_request_decode(const uint8_t raw[28], struct nbd_req_hdr *h);

/* A WRITE is followed by count bytes of payload, whatever its fate. */
static inline bool nbd_request_has_payload(const struct nbd_req_hdr *h)
{
	return h->type == 1 /* NBD_CMD_WRITE */;
}

/* NBD_SUCCESS, or the NBD error to answer with: EINVAL for unknown types,
 * flags or commands the export did not advertise, zero, unaligned or
 * oversized lengths, reads past the end, BLOCK_STATUS without structured
 * replies and base:allocation agreed (allocation); ENOSPC for writes past
 * the end; EPERM for writes to a read-only export; ENOTSUP for a
 * FAST_ZERO that must keep the blocks allocated (NO_HOLE: only a hole is
 * fast). */
uint32_t nbd_request_check(const struct nbd_req_hdr *h, const struct nbd_export_desc *x,
			   bool structured, bool allocation);

/* The payload of an NBD_REPLY_TYPE_BLOCK_STATUS chunk for a request of
 * count bytes: the context id, then a descriptor per extent (n >= 1, from
 * the request's offset on), neighbours of the same flags merged, lengths
 * clipped to count, one descriptor only with req_one.  Written to out
 * (room for 4 + 8 * n bytes); returns its length. */
size_t nbd_block_status_encode(uint32_t context, const struct lb_extent *ext, size_t n,
			       uint32_t count, bool req_one, uint8_t *out);

const char *nbd_cmd_name(uint16_t type);

#endif
