/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stable device names: which volume a state file says serves a device,
 * and what a link name may carry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "devlink.h"

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
		cmocka_unit_test(test_sysname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
