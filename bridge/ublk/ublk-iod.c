/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "ublk-iod.h"

#define SECTOR_SHIFT 9

static int ilog2_exact(uint32_t v)
{
	int s = 0;

	if (v == 0 || (v & (v - 1)))
		return -1;
	while ((1u << s) != v)
		s++;
	return s;
}

int lb_ublk_iod_decode(const struct lb_ublk_io_desc *iod, const struct lb_ublk_limits *lim,
		       struct lb_ublk_req *ret)
{
	uint32_t op = iod->op_flags & 0xff, flags = iod->op_flags >> 8 << 8;
	uint64_t offset, length;

	memset(ret, 0, sizeof(*ret));
	switch (op) {
	case LB_UBLK_IO_OP_READ:
		ret->op = LB_IO_READ;
		break;
	case LB_UBLK_IO_OP_WRITE:
		ret->op = LB_IO_WRITE;
		break;
	case LB_UBLK_IO_OP_FLUSH:
		ret->op = LB_IO_FLUSH;
		ret->nop = !lim->flush; /* no cache to flush */
		return 0;
	case LB_UBLK_IO_OP_DISCARD:
		if (!lim->discard)
			return -EOPNOTSUPP;
		ret->op = LB_IO_DISCARD;
		break;
	case LB_UBLK_IO_OP_WRITE_ZEROES:
		if (!lim->write_zeroes)
			return -EOPNOTSUPP;
		ret->op = LB_IO_WRITE_ZEROES;
		if (flags & LB_UBLK_IO_F_NOUNMAP)
			ret->flags |= LB_IO_NO_HOLE;
		break;
	default: /* WRITE_SAME and anything newer */
		return -EOPNOTSUPP;
	}
	if (iod->nr_sectors == 0 || iod->start_sector > (lim->dev_bytes >> SECTOR_SHIFT))
		return -EIO;
	offset = iod->start_sector << SECTOR_SHIFT;
	length = (uint64_t)iod->nr_sectors << SECTOR_SHIFT;
	if (length > lim->dev_bytes - offset)
		return -EIO;
	if (offset % lim->block_size || length % lim->block_size)
		return -EIO;
	if ((ret->op == LB_IO_READ || ret->op == LB_IO_WRITE) && length > lim->buf_bytes)
		return -EIO;
	if (ret->op != LB_IO_READ && lim->read_only)
		return -EROFS;
	if (ret->op == LB_IO_WRITE && (flags & LB_UBLK_IO_F_FUA)) {
		if (!lim->fua)
			return -EOPNOTSUPP;
		ret->flags |= LB_IO_FUA;
	}
	ret->offset = offset;
	ret->length = length;
	return 0;
}

uint32_t lb_ublk_buf_bytes(const struct lb_volume_info *vi)
{
	uint32_t n = vi->max_transfer < LB_UBLK_BUF_MAX ? vi->max_transfer : LB_UBLK_BUF_MAX;
	uint32_t unit = vi->block_size > 4096 ? vi->block_size : 4096;

	n -= n % unit;
	return n ? n : unit;
}

static uint32_t sectors(uint64_t bytes)
{
	bytes >>= SECTOR_SHIFT;
	return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}

int lb_ublk_params_build(const struct lb_volume_info *vi, uint32_t buf_bytes,
			 struct lb_ublk_params *p, const char **why)
{
	int lbs = ilog2_exact(vi->block_size), pbs = ilog2_exact(vi->physical_block_size);

	memset(p, 0, sizeof(*p));
	if (lbs < SECTOR_SHIFT || lbs > 12) {
		*why = "ublk presents logical blocks of 512 to 4096 bytes only";
		return -EINVAL;
	}
	if (pbs < lbs)
		pbs = lbs;
	if (buf_bytes < vi->block_size || buf_bytes % vi->block_size) {
		*why = "request buffer smaller than a block";
		return -EINVAL;
	}
	p->len = sizeof(*p);
	p->types = LB_UBLK_PARAM_TYPE_BASIC;
	if (vi->read_only)
		p->basic.attrs |= LB_UBLK_ATTR_READ_ONLY;
	if (vi->flush)
		p->basic.attrs |= LB_UBLK_ATTR_VOLATILE_CACHE;
	if (vi->flush && vi->fua)
		p->basic.attrs |= LB_UBLK_ATTR_FUA;
	p->basic.logical_bs_shift = (uint8_t)lbs;
	p->basic.physical_bs_shift = (uint8_t)pbs;
	p->basic.io_min_shift = (uint8_t)pbs;
	p->basic.io_opt_shift = (uint8_t)pbs;
	p->basic.max_sectors = buf_bytes >> SECTOR_SHIFT;
	p->basic.dev_sectors = vi->size >> SECTOR_SHIFT;
	if (!vi->read_only && ((vi->discard && vi->max_discard >= vi->block_size) ||
			       (vi->write_zeroes && vi->max_write_zeroes >= vi->block_size))) {
		p->types |= LB_UBLK_PARAM_TYPE_DISCARD;
		p->discard.discard_granularity = 1u << pbs;
		if (vi->discard && vi->max_discard >= vi->block_size) {
			p->discard.max_discard_sectors = sectors(vi->max_discard);
			p->discard.max_discard_segments = 1;
		}
		if (vi->write_zeroes && vi->max_write_zeroes >= vi->block_size)
			p->discard.max_write_zeroes_sectors = sectors(vi->max_write_zeroes);
	}
	return 0;
}

void lb_ublk_limits_init(const struct lb_volume_info *vi, uint32_t buf_bytes,
			 struct lb_ublk_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->dev_bytes = vi->size - vi->size % vi->block_size;
	lim->block_size = vi->block_size;
	lim->buf_bytes = buf_bytes;
	lim->flush = vi->flush;
	lim->fua = vi->flush && vi->fua;
	lim->read_only = vi->read_only;
	lim->discard = !vi->read_only && vi->discard && vi->max_discard >= vi->block_size;
	lim->write_zeroes =
		!vi->read_only && vi->write_zeroes && vi->max_write_zeroes >= vi->block_size;
}
