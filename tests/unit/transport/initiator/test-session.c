/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The session's pure parts: buffer windows for zero-copy I/O, argument
 * checks, and commands refused before login.  The protocol itself is
 * tested against tgtd (tests/integration/transport). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "session-internal.h"

static void test_slice_inside_one(void **state)
{
	uint8_t a[100];
	struct iovec iov[1] = {{a, sizeof(a)}}, out[4];

	assert_int_equal(iscsi_iov_slice(iov, 1, 10, 20, out, 4), 1);
	assert_ptr_equal(out[0].iov_base, a + 10);
	assert_int_equal(out[0].iov_len, 20);
}

static void test_slice_across_three(void **state)
{
	uint8_t a[10], b[10], c[10];
	struct iovec iov[3] = {{a, 10}, {b, 10}, {c, 10}}, out[4];

	assert_int_equal(iscsi_iov_slice(iov, 3, 5, 20, out, 4), 3);
	assert_ptr_equal(out[0].iov_base, a + 5);
	assert_int_equal(out[0].iov_len, 5);
	assert_ptr_equal(out[1].iov_base, b);
	assert_int_equal(out[1].iov_len, 10);
	assert_ptr_equal(out[2].iov_base, c);
	assert_int_equal(out[2].iov_len, 5);
}

static void test_slice_past_end(void **state)
{
	uint8_t a[10];
	struct iovec iov[1] = {{a, 10}}, out[2];

	assert_int_equal(iscsi_iov_slice(iov, 1, 5, 6, out, 2), -EINVAL);
	assert_int_equal(iscsi_iov_slice(iov, 1, 11, 1, out, 2), -EINVAL);
}

static void test_slice_too_many_pieces(void **state)
{
	uint8_t a[4], b[4], c[4];
	struct iovec iov[3] = {{a, 4}, {b, 4}, {c, 4}}, out[2];

	assert_int_equal(iscsi_iov_slice(iov, 3, 0, 12, out, 2), -EINVAL);
}

static void test_new_checks_config(void **state)
{
	struct iscsi_session_config cfg;
	struct iscsi_session *s = NULL;
	struct lb_loop loop;
	lb_err err;

	assert_int_equal(lb_loop_init(&loop, 8, 0), 0);
	iscsi_session_config_init(&cfg);
	cfg.initiator_name = "iqn.2026-11.org.example:i";
	assert_int_equal(iscsi_session_new(&loop, &cfg, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "no portal address");
	cfg.host = "127.0.0.1";
	cfg.max_tasks = 0;
	assert_int_equal(iscsi_session_new(&loop, &cfg, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "queue depth 0 is not within 1..4096");
	assert_null(s);
	lb_loop_exit(&loop);
}

static void test_submit_before_login(void **state)
{
	struct iscsi_session_config cfg;
	struct iscsi_session *s = NULL;
	struct iscsi_cmd cmd = {.cdb_len = 6};
	struct lb_loop loop;

	assert_int_equal(lb_loop_init(&loop, 8, 0), 0);
	iscsi_session_config_init(&cfg);
	cfg.host = "127.0.0.1";
	cfg.initiator_name = "iqn.2026-11.org.example:i";
	assert_int_equal(iscsi_session_new(&loop, &cfg, &s, NULL), 0);
	assert_int_equal(iscsi_session_get_state(s), ISCSI_SESSION_IDLE);
	assert_int_equal(iscsi_session_submit(s, &cmd), -ENOTCONN);
	/* a data length without a direction, a CDB too long */
	cmd.length = 512;
	assert_int_equal(iscsi_session_submit(s, &cmd), -EINVAL);
	cmd.length = 0;
	cmd.cdb_len = 17;
	assert_int_equal(iscsi_session_submit(s, &cmd), -EINVAL);
	iscsi_session_free(s);
	lb_loop_exit(&loop);
}

static void test_state_names(void **state)
{
	assert_string_equal(iscsi_session_state_name(ISCSI_SESSION_RECOVERING), "recovering");
	assert_string_equal(iscsi_session_state_name(ISCSI_SESSION_FULL_FEATURE), "logged in");
	assert_string_equal(iscsi_session_state_name((iscsi_session_state)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slice_inside_one),
		cmocka_unit_test(test_slice_across_three),
		cmocka_unit_test(test_slice_past_end),
		cmocka_unit_test(test_slice_too_many_pieces),
		cmocka_unit_test(test_new_checks_config),
		cmocka_unit_test(test_submit_before_login),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
