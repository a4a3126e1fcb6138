/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Records in memory: creation, built-ins, setting keys with their rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "iface.h"

static iface_rec *new_rec(const char *name)
{
	iface_rec *r = NULL;

	assert_int_equal(iface_rec_new(name, &r, NULL), 0);
	return r;
}

static void new_has_only_name(void **state)
{
	iface_rec *r = new_rec("r1");

	assert_string_equal(iface_rec_name(r), "r1");
	assert_string_equal(iface_rec_get(r, IFACE_KEY_NAME), "r1");
	assert_null(iface_rec_transport(r));
	assert_null(iface_rec_get(r, "iface.mtu"));
	assert_int_equal(iface_rec_binding(r), IFACE_BIND_NONE);
	iface_rec_free(r);
}

static void new_rejects_bad_name(void **state)
{
	iface_rec *r = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_rec_new("a/b", &r, &err), -EINVAL);
	assert_null(r);
}

static void builtin_records(void **state)
{
	iface_rec *r = NULL;

	assert_int_equal(iface_rec_builtin("default", &r), 0);
	assert_string_equal(iface_rec_transport(r), "tcp");
	iface_rec_free(r);
	assert_int_equal(iface_rec_builtin("iser", &r), 0);
	assert_string_equal(iface_rec_transport(r), "iser");
	iface_rec_free(r);
	r = NULL;
	assert_int_equal(iface_rec_builtin("eth0", &r), -ENOENT);
	assert_null(r);
}

static void set_and_clear(void **state)
{
	iface_rec *r = new_rec("r1");
	lb_err err = {{0}};

	assert_int_equal(iface_rec_set(r, "iface.net_ifacename", "eth0", &err), 0);
	assert_string_equal(iface_rec_netdev(r), "eth0");
	assert_int_equal(iface_rec_binding(r), IFACE_BIND_NETDEV);
	assert_int_equal(iface_rec_set(r, "iface.net_ifacename", "", &err), 0);
	assert_null(iface_rec_netdev(r));
	assert_int_equal(iface_rec_set(r, "iface.hwaddress", "00:07:43:28:B2:58", &err), 0);
	assert_int_equal(iface_rec_binding(r), IFACE_BIND_HWADDRESS);
	assert_int_equal(iface_rec_set(r, "iface.hwaddress", "<empty>", &err), 0);
	assert_null(iface_rec_hwaddress(r));
	iface_rec_free(r);
}

static void set_unknown_key(void **state)
{
	iface_rec *r = new_rec("r1");
	lb_err err = {{0}};

	assert_int_equal(iface_rec_set(r, "iface.bogus", "1", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown key 'iface.bogus'"));
	assert_int_equal(iface_rec_set(r, "node.name", "x", &err), -EINVAL);
	assert_int_equal(iface_rec_set(r, "mtu", "1500", &err), -EINVAL);
	iface_rec_free(r);
}

static void set_name_refused(void **state)
{
	iface_rec *r = new_rec("r1");
	lb_err err = {{0}};

	assert_int_equal(iface_rec_set(r, IFACE_KEY_NAME, "r2", &err), -EPERM);
	assert_string_equal(iface_rec_name(r), "r1");
	iface_rec_free(r);
}

static void set_checks_values(void **state)
{
	iface_rec *r = new_rec("r1");
	char longval[IFACE_VALUE_MAX + 2];
	lb_err err = {{0}};

	assert_int_equal(iface_rec_set(r, "iface.hwaddress", "00:07:43:28:b2", &err), -EINVAL);
	assert_int_equal(iface_rec_set(r, "iface.ipaddress", "10.0.0.300", &err), -EINVAL);
	assert_int_equal(iface_rec_set(r, "iface.transport_name", "fc", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown transport 'fc'"));
	assert_int_equal(iface_rec_set(r, "iface.net_ifacename", "way-too-long-netdev", &err),
			 -EINVAL);
	assert_int_equal(iface_rec_set(r, "iface.initiatorname", "host1", &err), -EINVAL);
	assert_int_equal(iface_rec_set(r, "iface.initiatorname", "iqn.2026-11.dev:h1", &err), 0);
	assert_int_equal(iface_rec_set(r, "iface.vlan_id", "4096", &err), -EINVAL);
	assert_int_equal(iface_rec_set(r, "iface.vlan_id", "-3", &err), -EINVAL);
	assert_int_equal(iface_rec_set(r, "iface.vlan_id", "12abc", &err), -EINVAL);
	assert_int_equal(iface_rec_set(r, "iface.vlan_id", "4095", &err), 0);
	assert_int_equal(iface_rec_set(r, "iface.bootproto", "dhcp\nx = y", &err), -EINVAL);
	memset(longval, 'x', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	assert_int_equal(iface_rec_set(r, "iface.bootproto", longval, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the limit is 255"));
	longval[IFACE_VALUE_MAX] = '\0';
	assert_int_equal(iface_rec_set(r, "iface.bootproto", longval, &err), 0);
	/* Failed sets changed nothing. */
	assert_null(iface_rec_hwaddress(r));
	assert_null(iface_rec_transport(r));
	assert_string_equal(iface_rec_get(r, "iface.vlan_id"), "4095");
	iface_rec_free(r);
}

static int collect(const char *key, const char *value, void *arg)
{
	int *n = arg;

	if (*n == 0)
		assert_string_equal(key, IFACE_KEY_NAME);
	if (strcmp(key, "iface.mtu") == 0)
		assert_string_equal(value, "0");
	(*n)++;
	return 0;
}

static void foreach_visits_every_key(void **state)
{
	iface_rec *r = new_rec("r1");
	int n = 0;

	assert_int_equal(iface_rec_foreach(r, collect, &n), 0);
	assert_int_equal(n, 55); /* the keys of iscsiadm 2.1.8 */
	iface_rec_free(r);
}

static void dup_is_deep(void **state)
{
	iface_rec *r = new_rec("r1"), *d = NULL;

	assert_int_equal(iface_rec_set(r, "iface.net_ifacename", "eth0", NULL), 0);
	assert_int_equal(iface_rec_dup(r, &d), 0);
	assert_int_equal(iface_rec_set(r, "iface.net_ifacename", "eth1", NULL), 0);
	assert_string_equal(iface_rec_netdev(d), "eth0");
	assert_string_equal(iface_rec_name(d), "r1");
	iface_rec_free(r);
	iface_rec_free(d);
	iface_rec_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_has_only_name),
		cmocka_unit_test(new_rejects_bad_name),
		cmocka_unit_test(builtin_records),
		cmocka_unit_test(set_and_clear),
		cmocka_unit_test(set_unknown_key),
		cmocka_unit_test(set_name_refused),
		cmocka_unit_test(set_checks_values),
		cmocka_unit_test(foreach_visits_every_key),
		cmocka_unit_test(dup_is_deep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
