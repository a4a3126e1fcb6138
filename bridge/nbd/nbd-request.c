/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NBD request headers: decoding and the checks before a request is served. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "nbd-proto.h"
#include "nbd-request.h"

int nbd_request_decode(const uint8_t raw[28], struct nbd_req_hdr *h)
{
	struct nbd_request r;

	memcpy(&r, raw, sizeof(r));
	if (be32toh(r.magic) != NBD_REQUEST_MAGIC)
		return -EPROTO;
	h->flags = be16toh(r.flags);
	h->type = be16toh(r.type);
	h->handle = r.handle; /* opaque: echoed as sent */
	h->offset = be64toh(r.offset);
	h->count = be32toh(r.count);
	return 0;
}

const char *nbd_cmd_name(uint16_t type)
{
	static const char *const names[] = {
		[NBD_CMD_READ] = "READ",
		[NBD_CMD_WRITE] = "WRITE",
		[NBD_CMD_DISC] = "DISC",
		[NBD_CMD_FLUSH] = "FLUSH",
		[NBD_CMD_TRIM] = "TRIM",
		[NBD_CMD_CACHE] = "CACHE",
		[NBD_CMD_WRITE_ZEROES] = "WRITE_ZEROES",
		[NBD_CMD_BLOCK_STATUS] = "BLOCK_STATUS",
		[NBD_CMD_RESIZE] = "RESIZE",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

/* Which command flags each command may carry, given the export. */
static uint16_t allowed_flags(uint16_t type, const struct nbd_export_desc *x, bool structured)
{
	uint16_t fua = (x->eflags & NBD_FLAG_SEND_FUA) ? NBD_CMD_FLAG_FUA : 0;
	uint16_t fast = (x->eflags & NBD_FLAG_SEND_FAST_ZERO) ? NBD_CMD_FLAG_FAST_ZERO : 0;

	switch (type) {
	case NBD_CMD_READ:
		return structured && (x->eflags & NBD_FLAG_SEND_DF) ? NBD_CMD_FLAG_DF : 0;
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
		return fua;
	case NBD_CMD_WRITE_ZEROES:
		return fua | NBD_CMD_FLAG_NO_HOLE | fast;
	case NBD_CMD_BLOCK_STATUS:
		return NBD_CMD_FLAG_REQ_ONE;
	default:
		return 0;
	}
}

/* The export flag a command needs, 0: always there, UINT16_MAX: never. */
static uint16_t needed_eflag(uint16_t type)
{
	switch (type) {
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
	case NBD_CMD_DISC:
	case NBD_CMD_BLOCK_STATUS: /* a metadata context instead */
		return 0;
	case NBD_CMD_FLUSH:
		return NBD_FLAG_SEND_FLUSH;
	case NBD_CMD_TRIM:
		return NBD_FLAG_SEND_TRIM;
	case NBD_CMD_WRITE_ZEROES:
		return NBD_FLAG_SEND_WRITE_ZEROES;
	case NBD_CMD_CACHE:
		return NBD_FLAG_SEND_CACHE;
	default: /* RESIZE: not offered */
		return UINT16_MAX;
	}
}

uint32_t nbd_request_check(const struct nbd_req_hdr *h, const struct nbd_export_desc *x,
			   bool structured, bool allocation)
{
	uint16_t need = needed_eflag(h->type);
	bool writes = h->type == NBD_CMD_WRITE || h->type == NBD_CMD_TRIM ||
		      h->type == NBD_CMD_WRITE_ZEROES;

	if (need == UINT16_MAX || (need && !(x->eflags & need)))
		return NBD_EINVAL;
	/* the client may ask only for a context it chose (doc/proto.md) */
	if (h->type == NBD_CMD_BLOCK_STATUS && !(structured && allocation))
		return NBD_EINVAL;
	if (h->flags & ~allowed_flags(h->type, x, structured))
		return NBD_EINVAL;
	if (h->type == NBD_CMD_DISC || h->type == NBD_CMD_FLUSH)
		return NBD_SUCCESS; /* offset and count carry nothing */
	if (writes && (x->eflags & NBD_FLAG_READ_ONLY))
		return NBD_EPERM;
	if (h->count == 0)
		return NBD_EINVAL;
	if ((h->type == NBD_CMD_READ || h->type == NBD_CMD_WRITE) && h->count > x->max_block)
		return NBD_EINVAL;
	if (x->min_block > 1 && (h->offset % x->min_block || h->count % x->min_block))
		return NBD_EINVAL;
	if (h->offset > x->size || h->count > x->size - h->offset)
		return writes ? NBD_ENOSPC : NBD_EINVAL;
	/* zeroes that must stay allocated are written: never fast */
	if ((h->flags & NBD_CMD_FLAG_FAST_ZERO) && (h->flags & NBD_CMD_FLAG_NO_HOLE))
		return NBD_ENOTSUP;
	return NBD_SUCCESS;
}

/* One descriptor at out + *len. */
static void put_descriptor(uint8_t *out, size_t *len, uint32_t length, uint32_t flags)
{
	struct nbd_block_descriptor w = {.length = htobe32(length), .flags = htobe32(flags)};

	memcpy(out + *len, &w, sizeof(w));
	*len += sizeof(w);
}

size_t nbd_block_status_encode(uint32_t context, const struct lb_extent *ext, size_t n,
			       uint32_t count, bool req_one, uint8_t *out)
{
	uint32_t be = htobe32(context), left = count, length = 0, flags = 0;
	size_t len = 4;

	memcpy(out, &be, 4);
	for (size_t i = 0; i < n && left; i++) {
		uint32_t l = ext[i].length < left ? (uint32_t)ext[i].length : left;
		uint32_t fl = ((ext[i].flags & LB_EXTENT_HOLE) ? NBD_STATE_HOLE : 0) |
			      ((ext[i].flags & LB_EXTENT_ZERO) ? NBD_STATE_ZERO : 0);

		if (l == 0)
			break;
		/* a run of the same flags is one descriptor */
		if (length && fl != flags) {
			if (req_one)
				break;
			put_descriptor(out, &len, length, flags);
			length = 0;
		}
		length += l;
		flags = fl;
		left -= l;
	}
	if (length)
		put_descriptor(out, &len, length, flags);
	return len;
}
