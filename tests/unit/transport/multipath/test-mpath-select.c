/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "mpath-internal.h"

#define OPT(...)                                                                                   \
	{                                                                                          \
		.usable = true, .rank = 0, __VA_ARGS__                                             \
	}
#define NONOPT(...)                                                                                \
	{                                                                                          \
		.usable = true, .rank = 1, __VA_ARGS__                                             \
	}
#define DOWN                                                                                       \
	{                                                                                          \
		.usable = false                                                                    \
	}

static void test_rank(void **state)
{
	(void)state;
	assert_int_equal(mp_alua_rank(SCSI_ALUA_OPTIMIZED), 0);
	assert_int_equal(mp_alua_rank(SCSI_ALUA_NON_OPTIMIZED), 1);
	assert_int_equal(mp_alua_rank(SCSI_ALUA_LBA_DEPENDENT), 1);
	assert_int_equal(mp_alua_rank(SCSI_ALUA_STANDBY), -1);
	assert_int_equal(mp_alua_rank(SCSI_ALUA_UNAVAILABLE), -1);
	assert_int_equal(mp_alua_rank(SCSI_ALUA_OFFLINE), -1);
	assert_int_equal(mp_alua_rank(SCSI_ALUA_TRANSITIONING), -1);
}

/* optimized wins over non-optimized whatever the policy */
static void test_optimized_first(void **state)
{
	struct mp_choice c[] = {NONOPT(), OPT(), NONOPT()};
	unsigned cur = 0;

	(void)state;
	for (int pol = LB_MPATH_FAILOVER; pol <= LB_MPATH_QUEUE_LENGTH; pol++)
		for (int k = 0; k < 4; k++)
			assert_int_equal(mp_select(c, 3, (enum lb_mpath_policy)pol, &cur), 1);
}

static void test_non_optimized_when_no_optimized(void **state)
{
	struct mp_choice c[] = {DOWN, NONOPT(), DOWN};
	unsigned cur = 0;

	(void)state;
	assert_int_equal(mp_select(c, 3, LB_MPATH_ROUND_ROBIN, &cur), 1);
	c[1].usable = false; /* standby, unavailable, down: nothing */
	assert_int_equal(mp_select(c, 3, LB_MPATH_ROUND_ROBIN, &cur), -1);
	assert_int_equal(mp_select(c, 0, LB_MPATH_ROUND_ROBIN, &cur), -1);
}

static void test_round_robin(void **state)
{
	struct mp_choice c[] = {OPT(), NONOPT(), OPT(), OPT()};
	unsigned cur = 0;

	(void)state;
	assert_int_equal(mp_select(c, 4, LB_MPATH_ROUND_ROBIN, &cur), 2);
	assert_int_equal(mp_select(c, 4, LB_MPATH_ROUND_ROBIN, &cur), 3);
	assert_int_equal(mp_select(c, 4, LB_MPATH_ROUND_ROBIN, &cur), 0);
	assert_int_equal(mp_select(c, 4, LB_MPATH_ROUND_ROBIN, &cur), 2);
}

static void test_failover_sticks(void **state)
{
	struct mp_choice c[] = {OPT(), OPT()};
	unsigned cur = 1;

	(void)state;
	/* one path at a time: the current one while it is in the best group */
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 1);
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 1);
	c[1].usable = false;
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 0);
	c[1].usable = true; /* back: failover does not flap to it */
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 0);
	c[0].rank = 1; /* but a better group wins (failback) */
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 1);
}

static void test_queue_length(void **state)
{
	struct mp_choice c[] = {OPT(.inflight = 5), OPT(.inflight = 2), OPT(.inflight = 9),
				NONOPT(.inflight = 0)};
	unsigned cur = 0;

	(void)state;
	assert_int_equal(mp_select(c, 4, LB_MPATH_QUEUE_LENGTH, &cur), 1);
	c[1].inflight = 5; /* tie between 0 and 1: round from the last choice */
	assert_int_equal(mp_select(c, 4, LB_MPATH_QUEUE_LENGTH, &cur), 0);
	assert_int_equal(mp_select(c, 4, LB_MPATH_QUEUE_LENGTH, &cur), 1);
}

static void test_failback_delay(void **state)
{
	struct mp_choice c[] = {OPT(.settling = true), NONOPT()};
	unsigned cur = 1;

	(void)state;
	/* the optimized path is back but settling: the non-optimized serves */
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 1);
	c[1].usable = false; /* nothing else: a settling path serves */
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 0);
	c[1].usable = true;
	c[0].settling = false; /* settled: failback */
	assert_int_equal(mp_select(c, 2, LB_MPATH_FAILOVER, &cur), 0);
}

static void test_parse(void **state)
{
	enum lb_mpath_policy p;
	uint32_t ms;

	(void)state;
	assert_int_equal(lb_mpath_policy_parse("queue-length", &p), 0);
	assert_int_equal(p, LB_MPATH_QUEUE_LENGTH);
	assert_int_equal(lb_mpath_policy_parse("round-robin", &p), 0);
	assert_string_equal(lb_mpath_policy_name(p), "round-robin");
	assert_int_equal(lb_mpath_policy_parse("service-time", &p), -EINVAL);
	assert_int_equal(lb_mpath_failback_parse("immediate", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(lb_mpath_failback_parse("30", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(lb_mpath_failback_parse("-1", &ms), -EINVAL);
	assert_int_equal(lb_mpath_failback_parse("5s", &ms), -EINVAL);
	assert_int_equal(lb_mpath_failback_parse("", &ms), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_optimized_first),
		cmocka_unit_test(test_non_optimized_when_no_optimized),
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_failover_sticks),
		cmocka_unit_test(test_queue_length),
		cmocka_unit_test(test_failback_delay),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
