/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iscsiadm's output and node records, as the open-iscsi engine reads and
 * edits them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "openiscsi.h"
#include "test-helpers.h"

static void target_ipv4(void **state)
{
	struct lb_openiscsi_target t;

	assert_int_equal(
		lb_openiscsi_parse_target("10.0.2.15:3260,1 iqn.2026-11.org.lunbridge.test:vm", &t),
		0);
	assert_string_equal(t.address, "10.0.2.15");
	assert_int_equal(t.port, 3260);
	assert_int_equal(t.tpgt, 1);
	assert_string_equal(t.iqn, "iqn.2026-11.org.lunbridge.test:vm");
}

static void target_ipv6(void **state)
{
	struct lb_openiscsi_target t;

	assert_int_equal(lb_openiscsi_parse_target("[fd00::1]:3261,65535 iqn.x:y\n", &t), 0);
	assert_string_equal(t.address, "fd00::1");
	assert_int_equal(t.port, 3261);
	assert_int_equal(t.tpgt, 65535);
	assert_string_equal(t.iqn, "iqn.x:y");
}

static void target_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"10.0.2.15 iqn.x",		/* no port */
		"10.0.2.15:3260 iqn.x",		/* no tpgt */
		"10.0.2.15:3260,1",		/* no name */
		"10.0.2.15:3260,1 ",		/* empty name */
		"10.0.2.15:99999,1 iqn.x",	/* port too big */
		"10.0.2.15:3260,70000 iqn.x",	/* tpgt too big */
		"10.0.2.15:32a0,1 iqn.x",	/* not a number */
		"[fd00::1:3260,1 iqn.x",	/* no closing bracket */
		"10.0.2.15:3260,1 iqn.x y",	/* a space in the name */
		"10.0.2.15:3260,1 iqn/../x",	/* a slash */
		":3260,1 iqn.x",		/* no address */
	};
	struct lb_openiscsi_target t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lb_openiscsi_parse_target(bad[i], &t), -EINVAL);
}

static void discovery_output(void **state)
{
	/* what iscsiadm prints, its messages on the way included */
	const char *out = "iscsiadm: No records found\n"
			  "10.0.2.15:3260,1 iqn.2026-11.org.lunbridge.test:a\n"
			  "127.0.0.1:3260,1 iqn.2026-11.org.lunbridge.test:a\n"
			  "[::1]:3260,1 iqn.2026-11.org.lunbridge.test:b\n";
	struct lb_openiscsi_target *t = NULL;
	size_t n = 0;

	assert_int_equal(lb_openiscsi_parse_discovery(out, &t, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(t[1].address, "127.0.0.1");
	assert_string_equal(t[2].address, "::1");
	assert_string_equal(t[2].iqn, "iqn.2026-11.org.lunbridge.test:b");
	free(t);

	assert_int_equal(lb_openiscsi_parse_discovery("", &t, &n), 0);
	assert_int_equal(n, 0);
	free(t);
	/* a record line that is broken is an error, not a skipped line */
	assert_int_equal(lb_openiscsi_parse_discovery("10.0.2.15:3260 iqn.x\n", &t, &n), -EINVAL);
}

static void last_message(void **state)
{
	char buf[128];

	lb_openiscsi_last_message(
		"System has not been booted with systemd\n"
		"iscsiadm: can not connect to iSCSI daemon (111)!\n"
		"iscsiadm: Could not perform SendTargets discovery: iSCSI driver not found\n",
		buf, sizeof(buf));
	assert_string_equal(buf, "Could not perform SendTargets discovery: iSCSI driver not found");
	lb_openiscsi_last_message("nothing of its own\n", buf, sizeof(buf));
	assert_string_equal(buf, "");
	lb_openiscsi_last_message(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");
	lb_openiscsi_last_message("iscsiadm: a long message that does not fit", buf, 10);
	assert_string_equal(buf, "a long me");
}

static void exit_codes(void **state)
{
	assert_string_equal(lb_openiscsi_exit_name(15), "ISCSI_ERR_SESS_EXISTS");
	assert_string_equal(lb_openiscsi_exit_name(24), "ISCSI_ERR_LOGIN_AUTH_FAILED");
	assert_string_equal(lb_openiscsi_exit_name(32), "ISCSI_ERR_SESSION_NOT_CONNECTED");
	assert_string_equal(lb_openiscsi_exit_name(33), "unknown");
	assert_string_equal(lb_openiscsi_exit_name(-1), "unknown");
	assert_int_equal(lb_openiscsi_exit_errno(24), -EACCES);
	assert_int_equal(lb_openiscsi_exit_errno(8), -ETIMEDOUT);
	assert_int_equal(lb_openiscsi_exit_errno(21), -ENOENT);
	assert_int_equal(lb_openiscsi_exit_errno(20), -ECONNREFUSED);
	assert_int_equal(lb_openiscsi_exit_errno(0), 0);
	assert_int_equal(lb_openiscsi_exit_errno(99), -EIO);
}

static void portal_and_path(void **state)
{
	char buf[256];

	assert_int_equal(lb_openiscsi_portal("10.0.2.15", 3260, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.2.15:3260");
	assert_int_equal(lb_openiscsi_portal("fd00::1", 3261, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "[fd00::1]:3261");
	assert_int_equal(lb_openiscsi_portal("10.0.2.15", 3260, buf, 8), -ENAMETOOLONG);

	assert_int_equal(lb_openiscsi_node_path(NULL, "iqn.x:y", "10.0.2.15", 3260, 1, "eth0-tcp",
						buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "/etc/iscsi/nodes/iqn.x:y/10.0.2.15,3260,1/eth0-tcp");
	assert_int_equal(lb_openiscsi_node_path("/n", "iqn.x", "fd00::1", 3260, 2, "default", buf,
						sizeof(buf)),
			 0);
	assert_string_equal(buf, "/n/iqn.x/fd00::1,3260,2/default");
	/* nothing that walks out of the directory */
	assert_int_equal(lb_openiscsi_node_path(NULL, "..", "a", 1, 1, "i", buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(lb_openiscsi_node_path(NULL, "iqn", "a/b", 1, 1, "i", buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(
		lb_openiscsi_node_path(NULL, "iqn", "a", 1, 1, ".hidden", buf, sizeof(buf)),
		-EINVAL);
	assert_int_equal(lb_openiscsi_node_path(NULL, "iqn", "a", 1, 1, "", buf, sizeof(buf)),
			 -EINVAL);
}

static const char record[] = "# BEGIN RECORD 2.1.8\n"
			     "node.name = iqn.x:y\n"
			     "node.session.auth.authmethod = CHAP\n"
			     "node.session.auth.password = old\n"
			     "node.session.auth.password_in=old-in\n"
			     "node.conn[0].port = 3260\n"
			     "# END RECORD\n";

static void record_set(void **state)
{
	const char *keys[] = {"node.session.auth.password", "node.session.auth.password_in"};
	const char *values[] = {"s3cret with spaces", NULL};
	char *out = NULL;

	assert_int_equal(lb_openiscsi_record_set(record, keys, values, 2, &out), 0);
	assert_string_equal(out, "# BEGIN RECORD 2.1.8\n"
				 "node.name = iqn.x:y\n"
				 "node.session.auth.authmethod = CHAP\n"
				 "node.conn[0].port = 3260\n"
				 "node.session.auth.password = s3cret with spaces\n"
				 "# END RECORD\n");
	free(out);

	/* a key that merely starts like another is not touched */
	{
		const char *k[] = {"node.session.auth.password"};
		const char *v[] = {"x"};

		assert_int_equal(lb_openiscsi_record_set("node.session.auth.password_in = keep\n",
							 k, v, 1, &out),
				 0);
		assert_string_equal(out, "node.session.auth.password_in = keep\n"
					 "node.session.auth.password = x\n");
		free(out);
		/* no END RECORD and no final newline: appended on a line of its own */
		assert_int_equal(lb_openiscsi_record_set("a = b", k, v, 1, &out), 0);
		assert_string_equal(out, "a = b\nnode.session.auth.password = x\n");
		free(out);
	}
	/* a value of two lines would forge a key: refused */
	{
		const char *k[] = {"node.session.auth.password"};
		const char *v[] = {"x\nnode.startup = automatic"};

		assert_int_equal(lb_openiscsi_record_set(record, k, v, 1, &out), -EINVAL);
	}
}

static void node_file_set(void **state)
{
	char dir[64], path[96], *text;
	const char *keys[] = {"node.session.auth.password"};
	const char *values[] = {"new-secret"};
	struct stat st;
	lb_err err = {{0}};

	assert_int_equal(test_tmpdir_new("oi", dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/default", dir);
	assert_int_equal(test_write_file(path, record), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(lb_openiscsi_node_file_set(path, keys, values, 1, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* a secret is in it now */
	text = test_read_file(path, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "node.session.auth.password = new-secret\n# END RECORD\n"));
	assert_null(strstr(text, "= old\n"));
	free(text);
	/* nothing else was left in the directory */
	{
		char tmp[96];

		snprintf(tmp, sizeof(tmp), "%s/.default.lunbridge", dir);
		assert_int_equal(access(tmp, F_OK), -1);
	}
	/* a missing record is an error that names it */
	snprintf(path, sizeof(path), "%s/nope", dir);
	assert_int_equal(lb_openiscsi_node_file_set(path, keys, values, 1, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "nope"));
	assert_int_equal(test_tmpdir_remove(dir), 0);
}

static void run_missing_program(void **state)
{
	/* PATH without iscsiadm: one clear error */
	const char *argv[] = {"iscsiadm", "-m", "session", NULL};
	struct lb_openiscsi_result res;
	lb_err err = {{0}};
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(lb_openiscsi_run(argv, 5000, &res, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "iscsiadm is not installed"));
	if (old)
		setenv("PATH", old, 1);
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(target_ipv4),	  cmocka_unit_test(target_ipv6),
		cmocka_unit_test(target_bad),	  cmocka_unit_test(discovery_output),
		cmocka_unit_test(last_message),	  cmocka_unit_test(exit_codes),
		cmocka_unit_test(portal_and_path), cmocka_unit_test(record_set),
		cmocka_unit_test(node_file_set),  cmocka_unit_test(run_missing_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
