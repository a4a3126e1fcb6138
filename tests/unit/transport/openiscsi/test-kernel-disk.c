/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's side of an open-iscsi session: H:C:T:L parsing and what a
 * disk's attributes say (from a table), and the libudev lookups against a
 * umockdev testbed (data/kernel-disk.umockdev; meson runs this binary under
 * `umockdev-run -d`; without UMOCKDEV_DIR those tests are skipped):
 *
 *   platform/host2/session1   iqn.2026-11.org.lunbridge.test:kdisk, eth0-tcp,
 *                             LOGGED_IN, 10.0.2.15:3260
 *     2:0:0:0  type 12 (tgtd's controller LUN)
 *     2:0:0:1  type 0, disk sdb (8:16), 1 GiB
 *     2:0:0:2  type 0, no disk (sd never bound)
 *   platform/host3/session2   iqn.2026-11.org.lunbridge.test:other, default,
 *                             FAILED, 10.0.2.16:3261; 3:0:0:1 with sdc
 *   platform/host10/session10 the same target, iface and portal as session1,
 *                             FAILED; 10:0:0:1 without a disk.  host10 sorts
 *                             before host2, so a first-found choice would
 *                             take it.
 *
 * What umockdev (0.17) does and does not do, found out for this test:
 * - An attribute in a subdirectory is written with its relative name,
 *   "A: queue/logical_block_size=512\n"; a binary one is an "H:" line in
 *   upper-case hex ("H: vpd_pg80=00800008..."), read back byte for byte.
 * - Every "P:" device needs a SUBSYSTEM, but the kernel's sessionN and
 *   connectionN:0 devices have none.  The record writes an empty uevent
 *   file into them from their class devices ("A: ../../uevent="), which
 *   makes them devices without a subsystem, as udevadm shows on real
 *   hardware.  The record format has no comments, so this note is here.
 * - "N: sdb" plus a "dev" attribute and DEVNAME makes /dev/sdb a block
 *   node with the right number (the preload fakes stat()).
 * - umockdev redirects /sys, /dev and /proc only, not /run: there is no
 *   udev database, so udev_device_get_is_initialized() is false for every
 *   mocked device, and "E:" properties cannot change that (it reads
 *   /run/udev/data/b8:16 of the real machine).  Nor can a record fake
 *   /run/udev/control.  The tests therefore set kernel_disk_udev_control (this
 *   file includes kernel-disk-find.c) to pick the path: a missing file for "no
 *   udevd", where the node alone counts, and "/" for "udevd runs", where
 *   the uninitialized sdb must not count.  Production code is unchanged.
 * - umockdev-run sends no uevents, so the monitor is only created,
 *   enabled and polled here; it never wakes before the deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "macro.h"
#include "kernel-disk-find.c"

#define TARGET "iqn.2026-11.org.lunbridge.test:kdisk"
#define OTHER "iqn.2026-11.org.lunbridge.test:other"

/* ---- lb_kernel_disk_parse_hctl --------------------------------------------- */

static void test_hctl_valid(void **state)
{
	unsigned h = 9, c = 9, t = 9;
	uint64_t l = 9;

	assert_int_equal(lb_kernel_disk_parse_hctl("2:0:0:1", &h, &c, &t, &l), 0);
	assert_int_equal(h, 2);
	assert_int_equal(c, 0);
	assert_int_equal(t, 0);
	assert_int_equal(l, 1);
	assert_int_equal(lb_kernel_disk_parse_hctl("10:3:7:16383", &h, &c, &t, &l), 0);
	assert_int_equal(h, 10);
	assert_int_equal(c, 3);
	assert_int_equal(t, 7);
	assert_int_equal(l, 16383);
	assert_int_equal(lb_kernel_disk_parse_hctl("4294967295:0:0:18446744073709551615", &h, NULL,
						   NULL, &l),
			 0);
	assert_int_equal(h, UINT32_MAX);
	assert_true(l == UINT64_MAX);
	assert_int_equal(lb_kernel_disk_parse_hctl("0:0:0:0", NULL, NULL, NULL, NULL), 0);
}

static void test_hctl_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"2",
		"2:0:0",
		"2:0:0:1:0",
		"2:0:0:",
		":0:0:1",
		"2::0:1",
		"2:0:0:1\n",
		" 2:0:0:1",
		"2:0:0:1 ",
		"+2:0:0:1",
		"-1:0:0:1",
		"0x2:0:0:1",
		"a:b:c:d",
		"2.0.0.1",
		"4294967296:0:0:1",
		"2:4294967296:0:1",
		"2:0:4294967296:1",
		"2:0:0:18446744073709551616",
		"host2",
	};
	unsigned h = 7, c = 7, t = 7;
	uint64_t l = 7;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (lb_kernel_disk_parse_hctl(bad[i], &h, &c, &t, &l) != -EINVAL)
			fail_msg("'%s' was taken for an H:C:T:L", bad[i]);
	}
	assert_int_equal(lb_kernel_disk_parse_hctl(NULL, &h, &c, &t, &l), -EINVAL);
	/* untouched on failure */
	assert_int_equal(h, 7);
	assert_int_equal(c, 7);
	assert_int_equal(t, 7);
	assert_int_equal(l, 7);
}

/* ---- lb_kernel_disk_info_from ----------------------------------------------- */

struct attr {
	const char *name;
	const char *value; /* NULL: absent */
	size_t len;	   /* 0: strlen(value) */
};

/* A tgtd disk as sd shows it: 1 GiB, 512-byte blocks, no UNMAP, a
 * volatile write cache; vpd_pg80 with its leading 0x00 and a page
 * length of 8 ("  beaf11"), and two bytes past the page. */
static const char pg80[] = "\x00\x80\x00\x08  beaf11XY";

static const struct attr tgtd_disk[] = {
	{"size", "2097152\n", 0},
	{"queue/logical_block_size", "512\n", 0},
	{"queue/physical_block_size", "512\n", 0},
	{"queue/max_sectors_kb", "512\n", 0},
	{"queue/discard_max_bytes", "0\n", 0},
	{"queue/write_zeroes_max_bytes", "0\n", 0},
	{"queue/write_cache", "write back\n", 0},
	{"queue/fua", "0\n", 0},
	{"ro", "0\n", 0},
	{"device/vendor", "IET     \n", 0},
	{"device/model", "VIRTUAL-DISK    \n", 0},
	{"device/wwid", "naa.60000000000000000e00000000010001\n", 0},
	{"device/vpd_pg80", pg80, sizeof(pg80) - 1},
	{NULL, NULL, 0},
};

/* A table: the base and overrides (value NULL removes an attribute). */
struct table {
	const struct attr *base;
	const struct attr *over;
	const char *asked[32]; /* what was asked for, in order */
	size_t n_asked;
};

static const struct attr *table_find(const struct attr *a, const char *name)
{
	for (; a && a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static const char *table_get(void *arg, const char *name, size_t *ret_len)
{
	struct table *t = arg;
	const struct attr *a = table_find(t->over, name);

	if (t->n_asked < ARRAY_SIZE(t->asked))
		t->asked[t->n_asked++] = name;
	if (!a)
		a = table_find(t->base, name);
	if (!a || !a->value)
		return NULL;
	*ret_len = a->len ? a->len : strlen(a->value);
	return a->value;
}

static int info_with(const struct attr *over, struct lb_volume_info *vi, lb_err *err)
{
	struct table t = {.base = tgtd_disk, .over = over};

	lb_err_clear(err);
	return lb_kernel_disk_info_from(table_get, &t, vi, err);
}

static void test_info_tgtd_disk(void **state)
{
	struct lb_volume_info vi;
	lb_err err;

	memset(&vi, 0x5a, sizeof(vi));
	assert_int_equal(info_with(NULL, &vi, &err), 0);
	assert_true(vi.size == 1073741824ull);
	assert_int_equal(vi.block_size, 512);
	assert_int_equal(vi.physical_block_size, 512);
	assert_int_equal(vi.max_transfer, 512 * 1024);
	assert_false(vi.discard);
	assert_int_equal(vi.max_discard, 0);
	assert_false(vi.write_zeroes);
	assert_int_equal(vi.max_write_zeroes, 0);
	assert_false(vi.discard_zeroes);
	assert_true(vi.flush);
	assert_false(vi.fua);
	assert_false(vi.read_only);
	assert_string_equal(vi.vendor, "IET");
	assert_string_equal(vi.product, "VIRTUAL-DISK");
	assert_string_equal(vi.serial, "beaf11");
	assert_string_equal(vi.id, "naa.60000000000000000e00000000010001");
}

static void test_info_write_through_no_flush(void **state)
{
	static const struct attr wt[] = {{"queue/write_cache", "write through\n", 0},
					 {"queue/fua", "1\n", 0},
					 {NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(wt, &vi, NULL), 0);
	assert_false(vi.flush);
	assert_true(vi.fua);
}

static void test_info_write_cache_unknown_flushes(void **state)
{
	static const struct attr none[] = {{"queue/write_cache", NULL, 0}, {NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(none, &vi, NULL), 0);
	assert_true(vi.flush);
}

static void test_info_read_only(void **state)
{
	static const struct attr ro[] = {{"ro", "1\n", 0}, {NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(ro, &vi, NULL), 0);
	assert_true(vi.read_only);
}

/* A failure leaves *vi as it was and names the attribute. */
static void expect_eio(const struct attr *over, const char *attr)
{
	struct lb_volume_info vi, before;
	lb_err err;

	memset(&vi, 0x5a, sizeof(vi));
	before = vi;
	assert_int_equal(info_with(over, &vi, &err), -EIO);
	assert_memory_equal(&vi, &before, sizeof(vi));
	if (!strstr(err.msg, attr))
		fail_msg("error '%s' does not name %s", err.msg, attr);
}

static void test_info_missing_size(void **state)
{
	static const struct attr a[] = {{"size", NULL, 0}, {NULL, NULL, 0}};

	expect_eio(a, "size");
}

static void test_info_size_zero(void **state)
{
	static const struct attr a[] = {{"size", "0\n", 0}, {NULL, NULL, 0}};

	expect_eio(a, "size");
}

static void test_info_size_not_a_number(void **state)
{
	static const struct attr a[] = {{"size", "lots\n", 0}, {NULL, NULL, 0}};
	static const struct attr b[] = {{"size", "36028797018963968\n", 0}, {NULL, NULL, 0}};

	expect_eio(a, "size");
	expect_eio(b, "size"); /* 2^55 sectors: 2^64 bytes */
}

static void test_info_missing_block_size(void **state)
{
	static const struct attr a[] = {{"queue/logical_block_size", NULL, 0}, {NULL, NULL, 0}};

	expect_eio(a, "queue/logical_block_size");
}

static void test_info_bad_block_size(void **state)
{
	static const char *const bad[] = {"0\n", "256\n", "1000\n", "131072\n", "4k\n", "\n"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct attr a[] = {{"queue/logical_block_size", bad[i], 0}, {NULL, NULL, 0}};

		expect_eio(a, "queue/logical_block_size");
	}
}

static void test_info_size_not_whole_blocks(void **state)
{
	static const struct attr a[] = {{"queue/logical_block_size", "4096\n", 0},
					{"size", "2097151\n", 0},
					{NULL, NULL, 0}};

	expect_eio(a, "size");
}

static void test_info_block_sizes(void **state)
{
	static const struct attr b4k[] = {{"queue/logical_block_size", "4096\n", 0},
					  {"queue/physical_block_size", "4096\n", 0},
					  {NULL, NULL, 0}};
	static const struct attr b64k[] = {{"queue/logical_block_size", "65536\n", 0},
					   {"queue/physical_block_size", NULL, 0},
					   {NULL, NULL, 0}};
	static const struct attr odd_phys[] = {{"queue/physical_block_size", "1536\n", 0},
					       {NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(b4k, &vi, NULL), 0);
	assert_int_equal(vi.block_size, 4096);
	assert_int_equal(vi.physical_block_size, 4096);
	assert_int_equal(info_with(b64k, &vi, NULL), 0);
	assert_int_equal(vi.block_size, 65536);
	assert_int_equal(vi.physical_block_size, 65536); /* missing: the logical one */
	assert_int_equal(info_with(odd_phys, &vi, NULL), 0);
	assert_int_equal(vi.physical_block_size, 512); /* unusable: the logical one */
}

static void test_info_max_transfer(void **state)
{
	static const struct attr big[] = {{"queue/max_sectors_kb", "32767\n", 0}, {NULL, NULL, 0}};
	static const struct attr huge[] = {{"queue/max_sectors_kb", "18446744073709551615\n", 0},
					   {NULL, NULL, 0}};
	static const struct attr small_64k[] = {{"queue/logical_block_size", "65536\n", 0},
						{"queue/max_sectors_kb", "4\n", 0},
						{NULL, NULL, 0}};
	static const struct attr unaligned[] = {{"queue/logical_block_size", "4096\n", 0},
						{"queue/max_sectors_kb", "1023\n", 0},
						{NULL, NULL, 0}};
	static const struct attr zero[] = {{"queue/max_sectors_kb", "0\n", 0}, {NULL, NULL, 0}};
	static const struct attr none[] = {{"queue/max_sectors_kb", NULL, 0}, {NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(big, &vi, NULL), 0);
	assert_int_equal(vi.max_transfer, 8 << 20);
	assert_int_equal(info_with(huge, &vi, NULL), 0);
	assert_int_equal(vi.max_transfer, 8 << 20);
	assert_int_equal(info_with(small_64k, &vi, NULL), 0);
	assert_int_equal(vi.max_transfer, 65536); /* never 0, never below a block */
	assert_int_equal(info_with(unaligned, &vi, NULL), 0);
	assert_int_equal(vi.max_transfer, 1020 * 1024);
	assert_int_equal(info_with(zero, &vi, NULL), 0);
	assert_true(vi.max_transfer > 0 && vi.max_transfer % 512 == 0);
	assert_int_equal(info_with(none, &vi, NULL), 0);
	assert_true(vi.max_transfer > 0 && vi.max_transfer % 512 == 0);
}

static void test_info_discard_limits(void **state)
{
	static const struct attr thin[] = {{"queue/logical_block_size", "4096\n", 0},
					   {"queue/discard_max_bytes", "4294967296\n", 0},
					   {"queue/write_zeroes_max_bytes", "33550336\n", 0},
					   {NULL, NULL, 0}};
	static const struct attr tiny[] = {{"queue/logical_block_size", "4096\n", 0},
					   {"queue/discard_max_bytes", "1000\n", 0},
					   {"queue/write_zeroes_max_bytes", "4095\n", 0},
					   {NULL, NULL, 0}};
	static const struct attr unaligned[] = {{"queue/discard_max_bytes", "1000\n", 0},
						{"queue/write_zeroes_max_bytes", "1048575\n", 0},
						{NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(thin, &vi, NULL), 0);
	assert_true(vi.discard);
	assert_int_equal(vi.max_discard, UINT32_MAX - 4095); /* capped, block aligned */
	assert_true(vi.write_zeroes);
	assert_int_equal(vi.max_write_zeroes, 33550336);
	assert_false(vi.discard_zeroes);

	assert_int_equal(info_with(tiny, &vi, NULL), 0);
	assert_false(vi.discard); /* below one block: none at all */
	assert_int_equal(vi.max_discard, 0);
	assert_false(vi.write_zeroes);
	assert_int_equal(vi.max_write_zeroes, 0);

	assert_int_equal(info_with(unaligned, &vi, NULL), 0);
	assert_true(vi.discard);
	assert_int_equal(vi.max_discard, 512);
	assert_true(vi.write_zeroes);
	assert_int_equal(vi.max_write_zeroes, 1048576 - 512);
}

static void test_info_vpd_pg80(void **state)
{
	/* the page length (6) ends the serial before the NUL padding */
	static const char padded[] = "\x00\x80\x00\x06"
				     "beaf12\0\0";
	static const char short_page[] = "\x00\x80\x00";
	static const char wrong_page[] = "\x00\x83\x00\x06"
					 "beaf12";
	static const char spaces[] = "\x00\x80\x00\x0a"
				     "  beaf13  ";
	static const struct attr a[] = {{"device/vpd_pg80", padded, sizeof(padded) - 1},
					{NULL, NULL, 0}};
	static const struct attr b[] = {{"device/vpd_pg80", short_page, sizeof(short_page) - 1},
					{NULL, NULL, 0}};
	static const struct attr c[] = {{"device/vpd_pg80", wrong_page, sizeof(wrong_page) - 1},
					{NULL, NULL, 0}};
	static const struct attr d[] = {{"device/vpd_pg80", spaces, sizeof(spaces) - 1},
					{NULL, NULL, 0}};
	static const struct attr none[] = {{"device/vpd_pg80", NULL, 0}, {NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(a, &vi, NULL), 0);
	assert_string_equal(vi.serial, "beaf12");
	assert_int_equal(info_with(b, &vi, NULL), 0);
	assert_string_equal(vi.serial, "");
	assert_int_equal(info_with(c, &vi, NULL), 0);
	assert_string_equal(vi.serial, "");
	assert_int_equal(info_with(d, &vi, NULL), 0);
	assert_string_equal(vi.serial, "beaf13");
	assert_int_equal(info_with(none, &vi, NULL), 0);
	assert_string_equal(vi.serial, "");
}

static void test_info_identity_optional(void **state)
{
	static const struct attr none[] = {{"device/vendor", NULL, 0},
					   {"device/model", NULL, 0},
					   {"device/wwid", NULL, 0},
					   {"device/vpd_pg80", NULL, 0},
					   {NULL, NULL, 0}};
	static const struct attr odd[] = {{"device/vendor", "VeryLongVendorName\n", 0},
					  {"device/model",
					   "a\tb\x01"
					   "c\n",
					   0},
					  {NULL, NULL, 0}};
	struct lb_volume_info vi;

	assert_int_equal(info_with(none, &vi, NULL), 0);
	assert_string_equal(vi.vendor, "");
	assert_string_equal(vi.product, "");
	assert_string_equal(vi.serial, "");
	assert_string_equal(vi.id, "");
	assert_int_equal(info_with(odd, &vi, NULL), 0);
	assert_string_equal(vi.vendor, "VeryLong"); /* cut to the field */
	assert_string_equal(vi.product, "a?b?c");   /* printable only */
}

/* ---- libudev, against the testbed ------------------------------------- */

static void find(struct udev *u, const char *target, const char *address, uint16_t port,
		 const char *iface, struct lb_kernel_disk_session *s)
{
	lb_err err = {""};
	int r = lb_kernel_disk_find_session(u, target, address, port, iface, s, &err);

	if (r != 0)
		fail_msg("find_session: %d: %s", r, err.msg);
}

static void test_session_by_portal_and_iface(void **state)
{
	struct udev *u = *state;
	struct lb_kernel_disk_session s;

	find(u, TARGET, "10.0.2.15", 3260, "eth0-tcp", &s);
	assert_int_equal(s.sid, 1);
	assert_int_equal(s.host, 2);
	assert_string_equal(s.target, TARGET);
	assert_string_equal(s.iface, "eth0-tcp");
	assert_string_equal(s.address, "10.0.2.15");
	assert_int_equal(s.port, 3260);
	assert_string_equal(s.state, "LOGGED_IN");
	assert_string_equal(s.syspath, "/sys/devices/platform/host2/session1");
}

static void test_session_prefers_logged_in(void **state)
{
	struct udev *u = *state;
	struct lb_kernel_disk_session s;

	/* session10 (FAILED, sorts first) matches as well as session1 */
	find(u, TARGET, NULL, 0, NULL, &s);
	assert_int_equal(s.sid, 1);
	find(u, TARGET, "10.0.2.15", 0, "eth0-tcp", &s);
	assert_int_equal(s.sid, 1);
}

static void test_session_failed_is_found(void **state)
{
	struct udev *u = *state;
	struct lb_kernel_disk_session s;

	find(u, OTHER, "10.0.2.16", 3261, NULL, &s);
	assert_int_equal(s.sid, 2);
	assert_int_equal(s.host, 3);
	assert_string_equal(s.state, "FAILED");
	assert_string_equal(s.iface, "default");
	assert_string_equal(s.syspath, "/sys/devices/platform/host3/session2");
}

static void test_session_wrong_iface(void **state)
{
	struct udev *u = *state;
	struct lb_kernel_disk_session s;
	lb_err err;

	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(
		lb_kernel_disk_find_session(u, TARGET, "10.0.2.15", 3260, "eth1-tcp", &s, &err),
		-ENOENT);
	assert_string_equal(err.msg, "no open-iscsi session with " TARGET
				     " at 10.0.2.15:3260 on iface eth1-tcp");
	assert_int_equal(s.sid, 0x5a5a5a5a); /* untouched */
}

static void test_session_no_match(void **state)
{
	struct udev *u = *state;
	struct lb_kernel_disk_session s;
	lb_err err;

	assert_int_equal(lb_kernel_disk_find_session(u, TARGET, "10.0.2.15", 3261, NULL, &s, &err),
			 -ENOENT);
	assert_string_equal(err.msg, "no open-iscsi session with " TARGET " at 10.0.2.15:3261");
	assert_int_equal(lb_kernel_disk_find_session(u, TARGET, "10.0.2.16", 3260, NULL, &s, &err),
			 -ENOENT);
	assert_int_equal(lb_kernel_disk_find_session(u, TARGET "x", NULL, 0, NULL, &s, &err),
			 -ENOENT);
	assert_string_equal(err.msg, "no open-iscsi session with " TARGET "x");
	/* exact: a prefix of a target name is not that target */
	assert_int_equal(lb_kernel_disk_find_session(u, "iqn.2026-11.org.lunbridge.test", NULL, 0,
						     NULL, &s, &err),
			 -ENOENT);
	assert_int_equal(lb_kernel_disk_find_session(u, "fe80::1", "fe80::1", 3260, NULL, &s, &err),
			 -ENOENT);
	assert_string_equal(err.msg, "no open-iscsi session with fe80::1 at [fe80::1]:3260");
	assert_int_equal(lb_kernel_disk_find_session(u, "", NULL, 0, NULL, &s, &err), -EINVAL);
}

static void test_lun(void **state)
{
	struct udev *u = *state;
	struct lb_kernel_disk_session s, s10;
	char hctl[32], tiny[7];

	find(u, TARGET, "10.0.2.15", 3260, "eth0-tcp", &s);
	assert_int_equal(lb_kernel_disk_find_lun(u, &s, 1, hctl, sizeof(hctl)), 0);
	assert_string_equal(hctl, "2:0:0:1");
	assert_int_equal(lb_kernel_disk_find_lun(u, &s, 0, hctl, sizeof(hctl)), 0);
	assert_string_equal(hctl, "2:0:0:0");
	assert_int_equal(lb_kernel_disk_find_lun(u, &s, 5, hctl, sizeof(hctl)), -ENOENT);
	assert_int_equal(lb_kernel_disk_find_lun(u, &s, 1, tiny, sizeof(tiny)), -ENOBUFS);

	/* the same LUN number below another session is that session's */
	s10 = s;
	s10.sid = 10;
	s10.host = 10;
	strcpy(s10.syspath, "/sys/devices/platform/host10/session10");
	assert_int_equal(lb_kernel_disk_find_lun(u, &s10, 1, hctl, sizeof(hctl)), 0);
	assert_string_equal(hctl, "10:0:0:1");
	assert_int_equal(lb_kernel_disk_find_lun(u, &s10, 0, hctl, sizeof(hctl)), -ENOENT);

	/* a session that is gone */
	strcpy(s10.syspath, "/sys/devices/platform/host10/session11");
	assert_int_equal(lb_kernel_disk_find_lun(u, &s10, 1, hctl, sizeof(hctl)), -ENOENT);
}

static void test_disk(void **state)
{
	struct udev *u = *state;
	struct udev_device *d = NULL;

	assert_int_equal(lb_kernel_disk_find_disk(u, "2:0:0:1", &d), 0);
	assert_string_equal(udev_device_get_sysname(d), "sdb");
	assert_string_equal(udev_device_get_devnode(d), "/dev/sdb");
	assert_string_equal(udev_device_get_devtype(d), "disk");
	udev_device_unref(d);
	d = NULL;
	assert_int_equal(lb_kernel_disk_find_disk(u, "2:0:0:0", &d), -ENOTBLK);
	assert_int_equal(lb_kernel_disk_find_disk(u, "2:0:0:2", &d), -ENOENT);
	assert_int_equal(lb_kernel_disk_find_disk(u, "9:0:0:9", &d), -ENOENT);
	assert_int_equal(lb_kernel_disk_find_disk(u, "sdb", &d), -EINVAL);
	assert_null(d);
}

static void test_disk_info(void **state)
{
	struct udev *u = *state;
	struct udev_device *d = NULL;
	struct lb_volume_info vi;
	lb_err err = {""};

	assert_int_equal(lb_kernel_disk_find_disk(u, "2:0:0:1", &d), 0);
	if (lb_kernel_disk_info(d, &vi, &err) != 0)
		fail_msg("lb_kernel_disk_info: %s", err.msg);
	assert_true(vi.size == 1073741824ull);
	assert_int_equal(vi.block_size, 512);
	assert_int_equal(vi.physical_block_size, 4096);
	assert_int_equal(vi.max_transfer, 512 * 1024);
	assert_false(vi.discard);
	assert_true(vi.write_zeroes);
	assert_int_equal(vi.max_write_zeroes, 33553920);
	assert_true(vi.flush);
	assert_false(vi.fua);
	assert_false(vi.read_only);
	assert_string_equal(vi.vendor, "IET");
	assert_string_equal(vi.product, "VIRTUAL-DISK");
	assert_string_equal(vi.serial, "beaf11"); /* from the binary H: attribute */
	assert_string_equal(vi.id, "naa.60000000000000000e00000000010001");
	udev_device_unref(d);
}

static void test_disk_info_other_session(void **state)
{
	struct udev *u = *state;
	struct udev_device *d = NULL;
	struct lb_volume_info vi;

	assert_int_equal(lb_kernel_disk_find_disk(u, "3:0:0:1", &d), 0);
	assert_string_equal(udev_device_get_sysname(d), "sdc");
	assert_int_equal(lb_kernel_disk_info(d, &vi, NULL), 0);
	assert_true(vi.size == 2147483648ull);
	assert_int_equal(vi.block_size, 4096);
	assert_int_equal(vi.max_transfer, 1280 * 1024);
	assert_false(vi.discard);
	assert_false(vi.write_zeroes);
	assert_true(vi.flush); /* no write_cache attribute */
	assert_string_equal(vi.serial, "");
	udev_device_unref(d);
}

/* wait_disk, as without udevd: a node with the disk's number is enough. */
static int wait_no_udevd(struct udev *u, uint64_t lun, uint32_t ms, struct udev_device **d,
			 lb_err *err)
{
	struct lb_kernel_disk_session s;

	find(u, TARGET, "10.0.2.15", 3260, "eth0-tcp", &s);
	kernel_disk_udev_control = "/nonexistent/lunbridge-test/udev-control";
	lb_err_clear(err);
	return lb_kernel_disk_wait_disk(u, &s, lun, ms, d, err);
}

static void test_wait_present_disk(void **state)
{
	struct udev_device *d = NULL;
	lb_err err;
	int r = wait_no_udevd(*state, 1, 10000, &d, &err);

	if (r != 0)
		fail_msg("wait_disk: %d: %s", r, err.msg);
	assert_string_equal(udev_device_get_sysname(d), "sdb");
	udev_device_unref(d);
}

static void test_wait_lun_never_scanned(void **state)
{
	struct udev_device *d = NULL;
	lb_err err;

	assert_int_equal(wait_no_udevd(*state, 7, 200, &d, &err), -ETIMEDOUT);
	assert_null(d);
	if (!strstr(err.msg, "LUN 7") || !strstr(err.msg, "never scanned"))
		fail_msg("err: %s", err.msg);
}

static void test_wait_disk_never_appeared(void **state)
{
	struct udev_device *d = NULL;
	lb_err err;

	assert_int_equal(wait_no_udevd(*state, 2, 100, &d, &err), -ETIMEDOUT);
	assert_null(d);
	if (!strstr(err.msg, "2:0:0:2") || !strstr(err.msg, "disk never appeared"))
		fail_msg("err: %s", err.msg);
}

static void test_wait_not_a_disk(void **state)
{
	struct udev_device *d = NULL;
	lb_err err;

	assert_int_equal(wait_no_udevd(*state, 0, 5000, &d, &err), -ENOTBLK);
	assert_null(d);
	if (!strstr(err.msg, "2:0:0:0") || !strstr(err.msg, "type 12"))
		fail_msg("err: %s", err.msg);
}

static void test_wait_session_gone(void **state)
{
	struct lb_kernel_disk_session s;
	struct udev_device *d = NULL;
	lb_err err;

	find(*state, TARGET, "10.0.2.15", 3260, "eth0-tcp", &s);
	strcpy(s.syspath, "/sys/devices/platform/host2/session9");
	s.sid = 9;
	kernel_disk_udev_control = "/nonexistent/lunbridge-test/udev-control";
	assert_int_equal(lb_kernel_disk_wait_disk(*state, &s, 1, 5000, &d, &err), -ENODEV);
	assert_null(d);
	if (!strstr(err.msg, "session 9") || !strstr(err.msg, "gone"))
		fail_msg("err: %s", err.msg);
}

static void test_wait_zero_timeout(void **state)
{
	struct udev_device *d = NULL;
	lb_err err;

	assert_int_equal(wait_no_udevd(*state, 1, 0, &d, &err), 0); /* one look is still taken */
	udev_device_unref(d);
	d = NULL;
	assert_int_equal(wait_no_udevd(*state, 7, 0, &d, &err), -ETIMEDOUT);
}

/* With udevd, a disk counts only once udev has processed it: the mocked sdb
 * never is (see the top of this file). */
static void test_wait_udevd_needs_initialized(void **state)
{
	struct udev *u = *state;
	struct udev_device *d = NULL;
	struct lb_kernel_disk_session s;
	lb_err err = {""};

	if (access("/run/udev/data/b8:16", F_OK) == 0) {
		/* the real machine's sdb would make the mocked one look processed */
		skip();
	}
	find(u, TARGET, "10.0.2.15", 3260, "eth0-tcp", &s);
	kernel_disk_udev_control = "/";
	assert_int_equal(lb_kernel_disk_wait_disk(u, &s, 1, 200, &d, &err), -ETIMEDOUT);
	assert_null(d);
	if (!strstr(err.msg, "sdb") || !strstr(err.msg, "udev has not finished"))
		fail_msg("err: %s", err.msg);
}

static int udev_group_setup(void **state)
{
	/* the testbed, not this machine's /sys */
	if (access("/sys/class/iscsi_session/session1/targetname", R_OK) != 0 ||
	    access("/sys/class/iscsi_session/session10/targetname", R_OK) != 0) {
		fprintf(stderr, "UMOCKDEV_DIR is set, but the kernel-disk testbed is not there\n");
		return -1;
	}
	*state = udev_new();
	return *state ? 0 : -1;
}

static int udev_group_teardown(void **state)
{
	udev_unref(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_hctl_valid),
		cmocka_unit_test(test_hctl_invalid),
		cmocka_unit_test(test_info_tgtd_disk),
		cmocka_unit_test(test_info_write_through_no_flush),
		cmocka_unit_test(test_info_write_cache_unknown_flushes),
		cmocka_unit_test(test_info_read_only),
		cmocka_unit_test(test_info_missing_size),
		cmocka_unit_test(test_info_size_zero),
		cmocka_unit_test(test_info_size_not_a_number),
		cmocka_unit_test(test_info_missing_block_size),
		cmocka_unit_test(test_info_bad_block_size),
		cmocka_unit_test(test_info_size_not_whole_blocks),
		cmocka_unit_test(test_info_block_sizes),
		cmocka_unit_test(test_info_max_transfer),
		cmocka_unit_test(test_info_discard_limits),
		cmocka_unit_test(test_info_vpd_pg80),
		cmocka_unit_test(test_info_identity_optional),
	};
	const struct CMUnitTest udev[] = {
		cmocka_unit_test(test_session_by_portal_and_iface),
		cmocka_unit_test(test_session_prefers_logged_in),
		cmocka_unit_test(test_session_failed_is_found),
		cmocka_unit_test(test_session_wrong_iface),
		cmocka_unit_test(test_session_no_match),
		cmocka_unit_test(test_lun),
		cmocka_unit_test(test_disk),
		cmocka_unit_test(test_disk_info),
		cmocka_unit_test(test_disk_info_other_session),
		cmocka_unit_test(test_wait_present_disk),
		cmocka_unit_test(test_wait_lun_never_scanned),
		cmocka_unit_test(test_wait_disk_never_appeared),
		cmocka_unit_test(test_wait_not_a_disk),
		cmocka_unit_test(test_wait_session_gone),
		cmocka_unit_test(test_wait_zero_timeout),
		cmocka_unit_test(test_wait_udevd_needs_initialized),
	};
	int failed = cmocka_run_group_tests_name("kernel-disk", pure, NULL, NULL);

	if (!getenv("UMOCKDEV_DIR")) {
		printf("SKIP: the libudev tests need the umockdev testbed "
		       "(umockdev-run -d data/kernel-disk.umockdev -- %s)\n",
		       "test-kernel-disk");
		return failed;
	}
	return failed + cmocka_run_group_tests_name("kernel-disk-udev", udev, udev_group_setup,
						    udev_group_teardown);
}
