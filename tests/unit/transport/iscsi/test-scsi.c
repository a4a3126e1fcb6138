/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "scsi.h"

/* A CDB builder's output: the length it returned and all 16 bytes. */
static void assert_cdb(int r, const uint8_t *cdb, int want_len, const uint8_t want[ISCSI_CDB_MAX])
{
	assert_int_equal(r, want_len);
	assert_memory_equal(cdb, want, ISCSI_CDB_MAX);
}

/* ---- CDB builders ------------------------------------------------------- */

static void test_cdb_read16(void **state)
{
	static const uint8_t want[16] = {0x88, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
					 0x07, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
	uint8_t cdb[16];

	memset(cdb, 0xee, sizeof(cdb));
	assert_cdb(scsi_cdb_read16(cdb, 0x0102030405060708ull, 256, false), cdb, 16, want);
}

static void test_cdb_write16_fua(void **state)
{
	static const uint8_t want[16] = {0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0};
	uint8_t cdb[16];

	assert_cdb(scsi_cdb_write16(cdb, 0x10, 8, true), cdb, 16, want);
}

static void test_cdb_read10(void **state)
{
	static const uint8_t want[16] = {0x28, 0x08, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff};
	uint8_t cdb[16];

	memset(cdb, 0xee, sizeof(cdb));
	assert_cdb(scsi_cdb_read10(cdb, 0xffffffff, 0xffff, true), cdb, 10, want);
}

static void test_cdb_write10(void **state)
{
	static const uint8_t want[16] = {0x2a, 0x00, 0x00, 0x01, 0x00, 0x00, 0, 0x00, 0x20};
	uint8_t cdb[16];

	assert_cdb(scsi_cdb_write10(cdb, 0x10000, 32, false), cdb, 10, want);
}

static void test_cdb_10_range(void **state)
{
	uint8_t cdb[16], untouched[16];

	memset(cdb, 0xee, sizeof(cdb));
	memcpy(untouched, cdb, sizeof(cdb));
	assert_int_equal(scsi_cdb_read10(cdb, 0x100000000ull, 1, false), -ERANGE);
	assert_int_equal(scsi_cdb_read10(cdb, 0, 0x10000, false), -ERANGE);
	assert_int_equal(scsi_cdb_write10(cdb, 0x100000000ull, 1, false), -ERANGE);
	assert_int_equal(scsi_cdb_write10(cdb, 0, 0x10000, true), -ERANGE);
	assert_memory_equal(cdb, untouched, sizeof(cdb));
}

static void test_cdb_sync_cache(void **state)
{
	static const uint8_t want10[16] = {0x35};
	static const uint8_t want16[16] = {0x91, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78};
	uint8_t cdb[16];

	memset(cdb, 0xee, sizeof(cdb));
	assert_cdb(scsi_cdb_sync_cache10(cdb), cdb, 10, want10);
	assert_cdb(scsi_cdb_sync_cache16(cdb, 0x1234, 0x5678), cdb, 16, want16);
}

static void test_cdb_unmap(void **state)
{
	static const uint8_t want[16] = {0x42, 0, 0, 0, 0, 0, 0, 0x00, 0x18};
	uint8_t cdb[16];

	assert_cdb(scsi_cdb_unmap(cdb, SCSI_UNMAP_PARAM_LEN), cdb, 10, want);
}

static void test_unmap_param(void **state)
{
	static const uint8_t want[24] = {0x00, 0x16, 0x00, 0x10, 0,    0,    0,	   0,
					 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
					 0x00, 0x00, 0x08, 0x00, 0,    0,    0,	   0};
	uint8_t out[SCSI_UNMAP_PARAM_LEN];

	memset(out, 0xee, sizeof(out));
	scsi_unmap_param(out, 0x100000002ull, 0x800);
	assert_memory_equal(out, want, sizeof(want));
}

static void test_cdb_write_same16(void **state)
{
	static const uint8_t unmap[16] = {0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0x01, 0};
	static const uint8_t ndob[16] = {0x93, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0x01, 0};
	static const uint8_t plain[16] = {0x93, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0x01, 0};
	uint8_t cdb[16];

	assert_cdb(scsi_cdb_write_same16(cdb, 0x40, 0x100, true, false), cdb, 16, unmap);
	assert_cdb(scsi_cdb_write_same16(cdb, 0x40, 0x100, true, true), cdb, 16, ndob);
	assert_cdb(scsi_cdb_write_same16(cdb, 0x40, 0x100, false, false), cdb, 16, plain);
}

static void test_cdb_write_same16_zero_blocks(void **state)
{
	uint8_t cdb[16];

	assert_int_equal(scsi_cdb_write_same16(cdb, 0, 0, true, true), -EINVAL);
}

static void test_cdb_inquiry(void **state)
{
	static const uint8_t std[16] = {0x12, 0x00, 0x00, 0x00, 0x24, 0x00};
	static const uint8_t vpd[16] = {0x12, 0x01, 0x83, 0x10, 0x00, 0x00};
	uint8_t cdb[16];

	memset(cdb, 0xee, sizeof(cdb));
	assert_cdb(scsi_cdb_inquiry(cdb, false, 0, 36), cdb, 6, std);
	assert_cdb(scsi_cdb_inquiry(cdb, true, 0x83, 4096), cdb, 6, vpd);
	assert_int_equal(scsi_cdb_inquiry(cdb, false, 0x80, 255), -EINVAL);
}

static void test_cdb_report_luns(void **state)
{
	static const uint8_t want[16] = {0xa0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x08};
	uint8_t cdb[16];

	assert_cdb(scsi_cdb_report_luns(cdb, 0x10008), cdb, 12, want);
}

static void test_cdb_read_capacity(void **state)
{
	static const uint8_t want16[16] = {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0};
	static const uint8_t want10[16] = {0x25};
	uint8_t cdb[16];

	assert_cdb(scsi_cdb_read_capacity16(cdb, 32), cdb, 16, want16);
	memset(cdb, 0xee, sizeof(cdb));
	assert_cdb(scsi_cdb_read_capacity10(cdb), cdb, 10, want10);
}

static void test_cdb_test_unit_ready(void **state)
{
	static const uint8_t want[16] = {0};
	uint8_t cdb[16];

	memset(cdb, 0xee, sizeof(cdb));
	assert_cdb(scsi_cdb_test_unit_ready(cdb), cdb, 6, want);
}

/* ---- LUNs --------------------------------------------------------------- */

static void test_lun_encode_peripheral(void **state)
{
	static const uint8_t want[8] = {0x00, 0x05};
	uint8_t out[8];

	memset(out, 0xee, sizeof(out));
	assert_int_equal(scsi_lun_encode(5, out), 0);
	assert_memory_equal(out, want, 8);
}

static void test_lun_encode_flat(void **state)
{
	static const uint8_t want256[8] = {0x41, 0x00};
	static const uint8_t want_max[8] = {0x7f, 0xff};
	uint8_t out[8];

	memset(out, 0xee, sizeof(out));
	assert_int_equal(scsi_lun_encode(256, out), 0);
	assert_memory_equal(out, want256, 8);
	assert_int_equal(scsi_lun_encode(16383, out), 0);
	assert_memory_equal(out, want_max, 8);
}

static void test_lun_encode_range(void **state)
{
	uint8_t out[8] = {0xee};

	assert_int_equal(scsi_lun_encode(16384, out), -ERANGE);
	assert_int_equal(out[0], 0xee);
}

static void test_lun_round_trip(void **state)
{
	static const uint32_t ns[] = {0, 1, 255, 256, 4095, 16383};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint8_t lun[8];
		uint32_t n = 0xffffffff;

		assert_int_equal(scsi_lun_encode(ns[i], lun), 0);
		assert_int_equal(scsi_lun_decode(lun, &n), 0);
		assert_int_equal(n, ns[i]);
	}
}

static void test_lun_decode_flat_small(void **state)
{
	static const uint8_t lun[8] = {0x40, 0x07};
	uint32_t n;

	assert_int_equal(scsi_lun_decode(lun, &n), 0);
	assert_int_equal(n, 7);
}

static void test_lun_decode_unsupported(void **state)
{
	static const uint8_t wlun[8] = {0xc1, 0x01};	/* REPORT LUNS well-known LU */
	static const uint8_t lu_addr[8] = {0x80, 0x01}; /* logical unit addressing */
	static const uint8_t bus[8] = {0x01, 0x02};	/* peripheral, bus 1 */
	static const uint8_t two_level[8] = {0x00, 0x01, 0x00, 0x02};
	uint32_t n = 42;

	assert_int_equal(scsi_lun_decode(wlun, &n), -EOPNOTSUPP);
	assert_int_equal(scsi_lun_decode(lu_addr, &n), -EOPNOTSUPP);
	assert_int_equal(scsi_lun_decode(bus, &n), -EOPNOTSUPP);
	assert_int_equal(scsi_lun_decode(two_level, &n), -EOPNOTSUPP);
	assert_int_equal(n, 42);
}

static void test_lun_encode_refuses_above_max(void **state)
{
	uint8_t out[8];

	memset(out, 0xee, sizeof(out));
	assert_int_equal(scsi_lun_encode(SCSI_LUN_MAX + 1, out), -ERANGE);
	assert_int_equal(scsi_lun_encode(UINT32_MAX, out), -ERANGE);
	assert_int_equal(out[0], 0xee); /* nothing to send for it */
	assert_int_equal(scsi_lun_encode(SCSI_LUN_MAX, out), 0);
}

static struct scsi_lun_addr addr_of(const uint8_t lun[8])
{
	struct scsi_lun_addr a;

	assert_int_equal(scsi_lun_addr_decode(lun, &a), 0);
	return a;
}

static void assert_addr_text(const uint8_t lun[8], const char *want)
{
	struct scsi_lun_addr a = addr_of(lun);
	char buf[80];

	scsi_lun_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_lun_addr_peripheral(void **state)
{
	static const uint8_t bus0[8] = {0x00, 0x05}, bus3[8] = {0x03, 0x07};
	struct scsi_lun_addr a = addr_of(bus3);

	assert_int_equal(a.method, SCSI_LUN_PERIPHERAL);
	assert_int_equal(a.bus, 3);
	assert_int_equal(a.lun, 7);
	assert_false(a.multi_level);
	assert_addr_text(bus0, "peripheral bus 0 lun 5");
	assert_addr_text(bus3, "peripheral bus 3 lun 7");
}

static void test_lun_addr_flat(void **state)
{
	static const uint8_t lun[8] = {0x7f, 0xfe};
	struct scsi_lun_addr a = addr_of(lun);

	assert_int_equal(a.method, SCSI_LUN_FLAT);
	assert_int_equal(a.lun, 16382);
	assert_addr_text(lun, "flat lun 16382");
}

static void test_lun_addr_logical_unit(void **state)
{
	/* 10b TARGET=2; BUS NUMBER=5, LUN=9 */
	static const uint8_t lun[8] = {0x82, 0xa9};
	struct scsi_lun_addr a = addr_of(lun);
	uint32_t n = 42;

	assert_int_equal(a.method, SCSI_LUN_LOGICAL_UNIT);
	assert_int_equal(a.target, 2);
	assert_int_equal(a.bus, 5);
	assert_int_equal(a.lun, 9);
	assert_addr_text(lun, "logical unit target 2 bus 5 lun 9");
	/* no number: scsi_lun_encode() would address another LU */
	assert_int_equal(scsi_lun_decode(lun, &n), -EOPNOTSUPP);
	assert_int_equal(n, 42);
}

static void test_lun_addr_extended(void **state)
{
	static const uint8_t wlun[8] = {0xc1, 0x01};
	static const uint8_t flat[8] = {0xd2, 0x01, 0x11, 0x70};
	static const uint8_t long_flat[8] = {0xe2, 0x01, 0x02, 0x03, 0x04, 0x05};
	static const uint8_t none[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct scsi_lun_addr a = addr_of(flat);
	uint32_t n;

	assert_int_equal(a.method, SCSI_LUN_EXTENDED);
	assert_int_equal(a.extended, SCSI_LUN_EXT_FLAT);
	assert_int_equal(a.lun, 0x11170);
	assert_false(a.multi_level);
	assert_addr_text(flat, "extended flat lun 70000");
	assert_int_equal(addr_of(long_flat).lun, 0x0102030405ull);
	assert_addr_text(long_flat, "long extended flat lun 4328719365");
	assert_int_equal(addr_of(wlun).extended, SCSI_LUN_EXT_WELL_KNOWN);
	assert_addr_text(wlun, "well-known lun 0x01");
	assert_int_equal(addr_of(none).extended, SCSI_LUN_EXT_NOT_SPECIFIED);
	assert_addr_text(none, "not specified");
	assert_int_equal(scsi_lun_decode(flat, &n), -EOPNOTSUPP);
	assert_int_equal(scsi_lun_decode(wlun, &n), -EOPNOTSUPP);
}

static void test_lun_addr_extended_reserved(void **state)
{
	static const uint8_t reserved[8] = {0xc3, 0x01};	    /* length 0, method 3 */
	static const uint8_t half_ff[8] = {0xff, 0xff, 0xff, 0x00}; /* not all 0xff */
	struct scsi_lun_addr a;

	assert_int_equal(scsi_lun_addr_decode(reserved, &a), -EBADMSG);
	assert_int_equal(scsi_lun_addr_decode(half_ff, &a), -EBADMSG);
}

static void test_lun_addr_multi_level(void **state)
{
	static const uint8_t two[8] = {0x00, 0x01, 0x00, 0x02};
	/* extended flat spans 4 bytes: the next level starts at byte 4 */
	static const uint8_t ext_one[8] = {0xd2, 0x00, 0x00, 0x01};
	static const uint8_t ext_two[8] = {0xd2, 0x00, 0x00, 0x01, 0x40, 0x01};

	assert_true(addr_of(two).multi_level);
	assert_addr_text(two, "peripheral bus 0 lun 1, multi-level");
	assert_false(addr_of(ext_one).multi_level);
	assert_true(addr_of(ext_two).multi_level);
}

static void test_lun_addr_format_truncates(void **state)
{
	static const uint8_t lun[8] = {0x82, 0xa9};
	struct scsi_lun_addr a = addr_of(lun);
	char buf[8];

	scsi_lun_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "logical");
}

/* ---- REPORT LUNS -------------------------------------------------------- */

/* Three entries: LUN 0, the REPORT LUNS well-known LU, flat LUN 300. */
static const uint8_t report_luns[32] = {
	0x00, 0x00, 0x00, 0x18, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0, 0, 0,
	0xc1, 0x01, 0,	  0,	0, 0, 0, 0, 0x41, 0x2c, 0, 0, 0, 0, 0, 0,
};

static void test_report_luns(void **state)
{
	uint32_t luns[8];
	size_t n, total;

	assert_int_equal(
		scsi_report_luns_parse(report_luns, sizeof(report_luns), luns, 8, &n, &total), 0);
	assert_int_equal(total, 3);
	assert_int_equal(n, 2); /* the well-known LU is skipped */
	assert_int_equal(luns[0], 0);
	assert_int_equal(luns[1], 300);
}

static void test_report_luns_short_header(void **state)
{
	uint32_t luns[1];
	size_t n = 99, total = 99;

	assert_int_equal(scsi_report_luns_parse(report_luns, 7, luns, 1, &n, &total), -EBADMSG);
	assert_int_equal(n, 99);
	assert_int_equal(total, 99);
}

static void test_report_luns_truncated(void **state)
{
	/* The list claims 3 entries; the buffer holds 1.5 of them. */
	uint32_t luns[8];
	size_t n, total;

	assert_int_equal(scsi_report_luns_parse(report_luns, 8 + 12, luns, 8, &n, &total), 0);
	assert_int_equal(total, 3);
	assert_int_equal(n, 1);
	assert_int_equal(luns[0], 0);
	assert_int_equal(scsi_report_luns_parse(report_luns, 8, luns, 8, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_int_equal(total, 3);
}

static void test_report_luns_total_over_cap(void **state)
{
	uint8_t buf[8 + 4 * 8] = {0};
	uint32_t luns[2];
	size_t n, total;

	buf[2] = 0x01; /* LUN LIST LENGTH 0x100: 32 LUNs, of which we got 4 */
	for (int i = 0; i < 4; i++)
		buf[8 + 8 * i + 1] = (uint8_t)(10 + i);
	assert_int_equal(scsi_report_luns_parse(buf, sizeof(buf), luns, 2, &n, &total), 0);
	assert_int_equal(n, 2);
	assert_int_equal(total, 32);
	assert_int_equal(luns[0], 10);
	assert_int_equal(luns[1], 11);
}

static void test_report_luns_list_shorter_than_buffer(void **state)
{
	/* LUN LIST LENGTH 8: the second entry in the buffer is not data. */
	static const uint8_t buf[24] = {0, 0, 0, 8, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4};
	uint32_t luns[4];
	size_t n, total;

	assert_int_equal(scsi_report_luns_parse(buf, sizeof(buf), luns, 4, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 1);
	assert_int_equal(luns[0], 3);
}

/* ---- INQUIRY ------------------------------------------------------------ */

static const uint8_t std_inquiry[36] = {
	0x00, 0x80, 0x06, 0x02, 0x1f, 0x00, 0x00, 0x02, 'L', 'I', 'O', '-',
	'O',  'R',  'G',  ' ',	'I',  'B',  'L',  'O',	'C', 'K', ' ', ' ',
	' ',  ' ',  ' ',  ' ',	' ',  ' ',  ' ',  ' ',	'4', '.', '0', ' ',
};

static void test_inquiry(void **state)
{
	struct scsi_inquiry q;

	assert_int_equal(scsi_inquiry_parse(std_inquiry, sizeof(std_inquiry), &q), 0);
	assert_int_equal(q.qualifier, 0);
	assert_int_equal(q.device_type, 0);
	assert_true(q.removable);
	assert_int_equal(q.version, 6);
	assert_true(q.cmdque);
	assert_string_equal(q.vendor, "LIO-ORG");
	assert_string_equal(q.product, "IBLOCK");
	assert_string_equal(q.revision, "4.0");
}

static void test_inquiry_short(void **state)
{
	struct scsi_inquiry q = {.version = 77};

	assert_int_equal(scsi_inquiry_parse(std_inquiry, 35, &q), -EBADMSG);
	assert_int_equal(q.version, 77);
}

static void test_inquiry_fields(void **state)
{
	uint8_t b[36];
	struct scsi_inquiry q;

	memcpy(b, std_inquiry, sizeof(b));
	b[0] = 0x7f; /* qualifier 3, type 0x1f: no LU here */
	b[1] = 0;
	b[7] = 0;
	memcpy(b + 8,
	       "A\x01"
	       "B\0\0\0\0\0",
	       8);		   /* control byte, NUL padding */
	memset(b + 16, ' ', 16);   /* all blank */
	memcpy(b + 32, " 1 2", 4); /* inner spaces stay */
	assert_int_equal(scsi_inquiry_parse(b, sizeof(b), &q), 0);
	assert_int_equal(q.qualifier, 3);
	assert_int_equal(q.device_type, 0x1f);
	assert_false(q.removable);
	assert_false(q.cmdque);
	assert_string_equal(q.vendor, "A?B");
	assert_string_equal(q.product, "");
	assert_string_equal(q.revision, " 1 2");
}

static void test_device_type_name(void **state)
{
	assert_string_equal(scsi_device_type_name(0x00), "disk");
	assert_string_equal(scsi_device_type_name(0x05), "cd/dvd");
	assert_string_equal(scsi_device_type_name(0x0c), "controller");
	assert_string_equal(scsi_device_type_name(0x0d), "enclosure");
	assert_string_equal(scsi_device_type_name(0x15), "type 0x15");
	assert_string_equal(scsi_device_type_name(0x1f), "no device");
	assert_string_equal(scsi_device_type_name(0x20), "unknown");
}

/* ---- VPD ---------------------------------------------------------------- */

static void test_vpd_payload(void **state)
{
	static const uint8_t b[8] = {0x00, 0x80, 0x00, 0x10, 'a', 'b', 'c', 'd'};
	const uint8_t *p = NULL;
	size_t n = 0;

	assert_int_equal(scsi_vpd_payload(b, sizeof(b), 0x80, &p, &n), 0);
	assert_ptr_equal(p, b + 4);
	assert_int_equal(n, 4); /* claims 16, capped to what arrived */
	assert_int_equal(scsi_vpd_payload(b, 3, 0x80, &p, &n), -EBADMSG);
}

static void test_vpd_page_mismatch(void **state)
{
	static const uint8_t b[8] = {0x00, 0x80, 0x00, 0x04, 'a', 'b', 'c', 'd'};
	const uint8_t *p;
	size_t n;
	char out[16];
	struct scsi_lbp lbp;

	assert_int_equal(scsi_vpd_payload(b, sizeof(b), 0x83, &p, &n), -EBADMSG);
	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), -EBADMSG);
	assert_int_equal(scsi_vpd_lbp_parse(b, sizeof(b), &lbp), -EBADMSG);
}

static void test_vpd_supported(void **state)
{
	static const uint8_t b[10] = {0x00, 0x00, 0x00, 0x06, 0x00, 0x80, 0x83, 0xb0, 0xb2, 0xff};
	uint8_t pages[16];
	size_t n;

	assert_int_equal(scsi_vpd_supported_parse(b, sizeof(b), pages, 16, &n), 0);
	assert_int_equal(n, 6);
	assert_true(scsi_vpd_has(pages, n, 0xb2));
	assert_false(scsi_vpd_has(pages, n, 0xb1));
	assert_int_equal(scsi_vpd_supported_parse(b, sizeof(b), pages, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_false(scsi_vpd_has(pages, n, 0xb0));
}

static void test_vpd_serial(void **state)
{
	static const uint8_t b[] = {0x00, 0x80, 0x00, 0x0c, ' ', ' ', 'S', 'N',
				    0x07, '1',	' ',  '2',  ' ', ' ', 0,   0};
	char out[16];

	assert_int_equal(scsi_vpd_serial_parse(b, sizeof(b), out, sizeof(out)), 0);
	assert_string_equal(out, "SN?1 2");
}

static void test_vpd_serial_too_small(void **state)
{
	static const uint8_t b[] = {0x00, 0x80, 0x00, 0x04, 'a', 'b', 'c', 'd'};
	char out[8] = "keep";

	assert_int_equal(scsi_vpd_serial_parse(b, sizeof(b), out, 4), -ENOBUFS);
	assert_string_equal(out, "keep");
	assert_int_equal(scsi_vpd_serial_parse(b, sizeof(b), out, 5), 0);
	assert_string_equal(out, "abcd");
}

/* A designator's first three bytes (code set, association and type,
 * reserved); its length byte follows. */
#define T10_HDR 0x02, 0x01, 0x00
#define NAA_HDR 0x01, 0x03, 0x00
#define EUI_HDR 0x01, 0x02, 0x00
#define NAME_HDR 0x03, 0x08, 0x00

/* Test vectors: the 4-byte page header, then one designator a line. */
/* clang-format off */
static void test_devid_prefers_naa(void **state)
{
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x28,
		T10_HDR, 0x10, 'L', 'I', 'O', '-', 'O', 'R', 'G', ' ',
			       'a', 'b', 'c', 'd', ' ', ' ', ' ', ' ',
		NAA_HDR, 0x10, 0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
			       0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12,
	};
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), 0);
	assert_string_equal(out, "naa.6001405abcdef0123456789abcdef012");
}

static void test_devid_t10_only(void **state)
{
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x10,
		T10_HDR, 0x0c, 'L', 'I', 'O', '-', 'O', 'R', 'G', ' ', 'x', 'y', ' ', ' ',
	};
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), 0);
	assert_string_equal(out, "t10.LIO-ORG xy");
}

static void test_devid_skips_other_associations(void **state)
{
	/* An NAA of the target port (association 1) and a name string of the
	 * target device (association 2), both with PIV set, and a relative
	 * target port id; the LU itself only has an EUI-64. */
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x2c,
		0x01, 0x93, 0x00, 0x08, 0x50, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x53, 0xa8, 0x00, 0x08, 'i', 'q', 'n', '.', 'x', 0, 0, 0,
		EUI_HDR, 0x08, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x61, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
	};
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), 0);
	assert_string_equal(out, "eui.0011223344556677");
}

static void test_devid_name_over_t10(void **state)
{
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x1c,
		T10_HDR, 0x08, 'V', 'E', 'N', 'D', 'O', 'R', ' ', ' ',
		NAME_HDR, 0x0c, 'i', 'q', 'n', '.', 'a', ':', 'b', 0, 0, 0, 0, 0,
	};
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), 0);
	assert_string_equal(out, "iqn.a:b");
}

static void test_devid_overrunning_designator(void **state)
{
	/* The NAA designator claims 16 bytes, the page holds 8 of them: it
	 * must be ignored, leaving the T10 id before it. */
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x1c,
		T10_HDR, 0x0c, 'V', 'E', 'N', 'D', 'O', 'R', ' ', ' ', 'l', 'u', '1', ' ',
		NAA_HDR, 0x10, 0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
	};
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), 0);
	assert_string_equal(out, "t10.VENDOR  lu1");
}

static void test_devid_page_length_bounds_designator(void **state)
{
	/* The buffer holds a whole NAA designator, but the page length (8)
	 * ends inside it. */
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x08,
		NAA_HDR, 0x08, 0x50, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
	};
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), -ENOENT);
}

static void test_devid_none(void **state)
{
	/* An NAA with a bad length and a binary T10 id: nothing usable. */
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x16,
		NAA_HDR, 0x06, 1, 2, 3, 4, 5, 6,
		0x01, 0x01, 0x00, 0x08, 'V', 'E', 'N', 'D', 'O', 'R', ' ', ' ',
	};
	static const uint8_t empty[4] = {0x00, 0x83, 0x00, 0x00};
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, sizeof(out)), -ENOENT);
	assert_int_equal(scsi_vpd_devid_parse(empty, sizeof(empty), out, sizeof(out)), -ENOENT);
}

/* VPD 0x83 as LIO answers for a LUN without a unit serial: a T10 vendor
 * id of the vendor alone, the target device's and the target port's
 * names, a LU group and a target port group: nothing that names the LUN. */
static size_t lio_no_serial_page(uint8_t *b)
{
	static const char dev[] = "iqn.2026-11.org.lunbridge.test:lio";
	static const char port[] = "iqn.2026-11.org.lunbridge.test:lio,t,0x0001";
	size_t off = 4;

	memset(b, 0, 256);
	b[1] = 0x83;
	b[off] = 0x02, b[off + 1] = 0x01, b[off + 3] = 8; /* ASCII; LUN, T10 */
	memcpy(b + off + 4, "LIO-ORG ", 8);
	off += 4 + 8;
	b[off] = 0x53, b[off + 1] = 0xa8, b[off + 3] = 36; /* iSCSI, UTF-8; PIV, device, name */
	memcpy(b + off + 4, dev, strlen(dev));
	off += 4 + 36;
	b[off] = 0x53, b[off + 1] = 0x98, b[off + 3] = 44; /* PIV, target port, name */
	memcpy(b + off + 4, port, strlen(port));
	off += 4 + 44;
	b[off] = 0x01, b[off + 1] = 0x06, b[off + 3] = 4; /* LUN, LU group */
	off += 8;
	b[off] = 0x51, b[off + 1] = 0x95, b[off + 3] = 4; /* target port group */
	off += 8;
	b[3] = (uint8_t)(off - 4);
	return off;
}

static void test_devid_lio_without_serial(void **state)
{
	uint8_t b[256];
	size_t n = lio_no_serial_page(b);
	char out[64];

	assert_int_equal(scsi_vpd_devid_parse(b, n, out, sizeof(out)), -ENOENT);
	assert_int_equal(scsi_vpd_target_name_parse(b, n, out, sizeof(out)), 0);
	assert_string_equal(out, "iqn.2026-11.org.lunbridge.test:lio");
	/* 34 bytes and its NUL do not fit in 34 */
	assert_int_equal(scsi_vpd_target_name_parse(b, n, out, 34), -ENOBUFS);
}

static void test_target_name_none(void **state)
{
	/* only a LUN designator (NAA) and a target port name */
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x14,
		NAA_HDR, 0x08, 0x50, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
		0x53, 0x98, 0x00, 0x04, 'i', 'q', 'n', '.',
	};
	static const uint8_t overrun[] = {
		0x00, 0x83, 0x00, 0x08,
		0x53, 0xa8, 0x00, 0x08, 'i', 'q', 'n', '.',
	};
	char out[64];

	assert_int_equal(scsi_vpd_target_name_parse(b, sizeof(b), out, sizeof(out)), -ENOENT);
	assert_int_equal(scsi_vpd_target_name_parse(overrun, sizeof(overrun), out, sizeof(out)),
			 -ENOENT);
}

static void test_devid_too_small(void **state)
{
	static const uint8_t b[] = {
		0x00, 0x83, 0x00, 0x0c,
		NAA_HDR, 0x08, 0x50, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
	};
	char out[21] = "keep";

	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, 20), -ENOBUFS);
	assert_string_equal(out, "keep");
	assert_int_equal(scsi_vpd_devid_parse(b, sizeof(b), out, 21), 0);
	assert_string_equal(out, "naa.5001405abcdef012");
}
/* clang-format on */

static void fill_block_limits(uint8_t b[64])
{
	memset(b, 0, 64);
	b[1] = 0xb0;
	b[3] = 0x3c;
	b[11] = 0x80; /* MAXIMUM TRANSFER LENGTH 128 */
	b[15] = 0x40; /* OPTIMAL TRANSFER LENGTH 64 */
	b[21] = 0x40; /* MAXIMUM UNMAP LBA COUNT 0x400000 */
	b[27] = 0x01; /* MAXIMUM UNMAP DESCRIPTORS 1 */
	b[31] = 0x08; /* OPTIMAL UNMAP GRANULARITY 8 */
	b[39] = 0x01; /* MAXIMUM WRITE SAME LENGTH 0x100000002 */
	b[43] = 0x02;
}

static void test_block_limits(void **state)
{
	uint8_t b[64];
	struct scsi_block_limits bl;

	fill_block_limits(b);
	assert_int_equal(scsi_vpd_block_limits_parse(b, sizeof(b), &bl), 0);
	assert_int_equal(bl.max_xfer_blocks, 128);
	assert_int_equal(bl.opt_xfer_blocks, 64);
	assert_int_equal(bl.max_unmap_blocks, 0x400000);
	assert_int_equal(bl.max_unmap_descs, 1);
	assert_int_equal(bl.unmap_granularity, 8);
	assert_true(bl.max_write_same_blocks == 0x100000002ull);
}

static void test_block_limits_short_page(void **state)
{
	/* SBC-2 era page length 0x0c: only the transfer lengths. */
	uint8_t b[64];
	struct scsi_block_limits bl;

	fill_block_limits(b);
	b[3] = 0x0c;
	assert_int_equal(scsi_vpd_block_limits_parse(b, sizeof(b), &bl), 0);
	assert_int_equal(bl.max_xfer_blocks, 128);
	assert_int_equal(bl.opt_xfer_blocks, 64);
	assert_int_equal(bl.max_unmap_blocks, 0);
	assert_int_equal(bl.max_unmap_descs, 0);
	assert_int_equal(bl.unmap_granularity, 0);
	assert_true(bl.max_write_same_blocks == 0);
}

static void test_block_limits_short_buffer(void **state)
{
	/* The page claims 0x3c, the buffer ends in MAXIMUM WRITE SAME LENGTH. */
	uint8_t b[64];
	struct scsi_block_limits bl;

	fill_block_limits(b);
	assert_int_equal(scsi_vpd_block_limits_parse(b, 43, &bl), 0);
	assert_int_equal(bl.unmap_granularity, 8);
	assert_true(bl.max_write_same_blocks == 0);
	assert_int_equal(scsi_vpd_block_limits_parse(b, 11, &bl), 0);
	assert_int_equal(bl.max_xfer_blocks, 0);
}

static void test_lbp(void **state)
{
	static const uint8_t b[8] = {0x00, 0xb2, 0x00, 0x04, 0x00, 0xe4, 0x02, 0x00};
	struct scsi_lbp lbp;

	assert_int_equal(scsi_vpd_lbp_parse(b, sizeof(b), &lbp), 0);
	assert_true(lbp.lbpu);
	assert_true(lbp.lbpws);
	assert_true(lbp.lbpws10);
	assert_true(lbp.lbprz);
	assert_int_equal(lbp.provisioning_type, 2);
}

static void test_lbp_bits(void **state)
{
	uint8_t b[8] = {0x00, 0xb2, 0x00, 0x04, 0x00, 0x40, 0xf9, 0x00};
	struct scsi_lbp lbp;

	assert_int_equal(scsi_vpd_lbp_parse(b, sizeof(b), &lbp), 0);
	assert_false(lbp.lbpu);
	assert_true(lbp.lbpws);
	assert_false(lbp.lbpws10);
	assert_false(lbp.lbprz);
	assert_int_equal(lbp.provisioning_type, 1); /* only the low 3 bits */
	b[5] = 0x10;				    /* SBC-4 LBPRZ field value 4 */
	assert_int_equal(scsi_vpd_lbp_parse(b, sizeof(b), &lbp), 0);
	assert_true(lbp.lbprz);
	assert_false(lbp.lbpws);
}

static void test_lbp_short_page(void **state)
{
	/* Page length 1: byte 5 and on are not part of the page. */
	static const uint8_t b[8] = {0x00, 0xb2, 0x00, 0x01, 0x00, 0xe4, 0x02, 0x00};
	struct scsi_lbp lbp;

	assert_int_equal(scsi_vpd_lbp_parse(b, sizeof(b), &lbp), 0);
	assert_false(lbp.lbpu);
	assert_false(lbp.lbprz);
	assert_int_equal(lbp.provisioning_type, 0);
}

/* ---- MODE SENSE --------------------------------------------------------- */

static void test_cdb_mode_sense(void **state)
{
	static const uint8_t want6[6] = {0x1a, 0x08, 0x08, 0x00, 0xff, 0x00};
	static const uint8_t want10[10] = {0x5a, 0x08, 0x3f, 0, 0, 0, 0, 0x01, 0x00, 0};
	uint8_t cdb[ISCSI_CDB_MAX];

	assert_int_equal(scsi_cdb_mode_sense6(cdb, SCSI_MODE_PAGE_CACHING, 255), 6);
	assert_memory_equal(cdb, want6, sizeof(want6));
	assert_int_equal(scsi_cdb_mode_sense10(cdb, SCSI_MODE_PAGE_ALL, 256), 10);
	assert_memory_equal(cdb, want10, sizeof(want10));
}

/* MODE SENSE(10), DBD: header (WP|DPOFUA), then the Caching page with
 * WCE, as tgtd answers for a read-only LUN. */
static const uint8_t mode10_caching[28] = {
	0x00, 0x1a, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, /* header: 26 more bytes */
	0x08, 0x12, 0x14, 0x00, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff,
	0xff, 0xff, 0x80, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_mode_sense10_caching(void **state)
{
	struct scsi_mode_info m;

	assert_int_equal(scsi_mode_sense_parse(mode10_caching, sizeof(mode10_caching), true, &m),
			 0);
	assert_true(m.write_protected);
	assert_true(m.dpofua);
	assert_true(m.has_caching);
	assert_true(m.wce);
	assert_false(m.rcd);
}

static void test_mode_sense6_no_cache_after_block_descriptor(void **state)
{
	/* MODE SENSE(6): one 8-byte block descriptor before the pages, a
	 * Control page (0x0a), then Caching with WCE clear and RCD set */
	static const uint8_t b[4 + 8 + 4 + 6] = {
		21,   0x00, 0x00, 0x08, 0,    0,    0,	  0,
		0,    0,    0x02, 0x00, 0x0a, 0x02, 0x00, 0x00, /* Control page, 2 bytes */
		0x88, 0x04, 0x01, 0x00, 0,    0,		/* Caching, PS set, 4 bytes */
	};
	struct scsi_mode_info m;

	assert_int_equal(scsi_mode_sense_parse(b, sizeof(b), false, &m), 0);
	assert_false(m.write_protected);
	assert_false(m.dpofua);
	assert_true(m.has_caching);
	assert_false(m.wce);
	assert_true(m.rcd);
}

static void test_mode_sense_subpage_skipped(void **state)
{
	/* a page in SUBPAGE format (4-byte header) that carries code 8 is
	 * not the Caching page; the real one follows it */
	static const uint8_t b[8 + 8 + 4] = {
		0x00, 18,   0x00, 0x00, 0, 0, 0,    0,	  0x48, 0x01,
		0x00, 0x04, 0x04, 0,	0, 0, 0x08, 0x02, 0x04, 0x00,
	};
	struct scsi_mode_info m;

	assert_int_equal(scsi_mode_sense_parse(b, sizeof(b), true, &m), 0);
	assert_true(m.has_caching);
	assert_true(m.wce);
}

static void test_mode_sense_bounded_by_mode_data_length(void **state)
{
	/* MODE DATA LENGTH stops before the Caching page the buffer holds */
	uint8_t b[sizeof(mode10_caching)];
	struct scsi_mode_info m;

	memcpy(b, mode10_caching, sizeof(b));
	b[1] = 6; /* the header only */
	assert_int_equal(scsi_mode_sense_parse(b, sizeof(b), true, &m), 0);
	assert_true(m.write_protected);
	assert_false(m.has_caching);
	assert_false(m.wce);
}

static void test_mode_sense_truncated(void **state)
{
	struct scsi_mode_info m = {.wce = true};

	/* shorter than the header */
	assert_int_equal(scsi_mode_sense_parse(mode10_caching, 7, true, &m), -EBADMSG);
	assert_int_equal(scsi_mode_sense_parse(mode10_caching, 3, false, &m), -EBADMSG);
	assert_true(m.wce); /* untouched */
	/* the page header is there, its byte 2 is not */
	assert_int_equal(scsi_mode_sense_parse(mode10_caching, 10, true, &m), 0);
	assert_false(m.has_caching);
	/* a block descriptor length past the data */
	{
		uint8_t b[sizeof(mode10_caching)];

		memcpy(b, mode10_caching, sizeof(b));
		b[7] = 0xf0;
		assert_int_equal(scsi_mode_sense_parse(b, sizeof(b), true, &m), 0);
		assert_false(m.has_caching);
	}
}

static void test_inquiry_no_lun(void **state)
{
	struct scsi_inquiry q = {0};

	assert_false(scsi_inquiry_no_lun(&q)); /* connected disk */
	q.qualifier = 1;		       /* none connected now */
	assert_true(scsi_inquiry_no_lun(&q));
	q.qualifier = 3; /* none possible */
	assert_true(scsi_inquiry_no_lun(&q));
	q.qualifier = 0;
	q.device_type = 0x1f; /* unknown or no device type */
	assert_true(scsi_inquiry_no_lun(&q));
	q.device_type = 0x0c; /* a controller is a LU */
	assert_false(scsi_inquiry_no_lun(&q));
}

/* ---- READ CAPACITY ------------------------------------------------------ */

static void fill_capacity16(uint8_t b[32], uint64_t last, uint32_t bs)
{
	memset(b, 0, 32);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(last >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		b[8 + i] = (uint8_t)(bs >> (24 - 8 * i));
}

static void test_capacity16(void **state)
{
	uint8_t b[32];
	struct scsi_capacity c;

	fill_capacity16(b, 0x1ffffffffull, 512);
	b[12] = 0x01; /* PROT_EN: ignored */
	b[13] = 0x03; /* 8 logical blocks per physical block */
	b[14] = 0xc0; /* LBPME, LBPRZ */
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), 0);
	assert_true(c.blocks == 0x200000000ull);
	assert_int_equal(c.block_size, 512);
	assert_int_equal(c.physical_block_size, 4096);
	assert_true(c.lbpme);
	assert_true(c.lbprz);
}

static void test_capacity16_flags_clear(void **state)
{
	uint8_t b[32];
	struct scsi_capacity c;

	fill_capacity16(b, 2047, 4096);
	b[13] = 0xf0; /* P_I_EXPONENT only */
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), 0);
	assert_true(c.blocks == 2048);
	assert_int_equal(c.physical_block_size, 4096);
	assert_false(c.lbpme);
	assert_false(c.lbprz);
}

static void test_capacity16_short(void **state)
{
	uint8_t b[32];
	struct scsi_capacity c = {.block_size = 7};

	fill_capacity16(b, 100, 512);
	assert_int_equal(scsi_read_capacity16_parse(b, 31, &c), -EBADMSG);
	assert_int_equal(c.block_size, 7);
}

static void test_capacity16_bad_block_size(void **state)
{
	static const uint32_t bad[] = {0, 520, 3 * 512, 2u << 20, 0x80000000u};
	uint8_t b[32];
	struct scsi_capacity c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill_capacity16(b, 100, bad[i]);
		assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), -EBADMSG);
	}
	fill_capacity16(b, 100, 1u << 20);
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), 0);
	fill_capacity16(b, 100, 1);
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), 0);
}

static void test_capacity16_overflow(void **state)
{
	uint8_t b[32];
	struct scsi_capacity c;

	fill_capacity16(b, UINT64_MAX, 512); /* last LBA + 1 wraps */
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), -EBADMSG);
	fill_capacity16(b, UINT64_MAX >> 9, 512); /* 2^55 blocks of 2^9: 2^64 bytes */
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), -EBADMSG);
	fill_capacity16(b, (UINT64_MAX >> 9) - 1, 512);
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), 0);
}

static void test_capacity16_physical_exponent_overflow(void **state)
{
	uint8_t b[32];
	struct scsi_capacity c;

	fill_capacity16(b, 100, 1u << 20);
	b[13] = 0x0f; /* 2^20 << 15 does not fit 32 bits */
	assert_int_equal(scsi_read_capacity16_parse(b, sizeof(b), &c), 0);
	assert_int_equal(c.physical_block_size, 1u << 20);
}

static void test_capacity10(void **state)
{
	static const uint8_t b[8] = {0x00, 0x3f, 0xff, 0xff, 0x00, 0x00, 0x02, 0x00};
	struct scsi_capacity c;

	assert_int_equal(scsi_read_capacity10_parse(b, sizeof(b), &c), 0);
	assert_true(c.blocks == 0x400000);
	assert_int_equal(c.block_size, 512);
	assert_int_equal(c.physical_block_size, 512);
	assert_false(c.lbpme);
}

static void test_capacity10_wants_16(void **state)
{
	static const uint8_t b[8] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x10, 0x00};
	struct scsi_capacity c;

	assert_int_equal(scsi_read_capacity10_parse(b, sizeof(b), &c), 0);
	assert_true(c.blocks == 0x100000000ull);
	assert_int_equal(c.block_size, 4096);
}

static void test_capacity10_bad(void **state)
{
	static const uint8_t zero_bs[8] = {0x00, 0x00, 0x10, 0x00, 0, 0, 0, 0};
	static const uint8_t odd_bs[8] = {0x00, 0x00, 0x10, 0x00, 0, 0, 0x02, 0x08};
	static const uint8_t big_bs[8] = {0x00, 0x00, 0x10, 0x00, 0, 0x20, 0, 0};
	struct scsi_capacity c = {.block_size = 7};

	assert_int_equal(scsi_read_capacity10_parse(zero_bs, 8, &c), -EBADMSG);
	assert_int_equal(scsi_read_capacity10_parse(odd_bs, 8, &c), -EBADMSG);
	assert_int_equal(scsi_read_capacity10_parse(big_bs, 8, &c), -EBADMSG);
	assert_int_equal(scsi_read_capacity10_parse(zero_bs, 7, &c), -EBADMSG);
	assert_int_equal(c.block_size, 7);
}

/* ---- GET LBA STATUS ------------------------------------------------------ */

static void test_cdb_get_lba_status(void **state)
{
	static const uint8_t want[16] = {0x9e, 0x12, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03,
					 0x04, 0x05, 0x00, 0x00, 0x04, 0x08, 0x00, 0x00};
	uint8_t cdb[16];

	memset(cdb, 0xee, sizeof(cdb));
	assert_cdb(scsi_cdb_get_lba_status(cdb, 0x0102030405ull, 1032), cdb, 16, want);
}

/* Parameter data: header (PARAMETER DATA LENGTH = 4 + 16 n), then n
 * descriptors of (lba, blocks, status). */
static size_t lba_status(uint8_t *b, const uint64_t (*d)[3], size_t n)
{
	uint32_t plen = (uint32_t)(4 + 16 * n);

	memset(b, 0, 8 + 16 * n);
	b[0] = (uint8_t)(plen >> 24), b[1] = (uint8_t)(plen >> 16);
	b[2] = (uint8_t)(plen >> 8), b[3] = (uint8_t)plen;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = b + 8 + 16 * i;

		for (int k = 0; k < 8; k++)
			p[k] = (uint8_t)(d[i][0] >> (56 - 8 * k));
		for (int k = 0; k < 4; k++)
			p[8 + k] = (uint8_t)(d[i][1] >> (24 - 8 * k));
		p[12] = (uint8_t)d[i][2];
	}
	return 8 + 16 * n;
}

static void test_lba_status(void **state)
{
	static const uint64_t d[][3] = {
		{100, 28, 0}, {128, 64, 1}, {192, 8, 1}, {200, 800, 2}, {1000, 24, 0},
	};
	uint8_t b[8 + 16 * 5];
	struct scsi_lba_extent e[8];
	size_t len = lba_status(b, d, 5);

	/* from 100: the two deallocated runs are one */
	assert_int_equal(scsi_get_lba_status_parse(b, len, 100, e, 8), 4);
	assert_true(e[0].lba == 100 && e[0].blocks == 28 && e[0].status == SCSI_LBA_MAPPED);
	assert_true(e[1].lba == 128 && e[1].blocks == 72 && e[1].status == SCSI_LBA_DEALLOCATED);
	assert_true(e[2].lba == 200 && e[2].blocks == 800 && e[2].status == SCSI_LBA_ANCHORED);
	assert_true(e[3].lba == 1000 && e[3].blocks == 24 && e[3].status == SCSI_LBA_MAPPED);
	/* a first descriptor that starts before the LBA asked for */
	assert_int_equal(scsi_get_lba_status_parse(b, len, 110, e, 8), 4);
	assert_true(e[0].lba == 110 && e[0].blocks == 18);
	/* bounded by the caller's array */
	assert_int_equal(scsi_get_lba_status_parse(b, len, 100, e, 2), 2);
	assert_true(e[1].blocks == 72);
}

static void test_lba_status_bounded(void **state)
{
	static const uint64_t d[][3] = {{0, 8, 1}, {8, 8, 0}, {16, 8, 1}};
	uint8_t b[8 + 16 * 3];
	struct scsi_lba_extent e[4];
	size_t len = lba_status(b, d, 3);

	/* by the buffer: a descriptor cut short is not read */
	assert_int_equal(scsi_get_lba_status_parse(b, len - 1, 0, e, 4), 2);
	/* by PARAMETER DATA LENGTH */
	b[3] = 4 + 16;
	assert_int_equal(scsi_get_lba_status_parse(b, len, 0, e, 4), 1);
	b[3] = 0xff; /* more than there is: the buffer bounds it */
	assert_int_equal(scsi_get_lba_status_parse(b, len, 0, e, 4), 3);
	/* a header only, or less */
	b[3] = 4;
	assert_int_equal(scsi_get_lba_status_parse(b, len, 0, e, 4), -EBADMSG);
	assert_int_equal(scsi_get_lba_status_parse(b, 7, 0, e, 4), -EBADMSG);
}

static void test_lba_status_malformed(void **state)
{
	uint8_t b[8 + 16 * 3];
	struct scsi_lba_extent e[4] = {{.lba = 77}};

	/* the first descriptor does not cover the LBA asked for */
	static const uint64_t after[][3] = {{16, 8, 0}};
	static const uint64_t before[][3] = {{0, 8, 0}};
	static const uint64_t empty[][3] = {{16, 0, 0}};
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, after, 1), 8, e, 4), -EBADMSG);
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, before, 1), 8, e, 4), -EBADMSG);
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, empty, 1), 16, e, 4), -EBADMSG);
	assert_true(e[0].lba == 77); /* untouched */

	/* reading stops at a gap, an overlap, an empty run, a wrap */
	static const uint64_t gap[][3] = {{0, 8, 0}, {9, 8, 1}};
	static const uint64_t overlap[][3] = {{0, 8, 0}, {4, 8, 1}};
	static const uint64_t zero[][3] = {{0, 8, 0}, {8, 0, 1}, {8, 8, 1}};
	static const uint64_t wrap[][3] = {{0, 8, 0}, {8, 8, 1}, {UINT64_MAX - 1, 8, 0}};
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, gap, 2), 0, e, 4), 1);
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, overlap, 2), 0, e, 4), 1);
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, zero, 3), 0, e, 4), 1);
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, wrap, 3), 0, e, 4), 2);

	/* a reserved status reads as mapped: the blocks may hold data */
	static const uint64_t reserved[][3] = {{0, 8, 1}, {8, 8, 7}};
	assert_int_equal(scsi_get_lba_status_parse(b, lba_status(b, reserved, 2), 0, e, 4), 2);
	assert_int_equal(e[1].status, SCSI_LBA_MAPPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdb_read16),
		cmocka_unit_test(test_cdb_write16_fua),
		cmocka_unit_test(test_cdb_read10),
		cmocka_unit_test(test_cdb_write10),
		cmocka_unit_test(test_cdb_10_range),
		cmocka_unit_test(test_cdb_sync_cache),
		cmocka_unit_test(test_cdb_unmap),
		cmocka_unit_test(test_unmap_param),
		cmocka_unit_test(test_cdb_write_same16),
		cmocka_unit_test(test_cdb_write_same16_zero_blocks),
		cmocka_unit_test(test_cdb_inquiry),
		cmocka_unit_test(test_cdb_report_luns),
		cmocka_unit_test(test_cdb_read_capacity),
		cmocka_unit_test(test_cdb_test_unit_ready),
		cmocka_unit_test(test_lun_encode_peripheral),
		cmocka_unit_test(test_lun_encode_flat),
		cmocka_unit_test(test_lun_encode_range),
		cmocka_unit_test(test_lun_round_trip),
		cmocka_unit_test(test_lun_decode_flat_small),
		cmocka_unit_test(test_lun_decode_unsupported),
		cmocka_unit_test(test_lun_encode_refuses_above_max),
		cmocka_unit_test(test_lun_addr_peripheral),
		cmocka_unit_test(test_lun_addr_flat),
		cmocka_unit_test(test_lun_addr_logical_unit),
		cmocka_unit_test(test_lun_addr_extended),
		cmocka_unit_test(test_lun_addr_extended_reserved),
		cmocka_unit_test(test_lun_addr_multi_level),
		cmocka_unit_test(test_lun_addr_format_truncates),
		cmocka_unit_test(test_report_luns),
		cmocka_unit_test(test_report_luns_short_header),
		cmocka_unit_test(test_report_luns_truncated),
		cmocka_unit_test(test_report_luns_total_over_cap),
		cmocka_unit_test(test_report_luns_list_shorter_than_buffer),
		cmocka_unit_test(test_inquiry),
		cmocka_unit_test(test_inquiry_short),
		cmocka_unit_test(test_inquiry_fields),
		cmocka_unit_test(test_device_type_name),
		cmocka_unit_test(test_vpd_payload),
		cmocka_unit_test(test_vpd_page_mismatch),
		cmocka_unit_test(test_vpd_supported),
		cmocka_unit_test(test_vpd_serial),
		cmocka_unit_test(test_vpd_serial_too_small),
		cmocka_unit_test(test_devid_prefers_naa),
		cmocka_unit_test(test_devid_t10_only),
		cmocka_unit_test(test_devid_skips_other_associations),
		cmocka_unit_test(test_devid_name_over_t10),
		cmocka_unit_test(test_devid_overrunning_designator),
		cmocka_unit_test(test_devid_page_length_bounds_designator),
		cmocka_unit_test(test_devid_none),
		cmocka_unit_test(test_devid_lio_without_serial),
		cmocka_unit_test(test_target_name_none),
		cmocka_unit_test(test_devid_too_small),
		cmocka_unit_test(test_block_limits),
		cmocka_unit_test(test_block_limits_short_page),
		cmocka_unit_test(test_block_limits_short_buffer),
		cmocka_unit_test(test_lbp),
		cmocka_unit_test(test_lbp_bits),
		cmocka_unit_test(test_lbp_short_page),
		cmocka_unit_test(test_capacity16),
		cmocka_unit_test(test_capacity16_flags_clear),
		cmocka_unit_test(test_capacity16_short),
		cmocka_unit_test(test_capacity16_bad_block_size),
		cmocka_unit_test(test_capacity16_overflow),
		cmocka_unit_test(test_capacity16_physical_exponent_overflow),
		cmocka_unit_test(test_capacity10),
		cmocka_unit_test(test_capacity10_wants_16),
		cmocka_unit_test(test_capacity10_bad),
		cmocka_unit_test(test_cdb_mode_sense),
		cmocka_unit_test(test_mode_sense10_caching),
		cmocka_unit_test(test_mode_sense6_no_cache_after_block_descriptor),
		cmocka_unit_test(test_mode_sense_subpage_skipped),
		cmocka_unit_test(test_mode_sense_bounded_by_mode_data_length),
		cmocka_unit_test(test_mode_sense_truncated),
		cmocka_unit_test(test_inquiry_no_lun),
		cmocka_unit_test(test_cdb_get_lba_status),
		cmocka_unit_test(test_lba_status),
		cmocka_unit_test(test_lba_status_bounded),
		cmocka_unit_test(test_lba_status_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
