/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "alua.h"

static void test_tpgs(void **state)
{
	uint8_t inq[36] = {0, 0, 6, 2, 31, 0x10};

	(void)state;
	assert_int_equal(scsi_inquiry_tpgs(inq, sizeof(inq)), SCSI_TPGS_IMPLICIT);
	inq[5] = 0x30;
	assert_int_equal(scsi_inquiry_tpgs(inq, sizeof(inq)), 3);
	inq[5] = 0x08; /* 3PC, no TPGS */
	assert_int_equal(scsi_inquiry_tpgs(inq, sizeof(inq)), SCSI_TPGS_NONE);
	assert_int_equal(scsi_inquiry_tpgs(inq, 5), -EBADMSG);
}

/* LIO's page: NAA (LU), relative port 2, port group 1, SCSI name. */
static const uint8_t vpd83[] = {
	0x00, 0x83, 0x00, 0x30, 0x01, 0x03, 0x00, 0x10, 0x60, 0x01, 0x40, 0x50,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x61, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, /* rel port 2 */
	0x61, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, /* port group 1 */
	0x53, 0xa8, 0x00, 0x08, 'i',  'q',  'n',  '.',	'x',  0,    0,	  0,
};

static void test_vpd_port(void **state)
{
	struct scsi_alua_port p;

	(void)state;
	assert_int_equal(scsi_vpd_alua_port_parse(vpd83, sizeof(vpd83), &p), 0);
	assert_true(p.has_rel_port);
	assert_int_equal(p.rel_port, 2);
	assert_true(p.has_group);
	assert_int_equal(p.group, 1);
}

static void test_vpd_port_none(void **state)
{
	struct scsi_alua_port p;

	(void)state;
	/* only the LU's NAA: no port, no group */
	assert_int_equal(scsi_vpd_alua_port_parse(vpd83, 24, &p), 0);
	assert_false(p.has_rel_port);
	assert_false(p.has_group);
}

static void test_vpd_port_malformed(void **state)
{
	uint8_t b[sizeof(vpd83)];
	struct scsi_alua_port p = {.rel_port = 77};

	(void)state;
	memcpy(b, vpd83, sizeof(b));
	b[27] = 0xf0; /* the port designator claims 240 bytes */
	assert_int_equal(scsi_vpd_alua_port_parse(b, sizeof(b), &p), -EBADMSG);
	assert_int_equal(p.rel_port, 77); /* untouched on failure */
	b[1] = 0x80;
	assert_int_equal(scsi_vpd_alua_port_parse(b, sizeof(b), &p), -EBADMSG);
	assert_int_equal(scsi_vpd_alua_port_parse(b, 3, &p), -EBADMSG);
}

/* Two groups: 1 optimized and preferred (port 1), 2 standby (ports 2, 3). */
static const uint8_t rtpg[] = {
	0x00, 0x00, 0x00, 0x1c, 0x80, 0x8f, 0x00, 0x01, 0x00, 0x02, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x8f, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
};

static void test_rtpg(void **state)
{
	struct scsi_alua_group g[4];
	size_t n, need;

	(void)state;
	assert_int_equal(scsi_rtpg_parse(rtpg, sizeof(rtpg), g, 4, &n, &need), 0);
	assert_int_equal(n, 2);
	assert_int_equal(need, sizeof(rtpg));
	assert_int_equal(g[0].id, 1);
	assert_int_equal(g[0].state, SCSI_ALUA_OPTIMIZED);
	assert_true(g[0].preferred);
	assert_int_equal(g[0].status, 2);
	assert_int_equal(g[1].state, SCSI_ALUA_STANDBY);
	assert_int_equal(g[1].n_ports, 2);
	assert_ptr_equal(scsi_alua_group_of_port(g, n, 3), &g[1]);
	assert_ptr_equal(scsi_alua_group_of_port(g, n, 1), &g[0]);
	assert_null(scsi_alua_group_of_port(g, n, 9));
	assert_ptr_equal(scsi_alua_group_find(g, n, 2), &g[1]);
	assert_string_equal(scsi_alua_state_name(g[1].state), "standby");
	assert_false(scsi_alua_state_active(g[1].state));
	assert_true(scsi_alua_state_active(g[0].state));
}

static void test_rtpg_extended_header(void **state)
{
	uint8_t b[8 + sizeof(rtpg) - 4] = {0x00, 0x00, 0x00, 0x20, 0x10, 60};
	struct scsi_alua_group g[4];
	size_t n, need;

	(void)state;
	memcpy(b + 8, rtpg + 4, sizeof(rtpg) - 4);
	assert_int_equal(scsi_rtpg_parse(b, sizeof(b), g, 4, &n, &need), 0);
	assert_int_equal(n, 2);
	assert_int_equal(g[1].id, 2);
}

static void test_rtpg_cut(void **state)
{
	struct scsi_alua_group g[4];
	size_t n, need;

	(void)state;
	/* cut by the allocation length: what fits, and how much to ask */
	assert_int_equal(scsi_rtpg_parse(rtpg, 20, g, 4, &n, &need), 0);
	assert_int_equal(n, 1);
	assert_int_equal(need, sizeof(rtpg));
	/* cap smaller than the groups */
	assert_int_equal(scsi_rtpg_parse(rtpg, sizeof(rtpg), g, 1, &n, &need), 0);
	assert_int_equal(n, 1);
}

static void test_rtpg_malformed(void **state)
{
	uint8_t b[sizeof(rtpg)];
	struct scsi_alua_group g[4];
	size_t n = 99, need;

	(void)state;
	assert_int_equal(scsi_rtpg_parse(rtpg, 3, g, 4, &n, &need), -EBADMSG);
	memcpy(b, rtpg, sizeof(b));
	b[23] = 0x40; /* group 2 claims 64 ports within its 28 bytes */
	assert_int_equal(scsi_rtpg_parse(b, sizeof(b), g, 4, &n, &need), -EBADMSG);
	memcpy(b, rtpg, sizeof(b));
	b[3] = 0x1a; /* a length that ends inside a descriptor */
	assert_int_equal(scsi_rtpg_parse(b, sizeof(b), g, 4, &n, &need), -EBADMSG);
	assert_int_equal(n, 99);
}

static void test_cdb(void **state)
{
	uint8_t cdb[ISCSI_CDB_MAX];

	(void)state;
	assert_int_equal(scsi_cdb_report_tpgs(cdb, 0x10203), 12);
	assert_int_equal(cdb[0], 0xa3);
	assert_int_equal(cdb[1], 0x0a);
	assert_int_equal(cdb[7], 0x01);
	assert_int_equal(cdb[8], 0x02);
	assert_int_equal(cdb[9], 0x03);
	assert_string_equal(scsi_alua_state_name(0x9), "reserved 0x9");
	assert_string_equal(scsi_alua_state_name(0xf), "transitioning");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpgs),	      cmocka_unit_test(test_vpd_port),
		cmocka_unit_test(test_vpd_port_none), cmocka_unit_test(test_vpd_port_malformed),
		cmocka_unit_test(test_rtpg),	      cmocka_unit_test(test_rtpg_extended_header),
		cmocka_unit_test(test_rtpg_cut),      cmocka_unit_test(test_rtpg_malformed),
		cmocka_unit_test(test_cdb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
