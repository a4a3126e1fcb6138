/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds a block device, against a fake /proc and /sys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "holders.h"
#include "test-helpers.h"

static char dir[64], proc[128], sys[128];

static void mk(const char *rel)
{
	char path[256], *p;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		(void)mkdir(path, 0755);
		*p = '/';
	}
	(void)mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(test_write_file(path, text), 0);
}

static int setup(void **state)
{
	assert_int_equal(test_tmpdir_new("hold", dir, sizeof(dir)), 0);
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(sys, sizeof(sys), "%s/sys", dir);
	mk("sys/class/block/nbd0/nbd0p1/holders");
	mk("sys/class/block/nbd0/holders");
	put("sys/class/block/nbd0/dev", "43:0\n");
	put("sys/class/block/nbd0/nbd0p1/dev", "43:1\n");
	mk("proc/self");
	put("proc/self/mountinfo", "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
				   "30 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
	return 0;
}

static int teardown(void **state)
{
	return test_tmpdir_remove(dir) == 0 ? 0 : -1;
}

static int holder(const char *name, pid_t ignore, char *buf, size_t len)
{
	struct lb_holders_root root = {proc, sys};

	return lb_device_holder(&root, name, ignore, buf, len);
}

static void test_not_held(void **state)
{
	char buf[256] = "";

	assert_int_equal(holder("nbd0", 0, buf, sizeof(buf)), 0);
}

static void test_mounted_partition(void **state)
{
	char buf[256] = "";

	put("proc/self/mountinfo",
	    "22 1 0:21 / /proc rw - proc proc rw\n"
	    "41 30 43:1 / /mnt/vm rw,relatime shared:9 - xfs /dev/nbd0p1 rw\n");
	assert_int_equal(holder("nbd0", 0, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "nbd0p1 is mounted on /mnt/vm (xfs)");
}

static void test_mounted_disk(void **state)
{
	char buf[256] = "";

	put("proc/self/mountinfo", "41 30 43:0 / /srv rw - ext4 /dev/nbd0 rw\n");
	assert_int_equal(holder("nbd0", 0, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "nbd0 is mounted on /srv (ext4)");
	/* another device's numbers are not ours */
	put("proc/self/mountinfo", "41 30 43:16 / /srv rw - ext4 /dev/nbd1 rw\n");
	assert_int_equal(holder("nbd0", 0, buf, sizeof(buf)), 0);
}

static void test_stacked(void **state)
{
	char buf[256] = "";

	mk("sys/class/block/nbd0/holders/dm-3");
	assert_int_equal(holder("nbd0", 0, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "nbd0 is held by dm-3");
}

static void test_open_by_process(void **state)
{
	char buf[256] = "", path[256];

	mk("proc/4242/fd");
	put("proc/4242/comm", "qemu-system-x86\n");
	snprintf(path, sizeof(path), "%s/proc/4242/fd/7", dir);
	assert_int_equal(symlink("/dev/nbd0p1", path), 0);
	snprintf(path, sizeof(path), "%s/proc/4242/fd/3", dir);
	assert_int_equal(symlink("/dev/nbd01", path), 0); /* another name's prefix */
	assert_int_equal(holder("nbd0", 0, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "nbd0p1 is open by process 4242 (qemu-system-x86)");
	/* the bridge itself does not count */
	assert_int_equal(holder("nbd0", 4242, buf, sizeof(buf)), 0);
}

static void test_bad(void **state)
{
	char buf[256];

	assert_int_equal(holder("nbd9", 0, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(holder("../nbd0", 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(holder("", 0, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounted_partition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounted_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stacked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_by_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
