/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iface/hw-scan.c: driver mapping, default names, bindings, port merging. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "cleanup.h"
#include "hw.h"

/* ---- driver -> transport --------------------------------------------- */

static void test_transport_for_driver(void **state)
{
	static const char *const map[][2] = {
	    {"cxgb3", "cxgb3i"},
	    {"cxgb4", "cxgb4i"},
	    {"bnx2", "bnx2i"},
	    {"bnx2x", "bnx2i"},
	    {"qla4xxx", "qla4xxx"},
	    {"be2iscsi", "be2iscsi"},
	    {"ocs", "ocs"},
	    {"qedi", "qedi"},
	    {"qede", "qedi"},
	    /* scsi_host proc_names of the offload modules */
	    {"cxgb4i", "cxgb4i"},
	    {"bnx2i", "bnx2i"},
	    {"cxgb3i", "cxgb3i"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		assert_string_equal(iface_hw_transport_for_driver(map[i][0]), map[i][1]);
}

static void test_transport_for_plain_driver(void **state)
{
	assert_null(iface_hw_transport_for_driver("virtio_net"));
	assert_null(iface_hw_transport_for_driver("e1000e"));
	assert_null(iface_hw_transport_for_driver("mlx5_core"));
	assert_null(iface_hw_transport_for_driver(""));
	assert_null(iface_hw_transport_for_driver(NULL));
	/* exact names only */
	assert_null(iface_hw_transport_for_driver("CXGB4"));
	assert_null(iface_hw_transport_for_driver("cxgb4vf"));
}

static void test_driver_serves_offload(void **state)
{
	assert_true(iface_hw_driver_serves("cxgb4", "cxgb4i"));
	assert_true(iface_hw_driver_serves("bnx2x", "bnx2i"));
	assert_true(iface_hw_driver_serves("bnx2", "bnx2i"));
	assert_true(iface_hw_driver_serves("qede", "qedi"));
	assert_false(iface_hw_driver_serves("cxgb4", "cxgb3i"));
	assert_false(iface_hw_driver_serves("cxgb4", "bnx2i"));
	assert_false(iface_hw_driver_serves("virtio_net", "cxgb4i"));
	assert_false(iface_hw_driver_serves(NULL, "cxgb4i"));
}

static void test_driver_serves_tcp_and_iser(void **state)
{
	assert_true(iface_hw_driver_serves("virtio_net", "tcp"));
	assert_true(iface_hw_driver_serves("cxgb4", "tcp"));
	assert_true(iface_hw_driver_serves(NULL, "tcp"));
	assert_true(iface_hw_driver_serves("mlx5_core", "iser"));
}

static void test_driver_serves_unknown_transport(void **state)
{
	assert_false(iface_hw_driver_serves("cxgb4", NULL));
	assert_false(iface_hw_driver_serves("cxgb4", "bogus"));
	assert_false(iface_hw_driver_serves("cxgb4", "cxgb4"));
}

/* ---- default names ----------------------------------------------------- */

static void test_default_name(void **state)
{
	_cleanup_free_ char *name = NULL;

	assert_int_equal(iface_hw_default_name("cxgb4i", "00:07:43:28:b2:58", &name), 0);
	assert_string_equal(name, "cxgb4i.00:07:43:28:b2:58");
}

static void test_default_name_lowercases_mac(void **state)
{
	_cleanup_free_ char *name = NULL;

	assert_int_equal(iface_hw_default_name("bnx2i", "00:10:18:AB:CD:EF", &name), 0);
	assert_string_equal(name, "bnx2i.00:10:18:ab:cd:ef");
}

static void test_default_name_rejects(void **state)
{
	char *name = (char *)"untouched";

	assert_int_equal(iface_hw_default_name("cxgb4i", "00:07:43:28:b2", &name), -EINVAL);
	assert_int_equal(iface_hw_default_name("cxgb4i", "not-a-mac", &name), -EINVAL);
	assert_int_equal(iface_hw_default_name("cxgb4i", NULL, &name), -EINVAL);
	assert_int_equal(iface_hw_default_name(NULL, "00:07:43:28:b2:58", &name), -EINVAL);
	assert_int_equal(iface_hw_default_name("", "00:07:43:28:b2:58", &name), -EINVAL);
	assert_int_equal(iface_hw_default_name("a/b", "00:07:43:28:b2:58", &name), -EINVAL);
	assert_int_equal(iface_hw_default_name("cxgb4i", "00:00:00:00:00:00", &name), -EINVAL);
	assert_string_equal(name, "untouched");
}

static void test_default_name_is_a_valid_record_name(void **state)
{
	_cleanup_free_ char *name = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_hw_default_name("be2iscsi", "00:90:fa:01:02:03", &name), 0);
	assert_int_equal(iface_name_check(name, &err), 0);
}

/* ---- which record binds a port ----------------------------------------- */

static iface_rec *rec(const char *name, const char *transport, const char *hw)
{
	iface_rec *r = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_rec_new(name, &r, &err), 0);
	if (transport)
		assert_int_equal(iface_rec_set(r, IFACE_KEY_TRANSPORT, transport, &err), 0);
	if (hw)
		assert_int_equal(iface_rec_set(r, IFACE_KEY_HWADDRESS, hw, &err), 0);
	return r;
}

static void free_recs(iface_rec **recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		iface_rec_free(recs[i]);
}

static void test_find_binding_any_name_any_case(void **state)
{
	iface_rec *recs[] = {
	    rec("default-like", "tcp", NULL),
	    rec("mychelsio", "cxgb4i", "00:07:43:28:B2:58"),
	};

	const iface_rec *b =
	    iface_hw_find_binding(recs, ARRAY_SIZE(recs), "cxgb4i", "00:07:43:28:b2:58");
	assert_non_null(b);
	assert_string_equal(iface_rec_name(b), "mychelsio");
	free_recs(recs, ARRAY_SIZE(recs));
}

static void test_find_binding_needs_same_transport(void **state)
{
	iface_rec *recs[] = {
	    rec("tcp-on-chelsio", "tcp", "00:07:43:28:b2:58"),
	    rec("other-port", "cxgb4i", "00:07:43:28:b2:59"),
	};

	assert_null(iface_hw_find_binding(recs, ARRAY_SIZE(recs), "cxgb4i", "00:07:43:28:b2:58"));
	free_recs(recs, ARRAY_SIZE(recs));
}

static void test_find_binding_empty(void **state)
{
	assert_null(iface_hw_find_binding(NULL, 0, "cxgb4i", "00:07:43:28:b2:58"));
}

/* ---- netdevs + iSCSI hosts -> ports ------------------------------------- */

static iface_netdev nd(const char *name, const char *hw, const char *driver)
{
	return (iface_netdev){
	    .name = (char *)name,
	    .hwaddress = (char *)hw,
	    .driver = (char *)driver,
	    .transport = iface_hw_transport_for_driver(driver),
	};
}

static iface_iscsi_host host(const char *name, const char *hw, const char *netdev,
			     const char *driver)
{
	return (iface_iscsi_host){
	    .name = (char *)name,
	    .hwaddress = (char *)hw,
	    .netdev = (char *)netdev,
	    .driver = (char *)driver,
	    .transport = iface_hw_transport_for_driver(driver),
	};
}

static void assert_port(const iface_hw_port *p, const char *netdev, const char *hostname,
			const char *hw, const char *transport)
{
	if (netdev)
		assert_string_equal(p->netdev, netdev);
	else
		assert_null(p->netdev);
	if (hostname)
		assert_string_equal(p->host, hostname);
	else
		assert_null(p->host);
	if (hw)
		assert_string_equal(p->hwaddress, hw);
	else
		assert_null(p->hwaddress);
	if (transport)
		assert_string_equal(p->transport, transport);
	else
		assert_null(p->transport);
}

static void test_merge_host_on_its_netdev_by_mac(void **state)
{
	iface_netdev d0 = nd("eth0", "02:fc:00:00:00:01", "virtio_net");
	iface_netdev d1 = nd("eth1", "00:07:43:28:b2:58", "cxgb4");
	iface_iscsi_host h5 = host("host5", "00:07:43:28:b2:58", NULL, "cxgb4i");
	iface_netdev *devs[] = {&d0, &d1};
	iface_iscsi_host *hosts[] = {&h5};
	iface_hw_port *ports = NULL;
	size_t n = 0;

	assert_int_equal(iface_hw_ports_merge(devs, 2, hosts, 1, &ports, &n), 0);
	assert_int_equal(n, 2);
	assert_port(&ports[0], "eth0", NULL, "02:fc:00:00:00:01", NULL);
	assert_port(&ports[1], "eth1", "host5", "00:07:43:28:b2:58", "cxgb4i");
	iface_hw_port_array_free(ports, n);
}

/* bnx2i's iSCSI MAC differs from the L2 one; the host names its netdev. */
static void test_merge_host_by_netdev_takes_host_mac(void **state)
{
	iface_netdev d2 = nd("eth2", "00:10:18:ab:cd:ef", "bnx2x");
	iface_iscsi_host h6 = host("host6", "00:10:18:ab:cd:f0", "eth2", "bnx2x");
	iface_netdev *devs[] = {&d2};
	iface_iscsi_host *hosts[] = {&h6};
	iface_hw_port *ports = NULL;
	size_t n = 0;

	assert_int_equal(iface_hw_ports_merge(devs, 1, hosts, 1, &ports, &n), 0);
	assert_int_equal(n, 1);
	assert_port(&ports[0], "eth2", "host6", "00:10:18:ab:cd:f0", "bnx2i");
	iface_hw_port_array_free(ports, n);
}

static void test_merge_hba_without_netdev(void **state)
{
	iface_netdev d0 = nd("eth0", "02:fc:00:00:00:01", "virtio_net");
	iface_iscsi_host h7 = host("host7", "00:0e:1e:00:00:07", NULL, "qla4xxx");
	iface_netdev *devs[] = {&d0};
	iface_iscsi_host *hosts[] = {&h7};
	iface_hw_port *ports = NULL;
	size_t n = 0;

	assert_int_equal(iface_hw_ports_merge(devs, 1, hosts, 1, &ports, &n), 0);
	assert_int_equal(n, 2);
	assert_port(&ports[0], "eth0", NULL, "02:fc:00:00:00:01", NULL);
	assert_port(&ports[1], NULL, "host7", "00:0e:1e:00:00:07", "qla4xxx");
	assert_string_equal(ports[1].driver, "qla4xxx");
	iface_hw_port_array_free(ports, n);
}

/* Same MAC, different transport: two ports, not one. */
static void test_merge_needs_same_transport(void **state)
{
	iface_netdev d0 = nd("eth0", "00:07:43:28:b2:58", "virtio_net");
	iface_iscsi_host h5 = host("host5", "00:07:43:28:b2:58", "eth0", "cxgb4i");
	iface_netdev *devs[] = {&d0};
	iface_iscsi_host *hosts[] = {&h5};
	iface_hw_port *ports = NULL;
	size_t n = 0;

	assert_int_equal(iface_hw_ports_merge(devs, 1, hosts, 1, &ports, &n), 0);
	assert_int_equal(n, 2);
	assert_port(&ports[0], "eth0", NULL, "00:07:43:28:b2:58", NULL);
	assert_port(&ports[1], NULL, "host5", "00:07:43:28:b2:58", "cxgb4i");
	iface_hw_port_array_free(ports, n);
}

static void test_merge_nothing(void **state)
{
	iface_hw_port *ports = NULL;
	size_t n = 7;

	assert_int_equal(iface_hw_ports_merge(NULL, 0, NULL, 0, &ports, &n), 0);
	assert_int_equal(n, 0);
	iface_hw_port_array_free(ports, n);
}

/* ---- transport registration and checks without hardware ---------------- */

static void test_transport_registered_rejects_paths(void **state)
{
	assert_false(iface_hw_transport_registered(NULL));
	assert_false(iface_hw_transport_registered(""));
	assert_false(iface_hw_transport_registered("../iscsi_host"));
	assert_false(iface_hw_transport_registered("."));
}

static void test_check_unbound_tcp_is_ok(void **state)
{
	iface_rec *r = rec("plain", "tcp", NULL);
	iface_hw_port p = {0};
	lb_err err = {{0}};

	assert_int_equal(iface_hw_check_port(r, &p, &err), 0);
	assert_null(p.netdev);
	assert_null(p.host);
	assert_string_equal(p.transport, "tcp");
	iface_hw_port_clear(&p);
	iface_rec_free(r);
}

static void test_check_missing_netdev(void **state)
{
	iface_rec *r = rec("gone", "tcp", NULL);
	lb_err err = {{0}};

	assert_int_equal(iface_rec_set(r, IFACE_KEY_NETDEV, "lbnosuchdev0", &err), 0);
	assert_int_equal(iface_hw_check(r, &err), -ENODEV);
	assert_string_equal(err.msg, "no network device named lbnosuchdev0");
	iface_rec_free(r);
}

static void test_check_offload_needs_a_binding(void **state)
{
	iface_rec *r = rec("unbound-chelsio", "cxgb4i", NULL);
	lb_err err = {{0}};

	assert_int_equal(iface_hw_check(r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "iface.hwaddress"));
	iface_rec_free(r);
}

static void test_find_netdev_rejects_paths(void **state)
{
	iface_netdev *d = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_hw_find_netdev("../lo", &d, &err), -ENODEV);
	assert_int_equal(iface_hw_find_netdev("lo", &d, &err), -ENODEV);
	assert_null(d);
}

static void test_find_hwaddress_rejects_bad_mac(void **state)
{
	iface_netdev *d = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_hw_find_hwaddress("eth0", &d, &err), -EINVAL);
	assert_null(d);
}

static void test_free_null(void **state)
{
	iface_netdev_free(NULL);
	iface_netdev_array_free(NULL, 0);
	iface_iscsi_host_free(NULL);
	iface_iscsi_host_array_free(NULL, 0);
	iface_hw_port_clear(NULL);
	iface_hw_port_array_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transport_for_driver),
	    cmocka_unit_test(test_transport_for_plain_driver),
	    cmocka_unit_test(test_driver_serves_offload),
	    cmocka_unit_test(test_driver_serves_tcp_and_iser),
	    cmocka_unit_test(test_driver_serves_unknown_transport),
	    cmocka_unit_test(test_default_name),
	    cmocka_unit_test(test_default_name_lowercases_mac),
	    cmocka_unit_test(test_default_name_rejects),
	    cmocka_unit_test(test_default_name_is_a_valid_record_name),
	    cmocka_unit_test(test_find_binding_any_name_any_case),
	    cmocka_unit_test(test_find_binding_needs_same_transport),
	    cmocka_unit_test(test_find_binding_empty),
	    cmocka_unit_test(test_merge_host_on_its_netdev_by_mac),
	    cmocka_unit_test(test_merge_host_by_netdev_takes_host_mac),
	    cmocka_unit_test(test_merge_hba_without_netdev),
	    cmocka_unit_test(test_merge_needs_same_transport),
	    cmocka_unit_test(test_merge_nothing),
	    cmocka_unit_test(test_transport_registered_rejects_paths),
	    cmocka_unit_test(test_check_unbound_tcp_is_ok),
	    cmocka_unit_test(test_check_missing_netdev),
	    cmocka_unit_test(test_check_offload_needs_a_binding),
	    cmocka_unit_test(test_find_netdev_rejects_paths),
	    cmocka_unit_test(test_find_hwaddress_rejects_bad_mac),
	    cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
