/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure half of the ublk frontend: the device parameters a LUN gets,
 * and the check of each request descriptor the kernel hands us before
 * anything of it reaches the target.  No I/O here (unit-tested and
 * fuzzed).
 */
#ifndef LUNBRIDGE_UBLK_IOD_H
#define LUNBRIDGE_UBLK_IOD_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "ublk-proto.h"

/* What a queue knows of its device. */
struct lb_ublk_limits {
	uint64_t dev_bytes;
	uint32_t block_size;
	uint32_t buf_bytes; /* each tag's buffer */
	bool flush, fua, discard, write_zeroes, read_only;
};

struct lb_ublk_req {
	enum lb_io_op op;
	uint32_t flags; /* LB_IO_FUA, LB_IO_NO_HOLE */
	uint64_t offset;
	uint64_t length; /* bytes; 0 for a flush */
	bool nop;	 /* complete at once with 0 (a flush without a cache) */
};

/* Decode and check a descriptor: 0 with ret filled, or the -errno the
 * request is completed with (-EOPNOTSUPP for an op the device did not
 * advertise, -EIO for one out of bounds, misaligned or larger than the
 * buffer, -EROFS for a write to a read-only LUN). */
int lb_ublk_iod_decode(const struct lb_ublk_io_desc *iod, const struct lb_ublk_limits *lim,
		       struct lb_ublk_req *ret);

/* The largest request buffer for a LUN: its maximum transfer, at most
 * LB_UBLK_BUF_MAX, a multiple of 4096 and of the block size. */
#define LB_UBLK_BUF_MAX (1024u * 1024u)
uint32_t lb_ublk_buf_bytes(const struct lb_volume_info *vi);

/* SET_PARAMS for a LUN whose requests fit buf_bytes: 0, or -EINVAL with
 * why set when ublk cannot present it (blocks over 4096 bytes, say). */
int lb_ublk_params_build(const struct lb_volume_info *vi, uint32_t buf_bytes,
			 struct lb_ublk_params *p, const char **why);

/* The limits a queue checks requests against, from the same LUN. */
void lb_ublk_limits_init(const struct lb_volume_info *vi, uint32_t buf_bytes,
			 struct lb_ublk_limits *lim);

#endif
