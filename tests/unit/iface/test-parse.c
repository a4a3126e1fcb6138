/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading record files as iscsiadm writes them, and as people edit them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "iface.h"

static iface_rec *parse_ok(const char *text)
{
	iface_rec *r = NULL;
	lb_err err = {{0}};
	int rc = iface_rec_parse("r1", text, strlen(text), &r, &err);

	if (rc < 0)
		fail_msg("parse failed: %s", err.msg);
	return r;
}

static int parse_err(const char *text, size_t len, lb_err *err)
{
	iface_rec *r = NULL;
	int rc = iface_rec_parse("r1", text, len, &r, err);

	assert_null(r);
	return rc;
}

static void iscsiadm_file(void **state)
{
	iface_rec *r = parse_ok("# BEGIN RECORD 2.1.8\n"
				"iface.iscsi_ifacename = r1\n"
				"iface.hwaddress = 00:07:43:28:B2:58\n"
				"iface.transport_name = cxgb4i\n"
				"iface.vlan_id = 0\n"
				"iface.mtu = 9000\n"
				"# END RECORD\n");

	assert_string_equal(iface_rec_transport(r), "cxgb4i");
	assert_string_equal(iface_rec_hwaddress(r), "00:07:43:28:B2:58");
	assert_string_equal(iface_rec_get(r, "iface.mtu"), "9000");
	assert_null(iface_rec_netdev(r));
	iface_rec_free(r);
}

static void loose_whitespace_and_comments(void **state)
{
	iface_rec *r = parse_ok("\n  # a comment\n\tiface.transport_name=tcp  \r\n"
				"iface.net_ifacename   =   eth1\n\n");

	assert_string_equal(iface_rec_transport(r), "tcp");
	assert_string_equal(iface_rec_netdev(r), "eth1");
	iface_rec_free(r);
}

static void empty_marker_means_unset(void **state)
{
	iface_rec *r = parse_ok("iface.transport_name = tcp\niface.hwaddress = <empty>\n"
				"iface.ipaddress =\n");

	assert_null(iface_rec_hwaddress(r));
	assert_null(iface_rec_ipaddress(r));
	iface_rec_free(r);
}

static void last_value_wins(void **state)
{
	iface_rec *r = parse_ok("iface.transport_name = tcp\niface.transport_name = iser\n");

	assert_string_equal(iface_rec_transport(r), "iser");
	iface_rec_free(r);
}

static void unknown_keys_kept(void **state)
{
	iface_rec *r = parse_ok("iface.transport_name = tcp\niface.future_b = 2\n"
				"iface.future_a = 1\n");

	assert_string_equal(iface_rec_get(r, "iface.future_b"), "2");
	assert_string_equal(iface_rec_get(r, "iface.future_a"), "1");
	iface_rec_free(r);
}

static void missing_separator(void **state)
{
	lb_err err = {{0}};
	const char *t = "iface.transport_name = tcp\niface.hwaddress\n";

	assert_int_equal(parse_err(t, strlen(t), &err), -EINVAL);
	assert_string_equal(err.msg, "line 2: no '=' between key and value");
}

static void non_iface_key(void **state)
{
	lb_err err = {{0}};
	const char *t = "node.name = iqn.2026-11.x:y\n";

	assert_int_equal(parse_err(t, strlen(t), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'node.name' is not an iface key"));
	t = "iface. = x\n";
	assert_int_equal(parse_err(t, strlen(t), &err), -EINVAL);
	t = " = x\n";
	assert_int_equal(parse_err(t, strlen(t), &err), -EINVAL);
}

static void name_mismatch(void **state)
{
	lb_err err = {{0}};
	const char *t = "iface.iscsi_ifacename = other\niface.transport_name = tcp\n";

	assert_int_equal(parse_err(t, strlen(t), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "does not match the file name 'r1'"));
}

static void nul_byte(void **state)
{
	lb_err err = {{0}};
	const char t[] = "iface.transport_name = tcp\n\0iface.mtu = 1\n";

	assert_int_equal(parse_err(t, sizeof(t) - 1, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void overlong_value(void **state)
{
	char t[400];
	lb_err err = {{0}};

	strcpy(t, "iface.bootproto = ");
	memset(t + strlen(t), 'x', 300);
	t[18 + 300] = '\0';
	assert_int_equal(parse_err(t, strlen(t), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "value longer than 255"));
}

static void no_trailing_newline(void **state)
{
	iface_rec *r = parse_ok("iface.transport_name = tcp");

	assert_string_equal(iface_rec_transport(r), "tcp");
	iface_rec_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iscsiadm_file),
		cmocka_unit_test(loose_whitespace_and_comments),
		cmocka_unit_test(empty_marker_means_unset),
		cmocka_unit_test(last_value_wins),
		cmocka_unit_test(unknown_keys_kept),
		cmocka_unit_test(missing_separator),
		cmocka_unit_test(non_iface_key),
		cmocka_unit_test(name_mismatch),
		cmocka_unit_test(nul_byte),
		cmocka_unit_test(overlong_value),
		cmocka_unit_test(no_trailing_newline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
