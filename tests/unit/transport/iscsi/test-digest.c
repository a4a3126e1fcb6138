/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CRC32C test vectors from RFC 3720 appendix B.4 (bytes as on the wire). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "digest.h"

static void assert_wire(uint32_t crc, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	uint8_t w[4];

	iscsi_digest_put(w, crc);
	assert_int_equal(w[0], b0);
	assert_int_equal(w[1], b1);
	assert_int_equal(w[2], b2);
	assert_int_equal(w[3], b3);
}

static void test_zeros(void **state)
{
	uint8_t buf[32] = {0};

	assert_int_equal(iscsi_crc32c(buf, sizeof(buf)), 0x8a9136aa);
	assert_wire(iscsi_crc32c(buf, sizeof(buf)), 0xaa, 0x36, 0x91, 0x8a);
}

static void test_ones(void **state)
{
	uint8_t buf[32];

	memset(buf, 0xff, sizeof(buf));
	assert_wire(iscsi_crc32c(buf, sizeof(buf)), 0x43, 0xab, 0xa8, 0x62);
}

static void test_incrementing(void **state)
{
	uint8_t buf[32];

	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_wire(iscsi_crc32c(buf, sizeof(buf)), 0x4e, 0x79, 0xdd, 0x46);
}

static void test_decrementing(void **state)
{
	uint8_t buf[32];

	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_wire(iscsi_crc32c(buf, sizeof(buf)), 0x5c, 0xdb, 0x3f, 0x11);
}

static void test_scsi_read_pdu(void **state)
{
	/* The iSCSI Read (10) command PDU of B.4. */
	static const uint8_t pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	assert_wire(iscsi_crc32c(pdu, sizeof(pdu)), 0x56, 0x3a, 0x96, 0xd9);
}

static void test_empty(void **state)
{
	assert_int_equal(iscsi_crc32c("", 0), 0);
}

static void test_incremental_equals_oneshot(void **state)
{
	uint8_t buf[100];
	uint32_t crc = ISCSI_CRC32C_INIT;

	for (int i = 0; i < 100; i++)
		buf[i] = (uint8_t)(i * 7);
	crc = iscsi_crc32c_update(crc, buf, 13);
	crc = iscsi_crc32c_update(crc, buf + 13, 87);
	assert_int_equal(iscsi_crc32c_final(crc), iscsi_crc32c(buf, sizeof(buf)));
}

static void test_iov(void **state)
{
	uint8_t buf[32] = {0};
	struct iovec iov[3] = {
		{.iov_base = buf, .iov_len = 5},
		{.iov_base = buf + 5, .iov_len = 0},
		{.iov_base = buf + 5, .iov_len = 27},
	};

	assert_int_equal(iscsi_crc32c_final(iscsi_crc32c_update_iov(ISCSI_CRC32C_INIT, iov, 3)),
			 0x8a9136aa);
}

static void test_digest_get_put(void **state)
{
	uint8_t w[4];

	iscsi_digest_put(w, 0x11223344);
	assert_int_equal(iscsi_digest_get(w), 0x11223344);
	assert_int_equal(w[0], 0x44);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zeros),
		cmocka_unit_test(test_ones),
		cmocka_unit_test(test_incrementing),
		cmocka_unit_test(test_decrementing),
		cmocka_unit_test(test_scsi_read_pdu),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_incremental_equals_oneshot),
		cmocka_unit_test(test_iov),
		cmocka_unit_test(test_digest_get_put),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
