/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Record names, MAC and IP syntax, transports. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "iface.h"

static void name_limits(void **state)
{
	char name[IFACE_NAME_MAX + 2];
	lb_err err = {{0}};

	memset(name, 'a', IFACE_NAME_MAX);
	name[IFACE_NAME_MAX] = '\0';
	assert_int_equal(iface_name_check(name, &err), 0);
	name[IFACE_NAME_MAX] = 'a';
	name[IFACE_NAME_MAX + 1] = '\0';
	assert_int_equal(iface_name_check(name, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "65 characters"));
	assert_int_equal(iface_name_check("x", NULL), 0);
	assert_int_equal(iface_name_check("", &err), -EINVAL);
	assert_int_equal(iface_name_check(NULL, &err), -EINVAL);
}

static void name_characters(void **state)
{
	lb_err err = {{0}};

	assert_int_equal(iface_name_check("cxgb4i.00:07:43:28:b2:58", &err), 0);
	assert_int_equal(iface_name_check("a/b", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'/'"));
	assert_int_equal(iface_name_check("a b", &err), -EINVAL);
	assert_int_equal(iface_name_check("..", &err), -EINVAL);
	assert_int_equal(iface_name_check(".hidden", &err), -EINVAL);
	assert_int_equal(iface_name_check("tab\there", &err), -EINVAL);
}

static void builtins(void **state)
{
	assert_true(iface_name_is_builtin("default"));
	assert_true(iface_name_is_builtin("iser"));
	assert_false(iface_name_is_builtin("Default"));
	assert_false(iface_name_is_builtin("eth0"));
}

static void mac_syntax(void **state)
{
	assert_true(iface_mac_valid("00:07:43:28:b2:58"));
	assert_true(iface_mac_valid("00:07:43:28:B2:58"));
	assert_false(iface_mac_valid("00:07:43:28:b2"));
	assert_false(iface_mac_valid("00-07-43-28-b2-58"));
	assert_false(iface_mac_valid("00:07:43:28:b2:5g"));
	assert_false(iface_mac_valid("00:07:43:28:b2:58:"));
	assert_false(iface_mac_valid(NULL));
	assert_true(iface_mac_equal("00:07:43:28:B2:58", "00:07:43:28:b2:58"));
	assert_false(iface_mac_equal("00:07:43:28:b2:59", "00:07:43:28:b2:58"));
	assert_false(iface_mac_equal("zz", "zz"));
}

static void ip_syntax(void **state)
{
	assert_true(iface_ip_valid("10.0.0.5"));
	assert_true(iface_ip_valid("fd00::5"));
	assert_false(iface_ip_valid("10.0.0.256"));
	assert_false(iface_ip_valid("10.0.0"));
	assert_false(iface_ip_valid("host.example"));
	assert_false(iface_ip_valid(""));
}

static void transports(void **state)
{
	assert_int_equal(iface_transport_kind_of("tcp"), IFACE_TRANSPORT_TCP);
	assert_int_equal(iface_transport_kind_of("iser"), IFACE_TRANSPORT_ISER);
	for (const char *const *t = iface_transport_names(); *t; t++)
		assert_int_not_equal(iface_transport_kind_of(*t), IFACE_TRANSPORT_UNKNOWN);
	assert_int_equal(iface_transport_kind_of("cxgb4i"), IFACE_TRANSPORT_OFFLOAD);
	assert_int_equal(iface_transport_kind_of("qedi"), IFACE_TRANSPORT_OFFLOAD);
	assert_int_equal(iface_transport_kind_of("TCP"), IFACE_TRANSPORT_UNKNOWN);
	assert_int_equal(iface_transport_kind_of(NULL), IFACE_TRANSPORT_UNKNOWN);
	assert_true(iface_transport_needs_ipaddress("bnx2i"));
	assert_true(iface_transport_needs_ipaddress("qedi"));
	assert_false(iface_transport_needs_ipaddress("cxgb4i"));
	assert_false(iface_transport_needs_ipaddress("tcp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_limits), cmocka_unit_test(name_characters),
		cmocka_unit_test(builtins),    cmocka_unit_test(mac_syntax),
		cmocka_unit_test(ip_syntax),   cmocka_unit_test(transports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
