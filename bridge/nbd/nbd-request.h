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
 * oversized lengths, reads past the end; ENOSPC for writes past the end;
 * EPERM for writes to a read-only export. */
uint32_t nbd_request_check(const struct nbd_req_hdr *h, const struct nbd_export_desc *x,
			   bool structured);

const char *nbd_cmd_name(uint16_t type);

#endif
