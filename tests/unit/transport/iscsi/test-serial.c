/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RFC 1982 serial number arithmetic, SERIAL_BITS = 32. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "serial.h"

static void test_simple_order(void **state)
{
	assert_true(iscsi_sn_lt(1, 2));
	assert_false(iscsi_sn_lt(2, 1));
	assert_true(iscsi_sn_gt(2, 1));
	assert_false(iscsi_sn_lt(5, 5));
	assert_true(iscsi_sn_le(5, 5));
	assert_true(iscsi_sn_ge(5, 5));
}

static void test_wraparound(void **state)
{
	assert_true(iscsi_sn_lt(0xffffffff, 0));
	assert_true(iscsi_sn_gt(0, 0xffffffff));
	assert_true(iscsi_sn_lt(0xfffffff0, 0x10));
	assert_false(iscsi_sn_gt(0xfffffff0, 0x10));
}

static void test_just_under_half(void **state)
{
	assert_true(iscsi_sn_lt(0, 0x7fffffff));
	assert_true(iscsi_sn_gt(0x7fffffff, 0));
	assert_true(iscsi_sn_lt(0x80000001, 0)); /* distance 2^31-1 the other way */
}

static void test_exactly_half_is_unordered(void **state)
{
	assert_false(iscsi_sn_lt(0, 0x80000000));
	assert_false(iscsi_sn_gt(0, 0x80000000));
	assert_false(iscsi_sn_lt(0x80000000, 0));
	assert_false(iscsi_sn_gt(0x80000000, 0));
	assert_false(iscsi_sn_le(0, 0x80000000));
}

static void test_add(void **state)
{
	assert_int_equal(iscsi_sn_add(0xffffffff, 1), 0);
	assert_int_equal(iscsi_sn_add(10, 0xffffffff), 10u + 0x7fffffffu); /* clamped */
}

static void test_in_window(void **state)
{
	assert_true(iscsi_sn_in_window(5, 5, 10));
	assert_true(iscsi_sn_in_window(10, 5, 10));
	assert_false(iscsi_sn_in_window(11, 5, 10));
	assert_false(iscsi_sn_in_window(4, 5, 10));
	assert_true(iscsi_sn_in_window(0, 0xfffffffe, 2));
}

static void test_cmd_window_validity(void **state)
{
	assert_true(iscsi_sn_window_valid(10, 20));
	assert_true(iscsi_sn_window_valid(10, 9)); /* closed window */
	assert_false(iscsi_sn_window_valid(10, 8));
	assert_true(iscsi_sn_window_valid(0, 0xffffffff)); /* closed, across the wrap */
}

static void test_window_room(void **state)
{
	assert_int_equal(iscsi_sn_window_room(10, 20), 11);
	assert_int_equal(iscsi_sn_window_room(10, 9), 0);
	assert_int_equal(iscsi_sn_window_room(0xffffffff, 1), 3);
	assert_int_equal(iscsi_sn_window_room(0, 0x80000000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_order),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_just_under_half),
		cmocka_unit_test(test_exactly_half_is_unordered),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_in_window),
		cmocka_unit_test(test_cmd_window_validity),
		cmocka_unit_test(test_window_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
