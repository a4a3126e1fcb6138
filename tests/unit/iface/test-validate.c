/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules a record must pass before it is stored, and before it is used. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "iface.h"

static iface_rec *parse(const char *text)
{
	iface_rec *r = NULL;

	assert_int_equal(iface_rec_parse("r1", text, strlen(text), &r, NULL), 0);
	return r;
}

static int check(const char *text, iface_validate_mode mode, lb_err *err)
{
	iface_rec *r = parse(text);
	int rc = iface_rec_validate(r, mode, err);

	iface_rec_free(r);
	return rc;
}

static void needs_transport(void **state)
{
	lb_err err = {{0}};

	assert_int_equal(check("iface.net_ifacename = eth0\n", IFACE_VALIDATE_STORE, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "no iface.transport_name"));
}

static void unknown_transport(void **state)
{
	lb_err err = {{0}};

	assert_int_equal(check("iface.transport_name = fcoe\n", IFACE_VALIDATE_STORE, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "unknown transport 'fcoe'"));
}

static void tcp_bindings(void **state)
{
	assert_int_equal(check("iface.transport_name = tcp\n", IFACE_VALIDATE_USE, NULL), 0);
	assert_int_equal(check("iface.transport_name = tcp\niface.net_ifacename = eth0\n",
			       IFACE_VALIDATE_USE, NULL),
			 0);
	assert_int_equal(check("iface.transport_name = tcp\niface.hwaddress = 52:54:00:12:34:56\n",
			       IFACE_VALIDATE_USE, NULL),
			 0);
}

static void tcp_with_ipaddress(void **state)
{
	lb_err err = {{0}};

	/* iscsiadm stores it; our tcp initiator binds it as the source */
	assert_int_equal(check("iface.transport_name = tcp\niface.ipaddress = 10.0.0.5\n",
			       IFACE_VALIDATE_STORE, &err),
			 0);
	assert_int_equal(check("iface.transport_name = tcp\niface.ipaddress = 10.0.0.5\n",
			       IFACE_VALIDATE_USE, &err),
			 0);
}

static void ipaddress_needed_only_for_use(void **state)
{
	const char *bnx2i = "iface.transport_name = bnx2i\niface.hwaddress = 00:10:18:aa:bb:cc\n";
	lb_err err = {{0}};

	assert_int_equal(check(bnx2i, IFACE_VALIDATE_STORE, &err), 0);
	assert_int_equal(check(bnx2i, IFACE_VALIDATE_USE, &err), -EINVAL);
	assert_string_equal(err.msg, "transport bnx2i needs iface.ipaddress");
	assert_int_equal(check("iface.transport_name = qedi\niface.hwaddress = 00:10:18:aa:bb:cc\n"
			       "iface.ipaddress = 10.1.1.2\n",
			       IFACE_VALIDATE_USE, &err),
			 0);
}

static void offload_needs_hwaddress(void **state)
{
	lb_err err = {{0}};

	assert_int_equal(check("iface.transport_name = cxgb4i\n", IFACE_VALIDATE_STORE, &err), 0);
	assert_int_equal(check("iface.transport_name = cxgb4i\n", IFACE_VALIDATE_USE, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "needs iface.hwaddress"));
}

static void malformed_values_in_file(void **state)
{
	lb_err err = {{0}};

	assert_int_equal(check("iface.transport_name = tcp\niface.hwaddress = aa:bb\n",
			       IFACE_VALIDATE_STORE, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'aa:bb' is not a MAC address"));
	assert_int_equal(check("iface.transport_name = cxgb4i\niface.ipaddress = 10.1\n",
			       IFACE_VALIDATE_STORE, &err),
			 -EINVAL);
	assert_int_equal(check("iface.transport_name = tcp\niface.mtu = abc\n",
			       IFACE_VALIDATE_STORE, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "iface.mtu"));
}

static void iser_unbound_is_fine(void **state)
{
	assert_int_equal(check("iface.transport_name = iser\n", IFACE_VALIDATE_USE, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(needs_transport),
		cmocka_unit_test(unknown_transport),
		cmocka_unit_test(tcp_bindings),
		cmocka_unit_test(tcp_with_ipaddress),
		cmocka_unit_test(ipaddress_needed_only_for_use),
		cmocka_unit_test(offload_needs_hwaddress),
		cmocka_unit_test(malformed_values_in_file),
		cmocka_unit_test(iser_unbound_is_fine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
