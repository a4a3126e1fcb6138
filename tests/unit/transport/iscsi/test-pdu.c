/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "digest.h"
#include "pdu.h"

static uint8_t wire[ISCSI_BHS_LEN + ISCSI_AHS_MAX_LEN + 8 + 9000];

static struct iscsi_pdu_limits limits(bool hd, bool dd)
{
	struct iscsi_pdu_limits l;

	iscsi_pdu_limits_init(&l);
	l.header_digest = hd;
	l.data_digest = dd;
	return l;
}

/* A NOP-In with the given data, framed as a target would send it. */
static size_t make_nop_in(const void *data, size_t len, const struct iscsi_pdu_limits *l)
{
	union iscsi_hdr h;
	ssize_t n;

	iscsi_hdr_init(&h, ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL);
	h.nop_in.itt = htobe32(0x1234);
	h.nop_in.ttt = htobe32(ISCSI_RESERVED_TAG);
	h.nop_in.statsn = htobe32(7);
	n = iscsi_pdu_encode_buf(&h, NULL, 0, data, len, l, wire, sizeof(wire), NULL);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_roundtrip_no_data(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in(NULL, 0, &l);

	assert_int_equal(n, 48);
	assert_int_equal(iscsi_pdu_parse(wire, n, &l, &v, NULL), 48);
	assert_int_equal(v.opcode, ISCSI_OP_NOP_IN);
	assert_int_equal(iscsi_hdr_itt(&v.hdr), 0x1234);
	assert_int_equal(be32toh(v.hdr.nop_in.statsn), 7);
	assert_int_equal(v.data_len, 0);
	assert_null(v.data);
}

static void test_roundtrip_padding(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in("hello", 5, &l);

	assert_int_equal(n, 48 + 5 + 3);
	assert_int_equal(iscsi_get_be24(wire + 5), 5);
	assert_int_equal(wire[53] | wire[54] | wire[55], 0);
	assert_int_equal(iscsi_pdu_parse(wire, n, &l, &v, NULL), (ssize_t)n);
	assert_int_equal(v.data_len, 5);
	assert_memory_equal(v.data, "hello", 5);
}

static void test_roundtrip_digests(void **state)
{
	struct iscsi_pdu_limits l = limits(true, true);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in("ping!!", 6, &l);

	assert_int_equal(n, 48 + 4 + 6 + 2 + 4);
	assert_int_equal(iscsi_digest_get(wire + 48), iscsi_crc32c(wire, 48));
	assert_int_equal(iscsi_digest_get(wire + 60), iscsi_crc32c(wire + 52, 8));
	assert_int_equal(iscsi_pdu_parse(wire, n, &l, &v, NULL), (ssize_t)n);
	assert_memory_equal(v.data, "ping!!", 6);
}

static void test_no_data_digest_without_data(void **state)
{
	struct iscsi_pdu_limits l = limits(false, true);

	assert_int_equal(make_nop_in(NULL, 0, &l), 48);
}

static void test_roundtrip_ahs(void **state)
{
	struct iscsi_pdu_limits l = limits(true, false);
	/* Bidirectional read length AHS: AHSLength 5, type 2, reserved, 4 bytes. */
	static const uint8_t ahs[8] = {0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x10, 0x00};
	union iscsi_hdr h;
	struct iscsi_pdu_view v;
	struct iscsi_ahs a;
	size_t pos = 0;
	ssize_t n;

	iscsi_hdr_init(&h, ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL);
	n = iscsi_pdu_encode_buf(&h, ahs, sizeof(ahs), NULL, 0, &l, wire, sizeof(wire), NULL);
	assert_int_equal(n, 48 + 8 + 4);
	assert_int_equal(wire[4], 2);
	assert_int_equal(iscsi_pdu_parse(wire, (size_t)n, &l, &v, NULL), n);
	assert_int_equal(v.ahs_len, 8);
	assert_int_equal(iscsi_ahs_next(v.ahs, v.ahs_len, &pos, &a), 1);
	assert_int_equal(a.type, ISCSI_AHS_BIDI_READ_LENGTH);
	assert_int_equal(a.len, 5);
	assert_int_equal(iscsi_get_be32(a.data + 1), 0x1000);
	assert_int_equal(iscsi_ahs_next(v.ahs, v.ahs_len, &pos, &a), 0);
}

static void test_parse_short_bhs(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_view v;

	make_nop_in(NULL, 0, &l);
	assert_int_equal(iscsi_pdu_parse(wire, 47, &l, &v, NULL), -EAGAIN);
}

static void test_parse_short_data(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in("abcd", 4, &l);

	assert_int_equal(iscsi_pdu_parse(wire, n - 1, &l, &v, NULL), -EAGAIN);
}

static void test_parse_two_pdus(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in("abc", 3, &l);

	memcpy(wire + n, wire, n);
	assert_int_equal(iscsi_pdu_parse(wire, 2 * n, &l, &v, NULL), (ssize_t)n);
}

static void test_rejects_initiator_opcode(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_view v;
	lb_err err = {0};

	make_nop_in(NULL, 0, &l);
	wire[0] = ISCSI_OP_SCSI_CMD;
	assert_int_equal(iscsi_pdu_parse(wire, 48, &l, &v, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "0x01"));
}

static void test_rejects_unknown_opcode(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_view v;

	make_nop_in(NULL, 0, &l);
	wire[0] = 0x3e;
	assert_int_equal(iscsi_pdu_parse(wire, 48, &l, &v, NULL), -EPROTO);
}

static void test_rejects_dsl_over_max(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_rx rx;

	make_nop_in(NULL, 0, &l);
	iscsi_put_be24(wire + 5, 8193);
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), -EMSGSIZE);
	l.max_recv_dsl = 8193;
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), 0);
}

static void test_rejects_r2t_with_data(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_rx rx;

	make_nop_in(NULL, 0, &l);
	wire[0] = ISCSI_OP_R2T;
	iscsi_put_be24(wire + 5, 4);
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), -EPROTO);
}

static void test_rejects_short_reject(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_rx rx;

	make_nop_in(NULL, 0, &l);
	wire[0] = ISCSI_OP_REJECT;
	iscsi_put_be24(wire + 5, 47);
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), -EPROTO);
	iscsi_put_be24(wire + 5, 48);
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), 0);
}

static void test_rejects_scsi_rsp_one_byte(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_rx rx;

	make_nop_in(NULL, 0, &l);
	wire[0] = ISCSI_OP_SCSI_RSP;
	iscsi_put_be24(wire + 5, 1);
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), -EPROTO);
}

static void test_header_digest_mismatch(void **state)
{
	struct iscsi_pdu_limits l = limits(true, false);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in(NULL, 0, &l);

	wire[20] ^= 1; /* TTT */
	assert_int_equal(iscsi_pdu_parse(wire, n, &l, &v, NULL), -EBADMSG);
}

static void test_data_digest_mismatch(void **state)
{
	struct iscsi_pdu_limits l = limits(false, true);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in("abcdefgh", 8, &l);

	wire[50] ^= 0x80;
	assert_int_equal(iscsi_pdu_parse(wire, n, &l, &v, NULL), -EBADMSG);
}

static void test_data_digest_covers_padding(void **state)
{
	struct iscsi_pdu_limits l = limits(false, true);
	struct iscsi_pdu_view v;
	size_t n = make_nop_in("a", 1, &l);

	wire[49] = 0xff; /* a padding byte */
	assert_int_equal(iscsi_pdu_parse(wire, n, &l, &v, NULL), -EBADMSG);
}

static void test_malformed_ahs(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	static const uint8_t ahs[4] = {0x00, 0x09, 0x01, 0x00}; /* claims 12 bytes */
	union iscsi_hdr h;
	struct iscsi_pdu_view v;
	ssize_t n;

	iscsi_hdr_init(&h, ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL);
	n = iscsi_pdu_encode_buf(&h, ahs, sizeof(ahs), NULL, 0, &l, wire, sizeof(wire), NULL);
	assert_int_equal(n, 52);
	assert_int_equal(iscsi_pdu_parse(wire, (size_t)n, &l, &v, NULL), -EPROTO);
}

static void test_rx_steps_lengths(void **state)
{
	struct iscsi_pdu_limits l = limits(true, true);
	struct iscsi_pdu_rx rx;

	make_nop_in("xyz", 3, &l);
	wire[4] = 2; /* pretend 8 bytes of AHS */
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), 0);
	assert_int_equal(iscsi_pdu_rx_header_rest(&rx), 8 + 4);
	assert_int_equal(iscsi_pdu_rx_data_rest(&rx), 3 + 1 + 4);
}

static void test_rx_check_wrong_length(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	struct iscsi_pdu_rx rx;

	make_nop_in("xyz", 3, &l);
	assert_int_equal(iscsi_pdu_rx_begin(wire, &l, &rx, NULL), 0);
	assert_int_equal(iscsi_pdu_rx_check_data(&rx, wire + 48, 3, NULL), -EINVAL);
	assert_int_equal(iscsi_pdu_rx_check_data(&rx, wire + 48, 4, NULL), 0);
}

static void test_encode_over_send_limit(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	union iscsi_hdr h;
	static uint8_t big[8193];
	struct iscsi_pdu_tx tx;
	struct iovec iov = {.iov_base = big, .iov_len = sizeof(big)};

	iscsi_hdr_init(&h, ISCSI_OP_DATA_OUT, ISCSI_FLAG_FINAL);
	assert_int_equal(iscsi_pdu_encode(&h, NULL, 0, &iov, 1, &l, &tx, NULL), -EMSGSIZE);
}

static void test_encode_bad_ahs_len(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	union iscsi_hdr h;
	struct iscsi_pdu_tx tx;
	uint8_t ahs[6] = {0};

	iscsi_hdr_init(&h, ISCSI_OP_SCSI_CMD, ISCSI_FLAG_FINAL);
	assert_int_equal(iscsi_pdu_encode(&h, ahs, 6, NULL, 0, &l, &tx, NULL), -EINVAL);
}

static void test_encode_iov_framing(void **state)
{
	struct iscsi_pdu_limits l = limits(true, true);
	union iscsi_hdr h;
	struct iscsi_pdu_tx tx;
	uint8_t flat[7] = {1, 2, 3, 4, 5, 6, 7}, padded[8] = {1, 2, 3, 4, 5, 6, 7, 0};
	struct iovec iov[2] = {{.iov_base = flat, .iov_len = 3},
			       {.iov_base = flat + 3, .iov_len = 4}};

	iscsi_hdr_init(&h, ISCSI_OP_DATA_OUT | 0, ISCSI_FLAG_FINAL);
	assert_int_equal(iscsi_pdu_encode(&h, NULL, 0, iov, 2, &l, &tx, NULL), 0);
	assert_int_equal(tx.hdr_len, 52);
	assert_int_equal(iscsi_get_be24(tx.hdr + 5), 7);
	assert_int_equal(tx.trailer_len, 1 + 4);
	assert_int_equal(tx.trailer[0], 0);
	assert_int_equal(iscsi_digest_get(tx.trailer + 1), iscsi_crc32c(padded, 8));
}

static void test_encode_buf_too_small(void **state)
{
	struct iscsi_pdu_limits l = limits(false, false);
	union iscsi_hdr h;
	uint8_t small[50];

	iscsi_hdr_init(&h, ISCSI_OP_LOGIN_REQ | ISCSI_OP_IMMEDIATE, 0);
	assert_int_equal(
		iscsi_pdu_encode_buf(&h, NULL, 0, "abc", 3, &l, small, sizeof(small), NULL),
		-ENOBUFS);
}

static void test_opcode_names(void **state)
{
	assert_string_equal(iscsi_opcode_name(ISCSI_OP_R2T), "Ready To Transfer");
	assert_string_equal(iscsi_opcode_name(0x3e), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_no_data),
		cmocka_unit_test(test_roundtrip_padding),
		cmocka_unit_test(test_roundtrip_digests),
		cmocka_unit_test(test_no_data_digest_without_data),
		cmocka_unit_test(test_roundtrip_ahs),
		cmocka_unit_test(test_parse_short_bhs),
		cmocka_unit_test(test_parse_short_data),
		cmocka_unit_test(test_parse_two_pdus),
		cmocka_unit_test(test_rejects_initiator_opcode),
		cmocka_unit_test(test_rejects_unknown_opcode),
		cmocka_unit_test(test_rejects_dsl_over_max),
		cmocka_unit_test(test_rejects_r2t_with_data),
		cmocka_unit_test(test_rejects_short_reject),
		cmocka_unit_test(test_rejects_scsi_rsp_one_byte),
		cmocka_unit_test(test_header_digest_mismatch),
		cmocka_unit_test(test_data_digest_mismatch),
		cmocka_unit_test(test_data_digest_covers_padding),
		cmocka_unit_test(test_malformed_ahs),
		cmocka_unit_test(test_rx_steps_lengths),
		cmocka_unit_test(test_rx_check_wrong_length),
		cmocka_unit_test(test_encode_over_send_limit),
		cmocka_unit_test(test_encode_bad_ahs_len),
		cmocka_unit_test(test_encode_iov_framing),
		cmocka_unit_test(test_encode_buf_too_small),
		cmocka_unit_test(test_opcode_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
