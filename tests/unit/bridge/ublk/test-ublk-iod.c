/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ublk: the parameters a LUN gets, and the check of each request the kernel hands us. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "ublk-iod.h"

#define MiB (1024u * 1024u)

static struct lb_volume_info lun(uint32_t bs, uint64_t size)
{
	return (struct lb_volume_info){
		.size = size,
		.block_size = bs,
		.physical_block_size = bs,
		.max_transfer = 8 * MiB,
		.flush = true,
		.fua = true,
	};
}

static const char *why;

static void test_params_plain(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_params p;

	vi.physical_block_size = 4096;
	assert_int_equal(lb_ublk_params_build(&vi, lb_ublk_buf_bytes(&vi), &p, &why), 0);
	assert_int_equal(p.len, sizeof(p));
	assert_int_equal(p.types, LB_UBLK_PARAM_TYPE_BASIC);
	assert_int_equal(p.basic.attrs, LB_UBLK_ATTR_VOLATILE_CACHE | LB_UBLK_ATTR_FUA);
	assert_int_equal(p.basic.logical_bs_shift, 9);
	assert_int_equal(p.basic.physical_bs_shift, 12);
	assert_int_equal(p.basic.io_min_shift, 12);
	assert_int_equal(p.basic.max_sectors, LB_UBLK_BUF_MAX / 512);
	assert_int_equal(p.basic.dev_sectors, 64 * MiB / 512);
}

static void test_params_no_cache(void **state)
{
	struct lb_volume_info vi = lun(4096, 64 * MiB);
	struct lb_ublk_params p;

	vi.flush = false; /* no SYNCHRONIZE CACHE: write-through, FUA means nothing */
	assert_int_equal(lb_ublk_params_build(&vi, 65536, &p, &why), 0);
	assert_int_equal(p.basic.attrs, 0);
	assert_int_equal(p.basic.logical_bs_shift, 12);
	assert_int_equal(p.basic.physical_bs_shift, 12);
	assert_int_equal(p.basic.max_sectors, 128);
}

static void test_params_discard(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_params p;

	vi.discard = true;
	vi.max_discard = 32 * MiB;
	vi.write_zeroes = true;
	vi.max_write_zeroes = 4 * MiB;
	assert_int_equal(lb_ublk_params_build(&vi, MiB, &p, &why), 0);
	assert_int_equal(p.types, LB_UBLK_PARAM_TYPE_BASIC | LB_UBLK_PARAM_TYPE_DISCARD);
	assert_int_equal(p.discard.discard_granularity, 512);
	assert_int_equal(p.discard.max_discard_sectors, 32 * MiB / 512);
	assert_int_equal(p.discard.max_discard_segments, 1);
	assert_int_equal(p.discard.max_write_zeroes_sectors, 4 * MiB / 512);
}

static void test_params_write_zeroes_only(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_params p;

	vi.write_zeroes = true;
	vi.max_write_zeroes = MiB;
	assert_int_equal(lb_ublk_params_build(&vi, MiB, &p, &why), 0);
	assert_true(p.types & LB_UBLK_PARAM_TYPE_DISCARD);
	/* the kernel insists on a granularity even without discard */
	assert_int_not_equal(p.discard.discard_granularity, 0);
	assert_int_equal(p.discard.max_discard_sectors, 0);
	assert_int_equal(p.discard.max_write_zeroes_sectors, MiB / 512);
}

static void test_params_read_only(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_params p;

	vi.read_only = true;
	vi.discard = true;
	vi.max_discard = MiB;
	assert_int_equal(lb_ublk_params_build(&vi, MiB, &p, &why), 0);
	assert_true(p.basic.attrs & LB_UBLK_ATTR_READ_ONLY);
	assert_int_equal(p.types, LB_UBLK_PARAM_TYPE_BASIC);
}

static void test_params_refused(void **state)
{
	struct lb_volume_info vi = lun(8192, 64 * MiB);
	struct lb_ublk_params p;

	why = NULL;
	assert_int_equal(lb_ublk_params_build(&vi, MiB, &p, &why), -EINVAL);
	assert_non_null(strstr(why, "512 to 4096"));
	vi = lun(520, 64 * MiB); /* not a power of two */
	assert_int_equal(lb_ublk_params_build(&vi, MiB, &p, &why), -EINVAL);
	vi = lun(4096, 64 * MiB);
	assert_int_equal(lb_ublk_params_build(&vi, 2048, &p, &why), -EINVAL);
}

static void test_buf_bytes(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);

	assert_int_equal(lb_ublk_buf_bytes(&vi), LB_UBLK_BUF_MAX);
	vi.max_transfer = 256 * 1024;
	assert_int_equal(lb_ublk_buf_bytes(&vi), 256 * 1024);
	vi.max_transfer = 256 * 1024 + 512; /* whole pages */
	assert_int_equal(lb_ublk_buf_bytes(&vi), 256 * 1024);
	vi.max_transfer = 1024;
	assert_int_equal(lb_ublk_buf_bytes(&vi), 4096);
}

/* ---- request descriptors ---- */

static struct lb_ublk_limits lim;

static int setup_limits(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);

	vi.discard = true;
	vi.max_discard = 32 * MiB;
	lb_ublk_limits_init(&vi, MiB, &lim);
	return 0;
}

static int decode(uint32_t op_flags, uint64_t sector, uint32_t sectors, struct lb_ublk_req *rq)
{
	struct lb_ublk_io_desc iod = {
		.op_flags = op_flags,
		.nr_sectors = sectors,
		.start_sector = sector,
		.addr = 0x1000,
	};

	return lb_ublk_iod_decode(&iod, &lim, rq);
}

static void test_read_write(void **state)
{
	struct lb_ublk_req rq;

	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 8, 16, &rq), 0);
	assert_int_equal(rq.op, LB_IO_READ);
	assert_int_equal(rq.offset, 4096);
	assert_int_equal(rq.length, 8192);
	assert_int_equal(rq.flags, 0);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE | LB_UBLK_IO_F_FUA, 0, 1, &rq), 0);
	assert_int_equal(rq.op, LB_IO_WRITE);
	assert_int_equal(rq.flags, LB_IO_FUA);
	/* the last sector, and a whole buffer */
	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 64 * MiB / 512 - 1, 1, &rq), 0);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE, 0, MiB / 512, &rq), 0);
}

static void test_out_of_bounds(void **state)
{
	struct lb_ublk_req rq;

	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 64 * MiB / 512, 1, &rq), -EIO);
	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 64 * MiB / 512 - 1, 2, &rq), -EIO);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE, UINT64_MAX, 1, &rq), -EIO);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE, UINT64_MAX >> 9, 8, &rq), -EIO);
	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 0, 0, &rq), -EIO);
	/* larger than the tag's buffer */
	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 0, MiB / 512 + 1, &rq), -EIO);
	/* a discard may be larger than the buffer: it carries no data */
	assert_int_equal(decode(LB_UBLK_IO_OP_DISCARD, 0, 8 * MiB / 512, &rq), 0);
	assert_int_equal(rq.op, LB_IO_DISCARD);
	assert_int_equal(rq.length, 8 * MiB);
}

static void test_alignment(void **state)
{
	struct lb_volume_info vi = lun(4096, 64 * MiB);
	struct lb_ublk_req rq;

	lb_ublk_limits_init(&vi, MiB, &lim);
	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 8, 8, &rq), 0);
	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 1, 8, &rq), -EIO);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE, 8, 7, &rq), -EIO);
}

static void test_ops_not_advertised(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_req rq;

	vi.fua = false;
	lb_ublk_limits_init(&vi, MiB, &lim);
	assert_int_equal(decode(LB_UBLK_IO_OP_DISCARD, 0, 8, &rq), -EOPNOTSUPP);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE_ZEROES, 0, 8, &rq), -EOPNOTSUPP);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE_SAME, 0, 8, &rq), -EOPNOTSUPP);
	assert_int_equal(decode(0xff, 0, 8, &rq), -EOPNOTSUPP);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE | LB_UBLK_IO_F_FUA, 0, 8, &rq), -EOPNOTSUPP);
}

static void test_flush(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_req rq;

	assert_int_equal(decode(LB_UBLK_IO_OP_FLUSH, 0, 0, &rq), 0);
	assert_int_equal(rq.op, LB_IO_FLUSH);
	assert_false(rq.nop);
	vi.flush = false;
	lb_ublk_limits_init(&vi, MiB, &lim);
	assert_int_equal(decode(LB_UBLK_IO_OP_FLUSH, 0, 0, &rq), 0);
	assert_true(rq.nop);
}

static void test_write_zeroes(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_req rq;

	vi.write_zeroes = true;
	vi.max_write_zeroes = MiB;
	lb_ublk_limits_init(&vi, MiB, &lim);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE_ZEROES, 0, 16, &rq), 0);
	assert_int_equal(rq.op, LB_IO_WRITE_ZEROES);
	assert_int_equal(rq.flags, 0);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE_ZEROES | LB_UBLK_IO_F_NOUNMAP, 0, 16, &rq), 0);
	assert_int_equal(rq.flags, LB_IO_NO_HOLE);
}

static void test_read_only(void **state)
{
	struct lb_volume_info vi = lun(512, 64 * MiB);
	struct lb_ublk_req rq;

	vi.read_only = true;
	lb_ublk_limits_init(&vi, MiB, &lim);
	assert_int_equal(decode(LB_UBLK_IO_OP_READ, 0, 8, &rq), 0);
	assert_int_equal(decode(LB_UBLK_IO_OP_WRITE, 0, 8, &rq), -EROFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_plain),
		cmocka_unit_test(test_params_no_cache),
		cmocka_unit_test(test_params_discard),
		cmocka_unit_test(test_params_write_zeroes_only),
		cmocka_unit_test(test_params_read_only),
		cmocka_unit_test(test_params_refused),
		cmocka_unit_test(test_buf_bytes),
		cmocka_unit_test_setup(test_read_write, setup_limits),
		cmocka_unit_test_setup(test_out_of_bounds, setup_limits),
		cmocka_unit_test_setup(test_alignment, setup_limits),
		cmocka_unit_test_setup(test_ops_not_advertised, setup_limits),
		cmocka_unit_test_setup(test_flush, setup_limits),
		cmocka_unit_test_setup(test_write_zeroes, setup_limits),
		cmocka_unit_test_setup(test_read_only, setup_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
