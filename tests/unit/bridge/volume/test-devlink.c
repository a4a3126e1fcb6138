/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stable device names: which volume a state file says serves a device,
 * and what a link name may carry. */
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

#include "devlink.h"
#include "runtime.h"
#include "test-helpers.h"

static char dir[64];

static int setup(void **state)
{
	assert_int_equal(test_tmpdir_new("dl", dir, sizeof(dir)), 0);
	return 0;
}

static int teardown(void **state)
{
	return test_tmpdir_remove(dir) == 0 ? 0 : -1;
}

/* NAME.json (and an unlocked NAME.lock) as a dead bridge leaves them */
static void put_state(const char *name, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s.lock", dir, name);
	assert_int_equal(test_write_file(path, ""), 0);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	assert_int_equal(test_write_file(path, text), 0);
}

static void test_find_live(void **state)
{
	struct lb_runtime_lock l = {.fd = -1};
	struct lb_devlink_props p;
	lb_err err = {{0}};

	assert_int_equal(lb_runtime_lock(dir, "a", &l, &err), 0);
	assert_int_equal(
		lb_runtime_write_state(
			&l, "{\"name\":\"a\",\"device\":\"/dev/nbd7\",\"id\":\"naa.1\"}", &err),
		0);
	/* a dead bridge's state for the same device loses to the live one */
	put_state("0dead", "{\"name\":\"0dead\",\"device\":\"/dev/nbd7\",\"id\":\"naa.2\"}");
	assert_int_equal(lb_devlink_find(dir, "nbd7", &p, &err), 1);
	assert_string_equal(p.name, "a");
	assert_string_equal(p.id, "naa.1");
	assert_int_equal(lb_devlink_find(dir, "nbd8", &p, &err), 0);
	lb_runtime_unlock(&l);
}

/* a dead bridge's state counts only while its device waits for it: an
 * NBD device bound to the volume (nbd4000 is nobody's) */
static void test_find_dead_device_gone(void **state)
{
	struct lb_devlink_props p;
	lb_err err = {{0}};

	put_state("b", "{\"name\":\"b\",\"device\":\"/dev/nbd4000\"}");
	put_state("c", "{\"name\":\"c\",\"device\":\"/dev/ublkb4000\"}");
	assert_int_equal(lb_devlink_find(dir, "nbd4000", &p, &err), 0);
	assert_int_equal(lb_devlink_find(dir, "ublkb4000", &p, &err), 0);
}

/* the name printed is the file's and a volume name: nothing else can
 * reach udev's properties */
static void test_find_name_checked(void **state)
{
	struct lb_runtime_lock l = {.fd = -1}, m = {.fd = -1};
	struct lb_devlink_props p;
	lb_err err = {{0}};

	assert_int_equal(lb_runtime_lock(dir, "d", &l, &err), 0);
	assert_int_equal(
		lb_runtime_write_state(&l, "{\"name\":\"x\",\"device\":\"/dev/nbd1\"}", &err), 0);
	assert_int_equal(lb_devlink_find(dir, "nbd1", &p, &err), 0);
	assert_int_equal(lb_runtime_lock(dir, "e", &m, &err), 0);
	assert_int_equal(lb_runtime_write_state(&m,
						"{\"name\":\"e\\nSYSTEMD_WANTS=x.service\","
						"\"device\":\"/dev/nbd2\"}",
						&err),
			 0);
	assert_int_equal(lb_devlink_find(dir, "nbd2", &p, &err), 0);
	lb_runtime_unlock(&l);
	lb_runtime_unlock(&m);
}

/* a FIFO or an oversized file in the run directory: skipped, no hang */
static void test_find_odd_files(void **state)
{
	struct lb_devlink_props p;
	lb_err err = {{0}};
	char path[128], *text = calloc(1, 80000);

	assert_non_null(text);
	snprintf(path, sizeof(path), "%s/f.json", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/g.json", dir);
	strcpy(text, "{\"name\":\"g\",\"device\":\"/dev/nbd3\",\"pad\":\"");
	memset(text + strlen(text), 'x', 70000);
	strcat(text, "\"}");
	assert_int_equal(test_write_file(path, text), 0);
	free(text);
	assert_int_equal(lb_devlink_find(dir, "nbd3", &p, &err), 0);
	assert_int_equal(lb_devlink_find(dir, "nbd0", &p, &err), 0);
}

static const char state_ublk[] =
	"{\"name\":\"vm42-root\",\"pid\":4711,\"target\":\"iqn.x:t\",\"lun\":1,"
	"\"export\":\"ublk\",\"device\":\"/dev/ublkb3\",\"state\":\"ready\","
	"\"id\":\"naa.6001405abcdef0123\"}";

static void test_match_device(void **state)
{
	struct lb_devlink_props p;

	assert_int_equal(lb_devlink_match(state_ublk, "ublkb3", &p), 1);
	assert_string_equal(p.name, "vm42-root");
	assert_string_equal(p.id, "naa.6001405abcdef0123");
}

static void test_other_device_no_match(void **state)
{
	struct lb_devlink_props p;

	assert_int_equal(lb_devlink_match(state_ublk, "ublkb30", &p), 0);
	assert_int_equal(lb_devlink_match(state_ublk, "ublkb", &p), 0);
	assert_int_equal(lb_devlink_match(state_ublk, "nbd3", &p), 0);
}

/* an NBD export on a socket, or a device already let go: no device */
static void test_no_device_no_match(void **state)
{
	struct lb_devlink_props p;

	assert_int_equal(lb_devlink_match("{\"name\":\"v\",\"device\":null}", "nbd0", &p), 0);
	assert_int_equal(lb_devlink_match("{\"name\":\"v\"}", "nbd0", &p), 0);
	assert_int_equal(lb_devlink_match("{\"name\":\"v\",\"device\":\"nbd0\"}", "nbd0", &p), 0);
}

static void test_no_id(void **state)
{
	struct lb_devlink_props p;

	assert_int_equal(lb_devlink_match("{\"name\":\"v\",\"device\":\"/dev/nbd0\",\"id\":null}",
					  "nbd0", &p),
			 1);
	assert_string_equal(p.id, "");
}

static void test_bad_state(void **state)
{
	struct lb_devlink_props p;

	assert_int_equal(lb_devlink_match("", "nbd0", &p), -EINVAL);
	assert_int_equal(lb_devlink_match("[1,2]", "nbd0", &p), -EINVAL);
	assert_int_equal(lb_devlink_match("{\"device\":\"/dev/nbd0\"}", "nbd0", &p), -EINVAL);
	assert_int_equal(lb_devlink_match("{\"name\":7,\"device\":\"/dev/nbd0\"}", "nbd0", &p),
			 -EINVAL);
	assert_int_equal(lb_devlink_match("{\"name\":\"\",\"device\":\"/dev/nbd0\"}", "nbd0", &p),
			 -EINVAL);
}

/* a target's designator can hold anything: never a '/', a space or ".." */
static void test_sanitize(void **state)
{
	char out[16];

	lb_devlink_sanitize("t10.IET VIRTUAL", out, sizeof(out));
	assert_string_equal(out, "t10.IET_VIRTUAL");
	lb_devlink_sanitize("../../etc", out, sizeof(out));
	assert_string_equal(out, ".._.._etc");
	lb_devlink_sanitize("..", out, sizeof(out));
	assert_string_equal(out, "__");
	lb_devlink_sanitize("a\xff\n:b-c_d", out, sizeof(out));
	assert_string_equal(out, "a__:b-c_d");
	lb_devlink_sanitize("0123456789abcdefXYZ", out, sizeof(out));
	assert_string_equal(out, "0123456789abcde"); /* truncated to fit */
}

/* "lunbridge-" + ID + "-part128" stays within a file name's 255 bytes */
static void test_long_id_capped(void **state)
{
	struct lb_devlink_props p;
	char state_text[700];

	snprintf(state_text, sizeof(state_text),
		 "{\"name\":\"v\",\"device\":\"/dev/nbd0\",\"id\":\"naa.%0300d\"}", 0);
	assert_int_equal(lb_devlink_match(state_text, "nbd0", &p), 1);
	assert_int_equal(strlen(p.id), LB_DEVLINK_ID_MAX);
	assert_true(strlen("lunbridge-") + strlen(p.id) + strlen("-part128") <= 255);
}

static void test_sysname(void **state)
{
	assert_true(lb_devlink_sysname_ok("ublkb0"));
	assert_true(lb_devlink_sysname_ok("nbd15"));
	assert_false(lb_devlink_sysname_ok(""));
	assert_false(lb_devlink_sysname_ok(".."));
	assert_false(lb_devlink_sysname_ok("../sda"));
	assert_false(lb_devlink_sysname_ok("nbd0/uevent"));
	assert_false(lb_devlink_sysname_ok("a:b"));
	assert_false(lb_devlink_sysname_ok("0123456789012345678901234567890123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_device),
		cmocka_unit_test(test_other_device_no_match),
		cmocka_unit_test(test_no_device_no_match),
		cmocka_unit_test(test_no_id),
		cmocka_unit_test(test_bad_state),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_long_id_capped),
		cmocka_unit_test(test_sysname),
		cmocka_unit_test_setup_teardown(test_find_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_dead_device_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_name_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_odd_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
