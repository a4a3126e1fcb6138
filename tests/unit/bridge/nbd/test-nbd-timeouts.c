/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel NBD device's timeout and attach's --device-timeout rules
 * (nbd-timeouts.h): the default, the request timeout following a given
 * device timeout, and the refusals, each with its one line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "nbd-timeouts.h"

static void test_default_floor(void **state)
{
	assert_int_equal(lb_nbd_kernel_timeout(0, 120), 180);
	assert_int_equal(lb_nbd_kernel_timeout(0, 1), 180);
}

static void test_default_follows_request(void **state)
{
	assert_int_equal(lb_nbd_kernel_timeout(0, 121), 181);
	assert_int_equal(lb_nbd_kernel_timeout(0, 600), 660);
	assert_int_equal(lb_nbd_kernel_timeout(0, UINT32_MAX), UINT32_MAX); /* no wrap */
}

static void test_given_device_timeout_wins(void **state)
{
	assert_int_equal(lb_nbd_kernel_timeout(100, 40), 100);
}

static void test_not_given_leaves_request(void **state)
{
	uint32_t req = 120;

	assert_int_equal(lb_nbd_kernel_timeouts_settle(0, &req, false, 30, NULL), 0);
	assert_int_equal(req, 120);
}

static void test_request_follows_device(void **state)
{
	uint32_t req = 120;

	assert_int_equal(lb_nbd_kernel_timeouts_settle(300, &req, false, 30, NULL), 0);
	assert_int_equal(req, 240);
	req = 120;
	assert_int_equal(lb_nbd_kernel_timeouts_settle(91, &req, false, 30, NULL), 0);
	assert_int_equal(req, 31);
}

static void test_refuse_no_room_for_command(void **state)
{
	uint32_t req = 120;
	lb_err err;

	assert_int_equal(lb_nbd_kernel_timeouts_settle(90, &req, false, 30, &err), -EINVAL);
	assert_string_equal(err.msg, "--device-timeout (90 s) leaves a request timeout of 30 s (it "
				     "follows, 60 s under), not above --command-timeout (30 s): "
				     "give at least 91 s");
	assert_int_equal(req, 120);
	assert_int_equal(lb_nbd_kernel_timeouts_settle(10, &req, false, 30, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "--device-timeout (10 s) leaves a request timeout of -50 s (it "
			    "follows, 60 s under), not above --command-timeout (30 s): "
			    "give at least 91 s");
}

static void test_both_in_order(void **state)
{
	uint32_t req = 100;

	assert_int_equal(lb_nbd_kernel_timeouts_settle(160, &req, true, 30, NULL), 0);
	assert_int_equal(req, 100);
	assert_int_equal(lb_nbd_kernel_timeouts_settle(500, &req, true, 30, NULL), 0);
	assert_int_equal(req, 100);
}

static void test_refuse_both_out_of_order(void **state)
{
	uint32_t req = 120;
	lb_err err;

	assert_int_equal(lb_nbd_kernel_timeouts_settle(179, &req, true, 30, &err), -EINVAL);
	assert_string_equal(err.msg, "--device-timeout (179 s) must be at least --request-timeout "
				     "(120 s) + 60 s: the kernel must not give a request up while "
				     "the bridge may still hold it and fence it");
	assert_int_equal(req, 120);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_floor),
		cmocka_unit_test(test_default_follows_request),
		cmocka_unit_test(test_given_device_timeout_wins),
		cmocka_unit_test(test_not_given_leaves_request),
		cmocka_unit_test(test_request_follows_device),
		cmocka_unit_test(test_refuse_no_room_for_command),
		cmocka_unit_test(test_both_in_order),
		cmocka_unit_test(test_refuse_both_out_of_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
