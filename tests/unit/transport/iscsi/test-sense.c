/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "sense.h"

static struct iscsi_sense fixed(uint8_t key, uint8_t asc, uint8_t ascq)
{
	uint8_t b[18] = {0x70, 0, key, 0, 0, 0, 0, 10};
	struct iscsi_sense s;

	b[12] = asc;
	b[13] = ascq;
	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	return s;
}

static int map(uint8_t key, uint8_t asc, uint8_t ascq, bool *retry)
{
	struct iscsi_sense s = fixed(key, asc, ascq);

	return iscsi_scsi_status_to_errno(ISCSI_SCSI_CHECK_CONDITION, &s, retry);
}

static void test_fixed_format(void **state)
{
	static const uint8_t b[18] = {0xf0, 0, 0x03, 0x00, 0x00, 0x12, 0x34,
				      10,   0, 0,    0,	   0,	 0x11, 0x00};
	struct iscsi_sense s;

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	assert_int_equal(s.response_code, 0x70);
	assert_int_equal(s.key, ISCSI_SENSE_MEDIUM_ERROR);
	assert_int_equal(s.asc, 0x11);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 0x1234);
	assert_false(s.deferred);
}

static void test_fixed_short_additional_length(void **state)
{
	/* ADDITIONAL LENGTH 4: ASC/ASCQ beyond it must not be read. */
	static const uint8_t b[18] = {0x70, 0, 0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0x24, 0x00};
	struct iscsi_sense s;

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	assert_int_equal(s.key, ISCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(s.asc, 0);
}

static void test_fixed_truncated_buffer(void **state)
{
	static const uint8_t b[3] = {0x71, 0, 0x06};
	struct iscsi_sense s;

	assert_int_equal(iscsi_sense_parse(b, 3, &s), 0);
	assert_true(s.deferred);
	assert_int_equal(s.key, ISCSI_SENSE_UNIT_ATTENTION);
	assert_int_equal(iscsi_sense_parse(b, 2, &s), -EINVAL);
}

static void test_descriptor_format(void **state)
{
	static const uint8_t b[20] = {0x72, 0x03, 0x11, 0x00, 0, 0, 0, 12, 0x00, 0x0a,
				      0x80, 0,	  0,	0,    0, 0, 0, 0,  0x10, 0x00};
	struct iscsi_sense s;

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	assert_int_equal(s.key, ISCSI_SENSE_MEDIUM_ERROR);
	assert_int_equal(s.asc, 0x11);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 0x1000);
}

static void test_descriptor_truncated_descriptor(void **state)
{
	/* The information descriptor claims 10 bytes but only 4 remain. */
	static const uint8_t b[14] = {0x72, 0x03, 0x11, 0x00, 0, 0, 0,
				      6,    0x00, 0x0a, 0x80, 0, 0, 0};
	struct iscsi_sense s;

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	assert_false(s.info_valid);
}

static void test_unknown_response_code(void **state)
{
	static const uint8_t b[18] = {0x7f};
	struct iscsi_sense s;

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), -EINVAL);
	assert_int_equal(iscsi_sense_parse(b, 0, &s), -EINVAL);
}

static void test_segment(void **state)
{
	static const uint8_t seg[6] = {0x00, 0x03, 0x70, 0x00, 0x05, 0xee};
	const uint8_t *sense;
	size_t len;

	assert_int_equal(iscsi_sense_from_segment(seg, sizeof(seg), &sense, &len), 0);
	assert_ptr_equal(sense, seg + 2);
	assert_int_equal(len, 3);
	assert_int_equal(iscsi_sense_from_segment(seg, 4, &sense, &len), -EPROTO);
	assert_int_equal(iscsi_sense_from_segment(seg, 1, &sense, &len), -EPROTO);
	assert_int_equal(iscsi_sense_from_segment(seg, 0, &sense, &len), 0);
	assert_null(sense);
}

static void test_status_good(void **state)
{
	bool retry = true;

	assert_int_equal(iscsi_scsi_status_to_errno(ISCSI_SCSI_GOOD, NULL, &retry), 0);
	assert_false(retry);
}

static void test_status_busy_retryable(void **state)
{
	bool retry;

	/* the error that ends it if the command's lifetime runs out */
	assert_int_equal(iscsi_scsi_status_to_errno(ISCSI_SCSI_BUSY, NULL, &retry), -EIO);
	assert_true(retry);
	assert_int_equal(iscsi_scsi_status_to_errno(ISCSI_SCSI_TASK_SET_FULL, NULL, &retry), -EIO);
	assert_true(retry);
}

static void test_status_reservation_conflict(void **state)
{
	bool retry;

	assert_int_equal(iscsi_scsi_status_to_errno(ISCSI_SCSI_RESERVATION_CONFLICT, NULL, &retry),
			 -EBADE);
	assert_false(retry);
}

static void test_check_condition_without_sense(void **state)
{
	assert_int_equal(iscsi_scsi_status_to_errno(ISCSI_SCSI_CHECK_CONDITION, NULL, NULL), -EIO);
}

static void test_not_ready(void **state)
{
	bool retry;

	assert_int_equal(map(ISCSI_SENSE_NOT_READY, 0x04, 0x01, &retry), -EIO);
	assert_true(retry);
	assert_int_equal(map(ISCSI_SENSE_NOT_READY, 0x04, 0x03, &retry), -EIO);
	assert_false(retry);
	assert_int_equal(map(ISCSI_SENSE_NOT_READY, 0x3a, 0x00, &retry), -ENOMEDIUM);
}

static void test_medium_error(void **state)
{
	bool retry;

	assert_int_equal(map(ISCSI_SENSE_MEDIUM_ERROR, 0x11, 0x00, &retry), -EIO);
	assert_false(retry);
}

static void test_illegal_request(void **state)
{
	bool retry;

	assert_int_equal(map(ISCSI_SENSE_ILLEGAL_REQUEST, 0x21, 0x00, &retry), -EINVAL);
	assert_int_equal(map(ISCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00, &retry), -EINVAL);
	assert_int_equal(map(ISCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0x00, &retry), -EOPNOTSUPP);
}

static void test_data_protect(void **state)
{
	bool retry;

	assert_int_equal(map(ISCSI_SENSE_DATA_PROTECT, 0x27, 0x00, &retry), -EROFS);
	assert_int_equal(map(ISCSI_SENSE_DATA_PROTECT, 0x27, 0x07, &retry), -ENOSPC);
	assert_int_equal(map(ISCSI_SENSE_DATA_PROTECT, 0x74, 0x71, &retry), -EPERM);
}

static void test_unit_attention_retryable(void **state)
{
	bool retry;

	assert_int_equal(map(ISCSI_SENSE_UNIT_ATTENTION, 0x29, 0x00, &retry), -EIO);
	assert_true(retry);
}

static void test_recovered_error_is_success(void **state)
{
	bool retry;

	assert_int_equal(map(ISCSI_SENSE_RECOVERED_ERROR, 0x00, 0x00, &retry), 0);
}

static void test_aborted_command(void **state)
{
	bool retry;

	assert_int_equal(map(ISCSI_SENSE_ABORTED_COMMAND, 0x47, 0x00, &retry), -EIO);
	assert_true(retry);
	assert_int_equal(map(ISCSI_SENSE_ABORTED_COMMAND, 0x10, 0x01, &retry), -EILSEQ);
	assert_false(retry);
}

static void test_deferred_error_retryable(void **state)
{
	/* 0x71: an earlier command's error; this one was not executed */
	static const uint8_t b[18] = {0xf1, 0, 0x03, 0, 0, 0x10, 0x00, 10, 0, 0, 0, 0, 0x0c, 0x00};
	struct iscsi_sense s;
	bool retry = false;

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	assert_true(s.deferred);
	assert_int_equal(iscsi_scsi_status_to_errno(ISCSI_SCSI_CHECK_CONDITION, &s, &retry), -EIO);
	assert_true(retry);
}

static void test_describe_deferred(void **state)
{
	static const uint8_t b[18] = {0xf1, 0, 0x03, 0, 0, 0x10, 0x00, 10, 0, 0, 0, 0, 0x0c, 0x00};
	struct iscsi_sense s;
	char buf[128];

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	iscsi_sense_describe(&s, buf, sizeof(buf));
	assert_string_equal(buf, "deferred error: MEDIUM ERROR: write error (asc 0x0c ascq 0x00, "
				 "lba 4096)");
}

static void test_describe_descriptor_lba(void **state)
{
	/* descriptor format: the Information descriptor's 64-bit LBA */
	static const uint8_t b[20] = {0x72, 0x03, 0x11, 0x00, 0, 0,    0, 12, 0x00, 0x0a,
				      0x80, 0,	  0,	0,    0, 0x01, 0, 0,  0,    0x02};
	struct iscsi_sense s;
	char buf[128];

	assert_int_equal(iscsi_sense_parse(b, sizeof(b), &s), 0);
	iscsi_sense_describe(&s, buf, sizeof(buf));
	assert_string_equal(buf, "MEDIUM ERROR: unrecovered read error (asc 0x11 ascq 0x00, "
				 "lba 4294967298)");
}

static void test_describe_no_lba_when_invalid(void **state)
{
	struct iscsi_sense s = fixed(ISCSI_SENSE_NOT_READY, 0x04, 0x0a);
	char buf[128];

	iscsi_sense_describe(&s, buf, sizeof(buf));
	assert_string_equal(buf, "NOT READY: logical unit not accessible, asymmetric access state "
				 "transition (asc 0x04 ascq 0x0a)");
}

/* Every ASC/ASCQ the retry table (retry.c) names has words. */
static void test_asc_names_of_the_retry_table(void **state)
{
	static const uint8_t pairs[][2] = {
		{0x04, 0x01}, {0x04, 0x04}, {0x04, 0x05}, {0x04, 0x06}, {0x04, 0x07}, {0x04, 0x08},
		{0x04, 0x09}, {0x04, 0x0a}, {0x04, 0x0b}, {0x04, 0x0c}, {0x04, 0x11}, {0x04, 0x14},
		{0x04, 0x1a}, {0x04, 0x1b}, {0x04, 0x1d}, {0x04, 0x24}, {0x04, 0x25}, {0x3a, 0x00},
		{0x10, 0x01}, {0x20, 0x00}, {0x21, 0x00}, {0x24, 0x00}, {0x25, 0x00}, {0x27, 0x00},
		{0x29, 0x00}, {0x2a, 0x01}, {0x2a, 0x06}, {0x2a, 0x07}, {0x2a, 0x09}, {0x38, 0x07},
		{0x3f, 0x03}, {0x3f, 0x0e}, {0x27, 0x07},
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		assert_non_null(iscsi_sense_asc_name(pairs[i][0], pairs[i][1]));
	assert_string_equal(iscsi_sense_asc_name(0x2a, 0x09), "capacity data has changed");
	assert_string_equal(iscsi_sense_asc_name(0x04, 0x0b),
			    "logical unit not accessible, target port in standby state");
	assert_string_equal(iscsi_sense_asc_name(0x29, 0x07), "i_t nexus loss occurred");
	assert_string_equal(iscsi_sense_asc_name(0x29, 0x42),
			    "power on, reset, or bus device reset occurred");
}

static void test_cdb_names(void **state)
{
	assert_string_equal(iscsi_scsi_cdb_name(0x88), "READ(16)");
	assert_string_equal(iscsi_scsi_cdb_name(0x8a), "WRITE(16)");
	assert_string_equal(iscsi_scsi_cdb_name(0x28), "READ(10)");
	assert_string_equal(iscsi_scsi_cdb_name(0x2a), "WRITE(10)");
	assert_string_equal(iscsi_scsi_cdb_name(0x35), "SYNCHRONIZE CACHE(10)");
	assert_string_equal(iscsi_scsi_cdb_name(0x93), "WRITE SAME(16)");
	assert_string_equal(iscsi_scsi_cdb_name(0x42), "UNMAP");
	assert_string_equal(iscsi_scsi_cdb_name(0x5a), "MODE SENSE(10)");
	assert_string_equal(iscsi_scsi_cdb_name(0x1a), "MODE SENSE(6)");
	assert_string_equal(iscsi_scsi_cdb_name(0xa0), "REPORT LUNS");
	assert_string_equal(iscsi_scsi_cdb_name(0xff), "unknown command");
}

static void test_describe(void **state)
{
	struct iscsi_sense s = fixed(ISCSI_SENSE_MEDIUM_ERROR, 0x11, 0x00);
	char buf[128];

	s.info_valid = true;
	s.info = 1234;
	iscsi_sense_describe(&s, buf, sizeof(buf));
	assert_string_equal(buf,
			    "MEDIUM ERROR: unrecovered read error (asc 0x11 ascq 0x00, lba 1234)");
}

static void test_describe_unknown_asc(void **state)
{
	struct iscsi_sense s = fixed(ISCSI_SENSE_HARDWARE_ERROR, 0x99, 0x01);
	char buf[16];

	iscsi_sense_describe(&s, buf, sizeof(buf)); /* truncates safely */
	assert_string_equal(buf, "HARDWARE ERROR:");
}

static void test_names(void **state)
{
	assert_string_equal(iscsi_scsi_status_name(ISCSI_SCSI_CHECK_CONDITION), "CHECK CONDITION");
	assert_string_equal(iscsi_sense_key_name(ISCSI_SENSE_DATA_PROTECT), "DATA PROTECT");
	assert_null(iscsi_sense_asc_name(0x99, 0));
	assert_string_equal(iscsi_sense_asc_name(0x04, 0x77), "logical unit not ready");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_format),
		cmocka_unit_test(test_fixed_short_additional_length),
		cmocka_unit_test(test_fixed_truncated_buffer),
		cmocka_unit_test(test_descriptor_format),
		cmocka_unit_test(test_descriptor_truncated_descriptor),
		cmocka_unit_test(test_unknown_response_code),
		cmocka_unit_test(test_segment),
		cmocka_unit_test(test_status_good),
		cmocka_unit_test(test_status_busy_retryable),
		cmocka_unit_test(test_status_reservation_conflict),
		cmocka_unit_test(test_check_condition_without_sense),
		cmocka_unit_test(test_not_ready),
		cmocka_unit_test(test_medium_error),
		cmocka_unit_test(test_illegal_request),
		cmocka_unit_test(test_data_protect),
		cmocka_unit_test(test_unit_attention_retryable),
		cmocka_unit_test(test_recovered_error_is_success),
		cmocka_unit_test(test_aborted_command),
		cmocka_unit_test(test_deferred_error_retryable),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_describe_deferred),
		cmocka_unit_test(test_describe_descriptor_lba),
		cmocka_unit_test(test_describe_no_lba_when_invalid),
		cmocka_unit_test(test_asc_names_of_the_retry_table),
		cmocka_unit_test(test_cdb_names),
		cmocka_unit_test(test_describe_unknown_asc),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
