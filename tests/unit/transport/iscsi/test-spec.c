/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "iscsi-spec.h"

/* Field offsets from the RFC 7143 §11 figures. */
static void test_scsi_cmd_offsets(void **state)
{
	assert_int_equal(offsetof(struct iscsi_scsi_cmd_hdr, lun), 8);
	assert_int_equal(offsetof(struct iscsi_scsi_cmd_hdr, itt), 16);
	assert_int_equal(offsetof(struct iscsi_scsi_cmd_hdr, exp_data_len), 20);
	assert_int_equal(offsetof(struct iscsi_scsi_cmd_hdr, cmdsn), 24);
	assert_int_equal(offsetof(struct iscsi_scsi_cmd_hdr, exp_statsn), 28);
	assert_int_equal(offsetof(struct iscsi_scsi_cmd_hdr, cdb), 32);
}

static void test_scsi_rsp_offsets(void **state)
{
	assert_int_equal(offsetof(struct iscsi_scsi_rsp_hdr, status), 3);
	assert_int_equal(offsetof(struct iscsi_scsi_rsp_hdr, statsn), 24);
	assert_int_equal(offsetof(struct iscsi_scsi_rsp_hdr, exp_datasn), 36);
	assert_int_equal(offsetof(struct iscsi_scsi_rsp_hdr, residual), 44);
}

static void test_data_in_r2t_offsets(void **state)
{
	assert_int_equal(offsetof(struct iscsi_data_in_hdr, ttt), 20);
	assert_int_equal(offsetof(struct iscsi_data_in_hdr, datasn), 36);
	assert_int_equal(offsetof(struct iscsi_data_in_hdr, buffer_offset), 40);
	assert_int_equal(offsetof(struct iscsi_r2t_hdr, r2tsn), 36);
	assert_int_equal(offsetof(struct iscsi_r2t_hdr, desired_len), 44);
	assert_int_equal(offsetof(struct iscsi_data_out_hdr, datasn), 36);
}

static void test_login_offsets(void **state)
{
	assert_int_equal(offsetof(struct iscsi_login_req_hdr, isid), 8);
	assert_int_equal(offsetof(struct iscsi_login_req_hdr, tsih), 14);
	assert_int_equal(offsetof(struct iscsi_login_req_hdr, cid), 20);
	assert_int_equal(offsetof(struct iscsi_login_rsp_hdr, status_class), 36);
	assert_int_equal(offsetof(struct iscsi_login_rsp_hdr, status_detail), 37);
}

static void test_misc_offsets(void **state)
{
	assert_int_equal(offsetof(struct iscsi_async_hdr, async_event), 36);
	assert_int_equal(offsetof(struct iscsi_async_hdr, param3), 42);
	assert_int_equal(offsetof(struct iscsi_logout_rsp_hdr, time2wait), 40);
	assert_int_equal(offsetof(struct iscsi_logout_rsp_hdr, time2retain), 42);
	assert_int_equal(offsetof(struct iscsi_tmf_req_hdr, ref_cmdsn), 32);
	assert_int_equal(offsetof(struct iscsi_reject_hdr, datasn), 36);
	assert_int_equal(offsetof(struct iscsi_snack_hdr, begrun), 36);
}

static void test_be_helpers(void **state)
{
	uint8_t b[8];

	iscsi_put_be24(b, 0x123456);
	assert_int_equal(b[0], 0x12);
	assert_int_equal(b[2], 0x56);
	assert_int_equal(iscsi_get_be24(b), 0x123456);
	iscsi_put_be64(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[7], 8);
	assert_true(iscsi_get_be64(b) == 0x0102030405060708ull);
	iscsi_put_be16(b, 0xbeef);
	assert_int_equal(iscsi_get_be16(b), 0xbeef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scsi_cmd_offsets),    cmocka_unit_test(test_scsi_rsp_offsets),
		cmocka_unit_test(test_data_in_r2t_offsets), cmocka_unit_test(test_login_offsets),
		cmocka_unit_test(test_misc_offsets),	    cmocka_unit_test(test_be_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
