/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NBD requests: decoding, and what is answered before the target sees anything. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "nbd-proto.h"
#include "nbd-request.h"

#define SIZE (64u << 20)

static struct nbd_export_desc x;

static int setup(void **state)
{
	x = (struct nbd_export_desc){
		.name = "",
		.size = SIZE,
		.eflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA,
		.min_block = 512,
		.pref_block = 4096,
		.max_block = NBD_MAX_PAYLOAD,
	};
	return 0;
}

static uint32_t check(uint16_t type, uint16_t flags, uint64_t off, uint32_t count)
{
	struct nbd_req_hdr h = {.type = type, .flags = flags, .offset = off, .count = count};

	return nbd_request_check(&h, &x, false, false);
}

static void test_decode(void **state)
{
	struct nbd_request r = {
		.magic = htobe32(NBD_REQUEST_MAGIC),
		.flags = htobe16(NBD_CMD_FLAG_FUA),
		.type = htobe16(NBD_CMD_WRITE),
		.handle = 0x0102030405060708ull,
		.offset = htobe64(4096),
		.count = htobe32(512),
	};
	uint8_t raw[28];
	struct nbd_req_hdr h;

	memcpy(raw, &r, sizeof(raw));
	assert_int_equal(nbd_request_decode(raw, &h), 0);
	assert_int_equal(h.type, NBD_CMD_WRITE);
	assert_int_equal(h.flags, NBD_CMD_FLAG_FUA);
	assert_true(h.handle == 0x0102030405060708ull); /* echoed as sent */
	assert_true(h.offset == 4096);
	assert_int_equal(h.count, 512);
	assert_true(nbd_request_has_payload(&h));
	raw[0] ^= 1;
	assert_int_equal(nbd_request_decode(raw, &h), -EPROTO);
}

static void test_read_write_ok(void **state)
{
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 4096), NBD_SUCCESS);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, SIZE - 512, 512), NBD_SUCCESS);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, NBD_MAX_PAYLOAD), NBD_SUCCESS);
}

static void test_out_of_range(void **state)
{
	assert_int_equal(check(NBD_CMD_READ, 0, SIZE, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, SIZE - 512, 1024), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, SIZE - 512, 1024), NBD_ENOSPC);
	/* an offset that would wrap around */
	assert_int_equal(check(NBD_CMD_READ, 0, UINT64_MAX - 511, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, UINT64_MAX - 511, 512), NBD_ENOSPC);
}

static void test_unaligned(void **state)
{
	x.min_block = 4096;
	assert_int_equal(check(NBD_CMD_READ, 0, 512, 4096), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 4096, 4097), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, 8192, 4096), NBD_SUCCESS);
}

static void test_zero_and_oversized(void **state)
{
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 0), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, 0), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, NBD_MAX_PAYLOAD + 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, NBD_MAX_PAYLOAD + 512), NBD_EINVAL);
}

static void test_read_only(void **state)
{
	x.eflags |= NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_TRIM;
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, 512), NBD_EPERM);
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, 512), NBD_EPERM);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 512), NBD_SUCCESS);
}

static void test_not_advertised(void **state)
{
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_CACHE, 0, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, 512), NBD_EINVAL); /* no context */
	assert_int_equal(check(NBD_CMD_RESIZE, 0, 0, 512), NBD_EINVAL);
	assert_int_equal(check(99, 0, 0, 512), NBD_EINVAL);
	x.eflags &= (uint16_t)~NBD_FLAG_SEND_FLUSH;
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 0, 0), NBD_EINVAL);
	x.eflags &= (uint16_t)~NBD_FLAG_SEND_FUA;
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512), NBD_EINVAL);
}

static void test_advertised(void **state)
{
	x.eflags |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES;
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, 1 << 20), NBD_SUCCESS);
	assert_int_equal(check(NBD_CMD_TRIM, NBD_CMD_FLAG_FUA, 0, 1 << 20), NBD_SUCCESS);
	assert_int_equal(
		check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FUA, 0, 1 << 20),
		NBD_SUCCESS);
	/* trim and zero are not limited by the payload maximum */
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, SIZE), NBD_SUCCESS);
	assert_int_equal(check(NBD_CMD_TRIM, 0, 512, SIZE), NBD_ENOSPC);
}

static void test_flags_per_command(void **state)
{
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_FUA, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_NO_HOLE, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_REQ_ONE, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FAST_ZERO, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0x8000, 0, 512), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_FLUSH, NBD_CMD_FLAG_FUA, 0, 0), NBD_EINVAL);
}

static void test_df_needs_structured(void **state)
{
	struct nbd_req_hdr h = {.type = NBD_CMD_READ, .flags = NBD_CMD_FLAG_DF, .count = 512};

	x.eflags |= NBD_FLAG_SEND_DF;
	assert_int_equal(nbd_request_check(&h, &x, false, false), NBD_EINVAL);
	assert_int_equal(nbd_request_check(&h, &x, true, false), NBD_SUCCESS);
}

static void test_flush_and_disc(void **state)
{
	/* their offset and length carry nothing */
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 0, 0), NBD_SUCCESS);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 123, 7), NBD_SUCCESS);
	assert_int_equal(check(NBD_CMD_DISC, 0, 0, 0), NBD_SUCCESS);
}

static void test_block_status_needs_context(void **state)
{
	struct nbd_req_hdr h = {.type = NBD_CMD_BLOCK_STATUS, .count = 1 << 20};

	assert_int_equal(nbd_request_check(&h, &x, false, false), NBD_EINVAL);
	assert_int_equal(nbd_request_check(&h, &x, true, false), NBD_EINVAL);
	assert_int_equal(nbd_request_check(&h, &x, false, true), NBD_EINVAL);
	assert_int_equal(nbd_request_check(&h, &x, true, true), NBD_SUCCESS);
	h.flags = NBD_CMD_FLAG_REQ_ONE;
	assert_int_equal(nbd_request_check(&h, &x, true, true), NBD_SUCCESS);
	h.flags = NBD_CMD_FLAG_FUA;
	assert_int_equal(nbd_request_check(&h, &x, true, true), NBD_EINVAL);
	/* not limited by the payload maximum; within the export */
	h.flags = 0;
	h.count = SIZE;
	assert_int_equal(nbd_request_check(&h, &x, true, true), NBD_SUCCESS);
	h.offset = 512;
	assert_int_equal(nbd_request_check(&h, &x, true, true), NBD_EINVAL);
	h.offset = 0;
	h.count = 0;
	assert_int_equal(nbd_request_check(&h, &x, true, true), NBD_EINVAL);
}

static void test_cache(void **state)
{
	assert_int_equal(check(NBD_CMD_CACHE, 0, 0, 4096), NBD_EINVAL); /* not offered */
	x.eflags |= NBD_FLAG_SEND_CACHE;
	assert_int_equal(check(NBD_CMD_CACHE, 0, 0, 4096), NBD_SUCCESS);
	assert_int_equal(check(NBD_CMD_CACHE, 0, SIZE - 512, 1024), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_CACHE, NBD_CMD_FLAG_FUA, 0, 4096), NBD_EINVAL);
	x.eflags |= NBD_FLAG_READ_ONLY; /* a read, as far as access goes */
	assert_int_equal(check(NBD_CMD_CACHE, 0, 0, 4096), NBD_SUCCESS);
}

static void test_fast_zero(void **state)
{
	x.eflags |= NBD_FLAG_SEND_WRITE_ZEROES;
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0, 4096), NBD_EINVAL);
	x.eflags |= NBD_FLAG_SEND_FAST_ZERO;
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0, 4096), NBD_SUCCESS);
	/* zeroes that must stay allocated are written: not fast */
	assert_int_equal(
		check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO | NBD_CMD_FLAG_NO_HOLE, 0, 4096),
		NBD_ENOTSUP);
	assert_int_equal(check(NBD_CMD_TRIM, NBD_CMD_FLAG_FAST_ZERO, 0, 4096), NBD_EINVAL);
}

/* A block status payload's descriptors, host order. */
static size_t decode_bs(const uint8_t *p, size_t len, uint32_t *ctx, uint32_t (*d)[2])
{
	uint32_t v;

	memcpy(&v, p, 4);
	*ctx = be32toh(v);
	for (size_t i = 0; 4 + 8 * i < len; i++) {
		memcpy(&v, p + 4 + 8 * i, 4);
		d[i][0] = be32toh(v);
		memcpy(&v, p + 8 + 8 * i, 4);
		d[i][1] = be32toh(v);
	}
	return (len - 4) / 8;
}

static void test_block_status_encode(void **state)
{
	const struct lb_extent ext[] = {
		{.length = 8192, .flags = 0},
		{.length = 4096, .flags = LB_EXTENT_HOLE | LB_EXTENT_ZERO},
		{.length = 4096, .flags = LB_EXTENT_HOLE | LB_EXTENT_ZERO},
		{.length = 1u << 20, .flags = LB_EXTENT_HOLE},
	};
	uint8_t out[4 + 8 * 4];
	uint32_t d[4][2], ctx;
	size_t len;

	len = nbd_block_status_encode(7, ext, 4, 1u << 30, false, out);
	/* the two holes that read zeroes are one descriptor */
	assert_int_equal(len, 4 + 8 * 3);
	assert_int_equal(decode_bs(out, len, &ctx, d), 3);
	assert_int_equal(ctx, 7);
	assert_int_equal(d[0][0], 8192);
	assert_int_equal(d[0][1], 0);
	assert_int_equal(d[1][0], 8192);
	assert_int_equal(d[1][1], NBD_STATE_HOLE | NBD_STATE_ZERO);
	assert_int_equal(d[2][0], 1u << 20);
	assert_int_equal(d[2][1], NBD_STATE_HOLE);

	/* clipped to the request: nothing past its end */
	len = nbd_block_status_encode(7, ext, 4, 12288, false, out);
	assert_int_equal(decode_bs(out, len, &ctx, d), 2);
	assert_int_equal(d[0][0], 8192);
	assert_int_equal(d[1][0], 4096);

	/* REQ_ONE: the first run only */
	len = nbd_block_status_encode(7, ext + 1, 3, 1u << 30, true, out);
	assert_int_equal(decode_bs(out, len, &ctx, d), 1);
	assert_int_equal(d[0][0], 8192);
	assert_int_equal(d[0][1], NBD_STATE_HOLE | NBD_STATE_ZERO);
	len = nbd_block_status_encode(7, ext, 4, 4096, true, out);
	assert_int_equal(decode_bs(out, len, &ctx, d), 1);
	assert_int_equal(d[0][0], 4096);
	assert_int_equal(d[0][1], 0);
}

static void test_names(void **state)
{
	assert_string_equal(nbd_cmd_name(NBD_CMD_WRITE_ZEROES), "WRITE_ZEROES");
	assert_string_equal(nbd_cmd_name(1000), "unknown");
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_decode),
		T(test_read_write_ok),
		T(test_out_of_range),
		T(test_unaligned),
		T(test_zero_and_oversized),
		T(test_read_only),
		T(test_not_advertised),
		T(test_advertised),
		T(test_flags_per_command),
		T(test_df_needs_structured),
		T(test_flush_and_disc),
		T(test_block_status_needs_context),
		T(test_cache),
		T(test_fast_zero),
		T(test_block_status_encode),
		T(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
