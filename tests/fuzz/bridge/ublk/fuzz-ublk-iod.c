/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Request descriptors as the kernel might write them (24 bytes each),
 * checked against devices of three shapes.  Whatever passes must be a
 * request the engine can take: inside the device, aligned, within the
 * tag's buffer when it carries data, of a kind the device advertised.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ublk-iod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct lb_ublk_io_desc *iod, const struct lb_ublk_limits *lim)
{
	struct lb_ublk_req rq;
	int r = lb_ublk_iod_decode(iod, lim, &rq);

	if (r < 0) {
		if (r != -EIO && r != -EOPNOTSUPP && r != -EROFS)
			abort();
		return;
	}
	if (rq.op == LB_IO_FLUSH) {
		if (rq.nop != !lim->flush)
			abort();
		return;
	}
	if (rq.length == 0 || rq.offset % lim->block_size || rq.length % lim->block_size ||
	    rq.offset > lim->dev_bytes || rq.length > lim->dev_bytes - rq.offset)
		abort();
	if ((rq.op == LB_IO_READ || rq.op == LB_IO_WRITE) && rq.length > lim->buf_bytes)
		abort();
	if (rq.op == LB_IO_DISCARD && !lim->discard)
		abort();
	if (rq.op == LB_IO_WRITE_ZEROES && !lim->write_zeroes)
		abort();
	if (rq.op != LB_IO_READ && lim->read_only)
		abort();
	if ((rq.flags & LB_IO_FUA) && (rq.op != LB_IO_WRITE || !lim->fua))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lb_ublk_limits lims[] = {
		{.dev_bytes = 64u << 20, .block_size = 512, .buf_bytes = 1u << 20, .flush = true,
		 .fua = true, .discard = true, .write_zeroes = true},
		{.dev_bytes = 1ull << 40, .block_size = 4096, .buf_bytes = 256u << 10},
		{.dev_bytes = 4096 * 3, .block_size = 4096, .buf_bytes = 4096, .read_only = true,
		 .flush = true},
	};

	while (size >= sizeof(struct lb_ublk_io_desc)) {
		struct lb_ublk_io_desc iod;

		memcpy(&iod, data, sizeof(iod));
		for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
			check(&iod, &lims[i]);
		data += sizeof(iod);
		size -= sizeof(iod);
	}
	return 0;
}
