/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How an iface record binds a session of our tcp initiator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bind.h"
#include "test-helpers.h"

static char dir[64], iname_file[96];

static int setup(void **state)
{
	if (test_tmpdir_new("bind", dir, sizeof(dir)) < 0)
		return -1;
	snprintf(iname_file, sizeof(iname_file), "%s/initiatorname.iscsi", dir);
	if (test_write_file(iname_file,
			    "## generated\nInitiatorName=iqn.2026-11.org.example:host\n") < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	return test_tmpdir_remove(dir) < 0 ? -1 : 0;
}

static iface_rec *rec(const char *name, const char *k1, const char *v1, const char *k2,
		      const char *v2)
{
	iface_rec *r = NULL;

	assert_int_equal(iface_rec_new(name, &r, NULL), 0);
	assert_int_equal(iface_rec_set(r, "iface.transport_name", "tcp", NULL), 0);
	if (k1)
		assert_int_equal(iface_rec_set(r, k1, v1, NULL), 0);
	if (k2)
		assert_int_equal(iface_rec_set(r, k2, v2, NULL), 0);
	return r;
}

static void test_default_is_unbound(void **state)
{
	struct iscsi_binding b;
	iface_rec *r = NULL;

	assert_int_equal(iface_rec_builtin("default", &r), 0);
	assert_int_equal(iscsi_binding_resolve(r, iname_file, &b, NULL), 0);
	assert_string_equal(b.iface, "default");
	assert_string_equal(b.netdev, "");
	assert_string_equal(b.initiator_name, "iqn.2026-11.org.example:host");
	iscsi_binding_clear(&b);
	iface_rec_free(r);
}

static void test_netdev_binds(void **state)
{
	iface_rec *r = rec("lo0", "iface.net_ifacename", "lo", NULL, NULL);
	struct iscsi_binding b;

	assert_int_equal(iscsi_binding_resolve(r, iname_file, &b, NULL), 0);
	assert_string_equal(b.netdev, "lo");
	iscsi_binding_clear(&b);
	iface_rec_free(r);
}

static void test_missing_netdev(void **state)
{
	iface_rec *r = rec("gone", "iface.net_ifacename", "nosuchnic7", NULL, NULL);
	struct iscsi_binding b;
	lb_err err;

	assert_int_equal(iscsi_binding_resolve(r, iname_file, &b, &err), -ENODEV);
	assert_string_equal(err.msg, "iface 'gone': network device 'nosuchnic7' does not exist");
	iface_rec_free(r);
}

static void test_record_initiatorname_wins(void **state)
{
	iface_rec *r =
		rec("named", "iface.initiatorname", "iqn.2026-11.org.example:other", NULL, NULL);
	struct iscsi_binding b;

	assert_int_equal(iscsi_binding_resolve(r, iname_file, &b, NULL), 0);
	assert_string_equal(b.initiator_name, "iqn.2026-11.org.example:other");
	iscsi_binding_clear(&b);
	iface_rec_free(r);
}

static void test_no_initiatorname_anywhere(void **state)
{
	iface_rec *r = rec("plain", NULL, NULL, NULL, NULL);
	struct iscsi_binding b;
	lb_err err;

	assert_true(iscsi_binding_resolve(r, "/nonexistent/initiatorname.iscsi", &b, &err) < 0);
	assert_non_null(strstr(err.msg, "iface 'plain' names no initiator"));
	iface_rec_free(r);
}

static void test_offload_refused(void **state)
{
	iface_rec *r = rec("cxgb4i.00:07:43:28:b2:58", "iface.transport_name", "cxgb4i",
			   "iface.hwaddress", "00:07:43:28:b2:58");
	struct iscsi_binding b;
	lb_err err;

	assert_int_equal(iscsi_binding_resolve(r, iname_file, &b, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "served by the open-iscsi engine"));
	iface_rec_free(r);
}

static void test_iser_refused(void **state)
{
	iface_rec *r = NULL;
	struct iscsi_binding b;
	lb_err err;

	assert_int_equal(iface_rec_builtin("iser", &r), 0);
	assert_int_equal(iscsi_binding_resolve(r, iname_file, &b, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "transport 'iser'"));
	iface_rec_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_unbound),
		cmocka_unit_test(test_netdev_binds),
		cmocka_unit_test(test_missing_netdev),
		cmocka_unit_test(test_record_initiatorname_wins),
		cmocka_unit_test(test_no_initiatorname_anywhere),
		cmocka_unit_test(test_offload_refused),
		cmocka_unit_test(test_iser_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
