/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iface hardware discovery: network devices and iSCSI hosts from libudev,
 * mapped to open-iscsi's offload transports, and the checks `iface check`
 * runs before a record is used.
 *
 * Everything goes through libudev (or its sysfs paths), so a umockdev
 * testbed can stand in for the hardware.
 */
#include <ctype.h>
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hw.h"

DEFINE_CLEANUP_FUNC(struct udev, udev_unref)
DEFINE_CLEANUP_FUNC(struct udev_enumerate, udev_enumerate_unref)
DEFINE_CLEANUP_FUNC(struct udev_device, udev_device_unref)
DEFINE_CLEANUP_FUNC(iface_netdev, iface_netdev_free)
#define _cleanup_udev_ _cleanup_(udev_unrefp)
#define _cleanup_udev_enumerate_ _cleanup_(udev_enumerate_unrefp)
#define _cleanup_udev_device_ _cleanup_(udev_device_unrefp)
#define _cleanup_netdev_ _cleanup_(iface_netdev_freep)

/* ---- drivers and transports ------------------------------------------ */

/* Kernel drivers (and the scsi_host proc_names of the offload modules,
 * which is what an iSCSI host reports) to the transport they carry. */
static const struct {
	const char *driver;
	const char *transport;
} driver_map[] = {
    {"cxgb3", "cxgb3i"},      {"cxgb3i", "cxgb3i"}, {"cxgb4", "cxgb4i"}, {"cxgb4i", "cxgb4i"},
    {"bnx2", "bnx2i"},	      {"bnx2x", "bnx2i"},   {"bnx2i", "bnx2i"},	 {"qla4xxx", "qla4xxx"},
    {"be2iscsi", "be2iscsi"}, {"ocs", "ocs"},	    {"qede", "qedi"},	 {"qedi", "qedi"},
};

const char *iface_hw_transport_for_driver(const char *driver)
{
	if (!driver)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(driver_map); i++)
		if (strcmp(driver_map[i].driver, driver) == 0)
			return driver_map[i].transport;
	return NULL;
}

bool iface_hw_driver_serves(const char *driver, const char *transport)
{
	const char *t;

	if (!transport)
		return false;
	switch (iface_transport_kind_of(transport)) {
	case IFACE_TRANSPORT_TCP:
	case IFACE_TRANSPORT_ISER:
		return true;
	case IFACE_TRANSPORT_OFFLOAD:
		t = iface_hw_transport_for_driver(driver);
		return t && strcmp(t, transport) == 0;
	case IFACE_TRANSPORT_UNKNOWN:
		break;
	}
	return false;
}

/* HBAs that show no netdev of their own: only their iSCSI host has the MAC. */
static bool transport_is_hba_only(const char *transport)
{
	return strcmp(transport, "qla4xxx") == 0 || strcmp(transport, "be2iscsi") == 0 ||
	       strcmp(transport, "ocs") == 0;
}

/* The module that registers TRANSPORT. */
static const char *transport_module(const char *transport)
{
	if (strcmp(transport, "iser") == 0)
		return "ib_iser";
	return transport;
}

/* ---- small helpers ---------------------------------------------------- */

static int strdup_or_null(const char *s, char **ret)
{
	char *d = NULL;

	if (s) {
		d = strdup(s);
		if (!d)
			return -ENOMEM;
	}
	*ret = d;
	return 0;
}

/* A sysfs string attribute, NULL when absent, empty or "(null)". */
static int dup_attr(struct udev_device *d, const char *attr, char **ret)
{
	const char *v = udev_device_get_sysattr_value(d, attr);

	if (v && (!*v || strcmp(v, "(null)") == 0 || strcmp(v, "<empty>") == 0))
		v = NULL;
	return strdup_or_null(v, ret);
}

/* A MAC, lower-cased; NULL unless it is a well-formed, non-zero one. */
static int dup_mac(const char *v, char **ret)
{
	char *m;

	if (!v || !iface_mac_valid(v) || strcmp(v, "00:00:00:00:00:00") == 0) {
		*ret = NULL;
		return 0;
	}
	m = strdup(v);
	if (!m)
		return -ENOMEM;
	for (char *c = m; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	*ret = m;
	return 0;
}

/* The driver bound to D or to the nearest ancestor that has one. */
static const char *device_driver(struct udev_device *d)
{
	for (struct udev_device *p = d; p; p = udev_device_get_parent(p)) {
		const char *drv = udev_device_get_driver(p);

		if (drv && *drv)
			return drv;
	}
	return udev_device_get_property_value(d, "ID_NET_DRIVER");
}

/* Grow *ARR (of ELEM-sized items) so that it holds at least N + 1. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	p = reallocarray(*arr, c, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static int udev_open(struct udev **ret, lb_err *err)
{
	struct udev *u = udev_new();

	if (!u)
		return lb_err_set(err, errno ? errno : ENOMEM, "cannot create a udev context");
	*ret = u;
	return 0;
}

static int enumerate(struct udev *udev, const char *subsystem, struct udev_enumerate **ret,
		     lb_err *err)
{
	_cleanup_udev_enumerate_ struct udev_enumerate *e = udev_enumerate_new(udev);
	int r;

	if (!e)
		return lb_err_set(err, ENOMEM, "cannot enumerate %s devices", subsystem);
	r = udev_enumerate_add_match_subsystem(e, subsystem);
	if (r >= 0)
		r = udev_enumerate_scan_devices(e);
	if (r < 0)
		return lb_err_set(err, r, "cannot enumerate %s devices: %s", subsystem,
				  strerror(-r));
	*ret = TAKE_PTR(e);
	return 0;
}

/* ---- network devices -------------------------------------------------- */

void iface_netdev_free(iface_netdev *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->hwaddress);
	free(d->driver);
	free(d);
}

void iface_netdev_array_free(iface_netdev **devs, size_t n)
{
	if (!devs)
		return;
	for (size_t i = 0; i < n; i++)
		iface_netdev_free(devs[i]);
	free(devs);
}

static int netdev_from_udev(struct udev_device *d, iface_netdev **ret)
{
	_cleanup_netdev_ iface_netdev *nd = calloc(1, sizeof(*nd));
	int r;

	if (!nd)
		return -ENOMEM;
	r = strdup_or_null(udev_device_get_sysname(d), &nd->name);
	if (r >= 0)
		r = dup_mac(udev_device_get_sysattr_value(d, "address"), &nd->hwaddress);
	if (r >= 0)
		r = strdup_or_null(device_driver(d), &nd->driver);
	if (r < 0 || !nd->name)
		return -ENOMEM;
	nd->transport = iface_hw_transport_for_driver(nd->driver);
	*ret = TAKE_PTR(nd);
	return 0;
}

static int netdev_cmp(const void *a, const void *b)
{
	const iface_netdev *x = *(iface_netdev *const *)a, *y = *(iface_netdev *const *)b;

	return strcmp(x->name, y->name);
}

int iface_hw_scan(iface_netdev ***ret, size_t *ret_n, lb_err *err)
{
	_cleanup_udev_ struct udev *udev = NULL;
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	iface_netdev **devs = NULL;
	size_t n = 0, cap = 0;
	struct udev_list_entry *le;
	int r;

	r = udev_open(&udev, err);
	if (r < 0)
		return r;
	r = enumerate(udev, "net", &e, err);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		_cleanup_udev_device_ struct udev_device *d =
		    udev_device_new_from_syspath(udev, udev_list_entry_get_name(le));
		const char *name;

		if (!d)
			continue; /* gone since the scan */
		name = udev_device_get_sysname(d);
		if (!name || strcmp(name, "lo") == 0)
			continue;
		r = grow((void **)&devs, &cap, n, sizeof(*devs));
		if (r >= 0)
			r = netdev_from_udev(d, &devs[n]);
		if (r < 0) {
			iface_netdev_array_free(devs, n);
			return lb_err_set(err, r, "out of memory");
		}
		n++;
	}
	if (n)
		qsort(devs, n, sizeof(*devs), netdev_cmp);
	*ret = devs;
	*ret_n = n;
	return 0;
}

int iface_hw_find_netdev(const char *name, iface_netdev **ret, lb_err *err)
{
	_cleanup_udev_ struct udev *udev = NULL;
	_cleanup_udev_device_ struct udev_device *d = NULL;
	int r;

	if (!name || !*name || strchr(name, '/') || strcmp(name, "lo") == 0)
		return lb_err_set(err, ENODEV, "no network device named %s", name ? name : "");
	r = udev_open(&udev, err);
	if (r < 0)
		return r;
	d = udev_device_new_from_subsystem_sysname(udev, "net", name);
	if (!d)
		return lb_err_set(err, ENODEV, "no network device named %s", name);
	r = netdev_from_udev(d, ret);
	if (r < 0)
		return lb_err_set(err, r, "out of memory");
	return 0;
}

int iface_hw_find_hwaddress(const char *mac, iface_netdev **ret, lb_err *err)
{
	iface_netdev **devs = NULL;
	size_t n = 0;
	int r;

	if (!mac || !iface_mac_valid(mac))
		return lb_err_set(err, EINVAL, "'%s' is not a MAC address", mac ? mac : "");
	r = iface_hw_scan(&devs, &n, err);
	if (r < 0)
		return r;
	r = lb_err_set(err, ENODEV, "no network device with MAC %s", mac);
	for (size_t i = 0; i < n; i++)
		if (devs[i]->hwaddress && iface_mac_equal(devs[i]->hwaddress, mac)) {
			*ret = TAKE_PTR(devs[i]);
			lb_err_clear(err);
			r = 0;
			break;
		}
	iface_netdev_array_free(devs, n);
	return r;
}

/* ---- iSCSI hosts ------------------------------------------------------ */

void iface_iscsi_host_free(iface_iscsi_host *h)
{
	if (!h)
		return;
	free(h->name);
	free(h->hwaddress);
	free(h->ipaddress);
	free(h->netdev);
	free(h->driver);
	free(h);
}

void iface_iscsi_host_array_free(iface_iscsi_host **hosts, size_t n)
{
	if (!hosts)
		return;
	for (size_t i = 0; i < n; i++)
		iface_iscsi_host_free(hosts[i]);
	free(hosts);
}

DEFINE_CLEANUP_FUNC(iface_iscsi_host, iface_iscsi_host_free)

/*
 * The driver behind an iSCSI host: the parent device's driver when that
 * maps to a transport (cxgb4 -> cxgb4i), else the scsi_host's proc_name
 * (which the offload modules set to their own name), else whatever the
 * parent has.
 */
static int host_driver(struct udev *udev, struct udev_device *d, char **ret)
{
	_cleanup_udev_device_ struct udev_device *sh = NULL;
	const char *parent = device_driver(d);
	const char *proc = NULL;

	if (iface_hw_transport_for_driver(parent))
		return strdup_or_null(parent, ret);
	sh = udev_device_new_from_subsystem_sysname(udev, "scsi_host", udev_device_get_sysname(d));
	if (sh)
		proc = udev_device_get_sysattr_value(sh, "proc_name");
	if (proc && *proc)
		return strdup_or_null(proc, ret);
	return strdup_or_null(parent, ret);
}

static int host_from_udev(struct udev *udev, struct udev_device *d, iface_iscsi_host **ret)
{
	_cleanup_(iface_iscsi_host_freep) iface_iscsi_host *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	r = strdup_or_null(udev_device_get_sysname(d), &h->name);
	if (r >= 0)
		r = dup_mac(udev_device_get_sysattr_value(d, "hwaddress"), &h->hwaddress);
	if (r >= 0)
		r = dup_attr(d, "ipaddress", &h->ipaddress);
	if (r >= 0)
		r = dup_attr(d, "netdev", &h->netdev);
	if (r >= 0)
		r = host_driver(udev, d, &h->driver);
	if (r < 0 || !h->name)
		return -ENOMEM;
	h->transport = iface_hw_transport_for_driver(h->driver);
	*ret = TAKE_PTR(h);
	return 0;
}

static int host_cmp(const void *a, const void *b)
{
	const iface_iscsi_host *x = *(iface_iscsi_host *const *)a;
	const iface_iscsi_host *y = *(iface_iscsi_host *const *)b;

	return strcmp(x->name, y->name);
}

int iface_hw_scan_hosts(iface_iscsi_host ***ret, size_t *ret_n, lb_err *err)
{
	_cleanup_udev_ struct udev *udev = NULL;
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	iface_iscsi_host **hosts = NULL;
	size_t n = 0, cap = 0;
	struct udev_list_entry *le;
	int r;

	r = udev_open(&udev, err);
	if (r < 0)
		return r;
	r = enumerate(udev, "iscsi_host", &e, err);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		_cleanup_udev_device_ struct udev_device *d =
		    udev_device_new_from_syspath(udev, udev_list_entry_get_name(le));

		if (!d || !udev_device_get_sysname(d))
			continue;
		r = grow((void **)&hosts, &cap, n, sizeof(*hosts));
		if (r >= 0)
			r = host_from_udev(udev, d, &hosts[n]);
		if (r < 0) {
			iface_iscsi_host_array_free(hosts, n);
			return lb_err_set(err, r, "out of memory");
		}
		n++;
	}
	if (n)
		qsort(hosts, n, sizeof(*hosts), host_cmp);
	*ret = hosts;
	*ret_n = n;
	return 0;
}

/* ---- ports ------------------------------------------------------------ */

void iface_hw_port_clear(iface_hw_port *p)
{
	if (!p)
		return;
	free(p->netdev);
	free(p->host);
	free(p->hwaddress);
	free(p->driver);
	*p = (iface_hw_port){0};
}

void iface_hw_port_array_free(iface_hw_port *ports, size_t n)
{
	if (!ports)
		return;
	for (size_t i = 0; i < n; i++)
		iface_hw_port_clear(&ports[i]);
	free(ports);
}

static int port_set(iface_hw_port *p, const char *netdev, const char *host, const char *hwaddress,
		    const char *driver, const char *transport)
{
	iface_hw_port q = {.transport = transport};

	if (strdup_or_null(netdev, &q.netdev) < 0 || strdup_or_null(host, &q.host) < 0 ||
	    strdup_or_null(hwaddress, &q.hwaddress) < 0 || strdup_or_null(driver, &q.driver) < 0) {
		iface_hw_port_clear(&q);
		return -ENOMEM;
	}
	iface_hw_port_clear(p);
	*p = q;
	return 0;
}

/* Whether iSCSI host H rides on the netdev port P. */
static bool host_on_port(const iface_iscsi_host *h, const iface_hw_port *p)
{
	if (p->host || !p->transport || !h->transport || strcmp(p->transport, h->transport) != 0)
		return false;
	if (h->netdev && p->netdev && strcmp(h->netdev, p->netdev) == 0)
		return true;
	return h->hwaddress && p->hwaddress && iface_mac_equal(h->hwaddress, p->hwaddress);
}

int iface_hw_ports_merge(iface_netdev *const *devs, size_t ndevs, iface_iscsi_host *const *hosts,
			 size_t nhosts, iface_hw_port **ret, size_t *ret_n)
{
	iface_hw_port *ports;
	size_t n = 0;
	int r = 0;

	ports = calloc(ndevs + nhosts + 1, sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	for (size_t i = 0; i < ndevs && r >= 0; i++, n++)
		r = port_set(&ports[n], devs[i]->name, NULL, devs[i]->hwaddress, devs[i]->driver,
			     devs[i]->transport);
	for (size_t i = 0; i < nhosts && r >= 0; i++) {
		const iface_iscsi_host *h = hosts[i];
		iface_hw_port *p = NULL;

		for (size_t j = 0; j < ndevs && !p; j++)
			if (host_on_port(h, &ports[j]))
				p = &ports[j];
		if (p) {
			_cleanup_free_ char *netdev = TAKE_PTR(p->netdev);
			_cleanup_free_ char *driver = TAKE_PTR(p->driver);
			_cleanup_free_ char *mac = TAKE_PTR(p->hwaddress);

			r = port_set(p, netdev, h->name, h->hwaddress ? h->hwaddress : mac, driver,
				     p->transport);
		} else {
			r = port_set(&ports[n++], NULL, h->name, h->hwaddress, h->driver,
				     h->transport);
		}
	}
	if (r < 0) {
		iface_hw_port_array_free(ports, n);
		return r;
	}
	*ret = ports;
	*ret_n = n;
	return 0;
}

int iface_hw_ports(iface_hw_port **ret, size_t *ret_n, lb_err *err)
{
	iface_netdev **devs = NULL;
	iface_iscsi_host **hosts = NULL;
	size_t ndevs = 0, nhosts = 0;
	int r;

	r = iface_hw_scan(&devs, &ndevs, err);
	if (r < 0)
		return r;
	r = iface_hw_scan_hosts(&hosts, &nhosts, err);
	if (r >= 0) {
		r = iface_hw_ports_merge(devs, ndevs, hosts, nhosts, ret, ret_n);
		if (r < 0)
			r = lb_err_set(err, r, "out of memory");
	}
	iface_netdev_array_free(devs, ndevs);
	iface_iscsi_host_array_free(hosts, nhosts);
	return r;
}

/* ---- records and names ------------------------------------------------ */

const iface_rec *iface_hw_find_binding(iface_rec *const *recs, size_t n, const char *transport,
				       const char *mac)
{
	if (!transport || !mac)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *t = iface_rec_transport(recs[i]);
		const char *hw = iface_rec_hwaddress(recs[i]);

		if (t && hw && strcmp(t, transport) == 0 && iface_mac_equal(hw, mac))
			return recs[i];
	}
	return NULL;
}

int iface_hw_default_name(const char *transport, const char *hwaddress, char **ret)
{
	_cleanup_free_ char *mac = NULL;
	char *name;
	int r;

	if (!transport || !*transport || strchr(transport, '/') || !hwaddress ||
	    !iface_mac_valid(hwaddress))
		return -EINVAL;
	r = dup_mac(hwaddress, &mac);
	if (r < 0)
		return r;
	if (!mac) /* all zeroes: no port has that */
		return -EINVAL;
	if (asprintf(&name, "%s.%s", transport, mac) < 0)
		return -ENOMEM;
	if (strlen(name) > IFACE_NAME_MAX) {
		free(name);
		return -ENAMETOOLONG;
	}
	*ret = name;
	return 0;
}

bool iface_hw_transport_registered(const char *transport)
{
	_cleanup_udev_ struct udev *udev = NULL;
	_cleanup_udev_device_ struct udev_device *d = NULL;

	if (!transport || !*transport || strchr(transport, '/') || transport[0] == '.')
		return false;
	if (udev_open(&udev, NULL) < 0)
		return false;
	d = udev_device_new_from_subsystem_sysname(udev, "iscsi_transport", transport);
	return d != NULL;
}

/* ---- iface check ------------------------------------------------------ */

static int fill_from_netdev(iface_hw_port *p, const iface_netdev *d, const char *transport)
{
	return port_set(p, d->name, NULL, d->hwaddress, d->driver, transport);
}

static int fill_from_host(iface_hw_port *p, const iface_iscsi_host *h, const char *transport)
{
	return port_set(p, h->netdev, h->name, h->hwaddress, h->driver, transport);
}

static int cannot_carry(lb_err *err, const char *what, const char *driver, const char *transport)
{
	if (!driver)
		return lb_err_set(err, ENODEV, "%s has no driver, so it cannot carry %s", what,
				  transport);
	return lb_err_set(err, ENODEV, "%s is driven by %s, which cannot carry %s", what, driver,
			  transport);
}

/* A NIC for tcp or iser: by netdev name, else by MAC. */
static int check_nic(const char *netdev, const char *mac, iface_hw_port *p, lb_err *err)
{
	_cleanup_netdev_ iface_netdev *d = NULL;
	int r;

	if (netdev)
		r = iface_hw_find_netdev(netdev, &d, err);
	else
		r = iface_hw_find_hwaddress(mac, &d, err);
	if (r < 0)
		return r;
	if (fill_from_netdev(p, d, NULL) < 0)
		return lb_err_set(err, ENOMEM, "out of memory");
	if (netdev && mac && !(d->hwaddress && iface_mac_equal(d->hwaddress, mac)))
		return lb_err_set(err, ENODEV, "%s has MAC %s, not %s", d->name,
				  d->hwaddress ? d->hwaddress : "(none)", mac);
	return 0;
}

/*
 * An offload port: a netdev whose driver carries TRANSPORT, or an iSCSI
 * host of that transport, matched by MAC (or by netdev name when the record
 * names only that).
 */
static int check_offload(const char *transport, const char *netdev, const char *mac,
			 iface_hw_port *p, lb_err *err)
{
	iface_netdev **devs = NULL;
	iface_iscsi_host **hosts = NULL;
	size_t ndevs = 0, nhosts = 0;
	const iface_netdev *nd = NULL;
	const iface_iscsi_host *h = NULL, *wrong_host = NULL;
	int r;

	r = iface_hw_scan(&devs, &ndevs, err);
	if (r < 0)
		return r;
	r = iface_hw_scan_hosts(&hosts, &nhosts, err);
	if (r < 0)
		goto out;

	for (size_t i = 0; i < ndevs && !nd; i++)
		if (mac ? devs[i]->hwaddress && iface_mac_equal(devs[i]->hwaddress, mac)
			: strcmp(devs[i]->name, netdev) == 0)
			nd = devs[i];
	for (size_t i = 0; i < nhosts && !h; i++) {
		bool match = mac ? hosts[i]->hwaddress && iface_mac_equal(hosts[i]->hwaddress, mac)
				 : hosts[i]->netdev && strcmp(hosts[i]->netdev, netdev) == 0;

		if (!match)
			continue;
		if (hosts[i]->transport && strcmp(hosts[i]->transport, transport) == 0)
			h = hosts[i];
		else if (!wrong_host)
			wrong_host = hosts[i];
	}

	if (nd && iface_hw_driver_serves(nd->driver, transport))
		r = fill_from_netdev(p, nd, transport);
	else if (h)
		r = fill_from_host(p, h, transport);
	else
		r = 0;
	if (r < 0) {
		r = lb_err_set(err, r, "out of memory");
		goto out;
	}
	if ((nd && iface_hw_driver_serves(nd->driver, transport)) || h)
		goto out;

	if (nd) {
		(void)fill_from_netdev(p, nd, transport);
		r = cannot_carry(err, nd->name, nd->driver, transport);
	} else if (wrong_host) {
		(void)fill_from_host(p, wrong_host, transport);
		r = cannot_carry(err, wrong_host->name, wrong_host->driver, transport);
	} else if (!mac) {
		r = lb_err_set(err, ENODEV, "no network device named %s", netdev);
	} else if (transport_is_hba_only(transport)) {
		r = lb_err_set(err, ENODEV, "no %s iSCSI host with hwaddress %s", transport, mac);
	} else {
		r = lb_err_set(err, ENODEV, "no network device with MAC %s", mac);
	}
out:
	iface_netdev_array_free(devs, ndevs);
	iface_iscsi_host_array_free(hosts, nhosts);
	return r;
}

/* TRANSPORT as one of open-iscsi's static names, so it outlives the record. */
static const char *static_transport(const char *transport)
{
	for (const char *const *t = iface_transport_names(); t && *t; t++)
		if (strcmp(*t, transport) == 0)
			return *t;
	return NULL;
}

int iface_hw_check_port(const iface_rec *r, iface_hw_port *found, lb_err *err)
{
	iface_hw_port local = {0};
	iface_hw_port *p = found ? found : &local;
	const char *transport = iface_rec_transport(r);
	const char *netdev = iface_rec_netdev(r);
	const char *mac = iface_rec_hwaddress(r);
	iface_transport_kind kind;
	int ret = 0;

	if (!transport)
		return lb_err_set(err, EINVAL, "%s is not set", IFACE_KEY_TRANSPORT);
	kind = iface_transport_kind_of(transport);
	switch (kind) {
	case IFACE_TRANSPORT_TCP:
	case IFACE_TRANSPORT_ISER:
		if (netdev || mac)
			ret = check_nic(netdev, mac, p, err);
		break;
	case IFACE_TRANSPORT_OFFLOAD:
		if (!netdev && !mac)
			ret = lb_err_set(err, EINVAL,
					 "%s is not set: an offload iface binds to its port by MAC",
					 IFACE_KEY_HWADDRESS);
		else
			ret = check_offload(transport, netdev, mac, p, err);
		break;
	case IFACE_TRANSPORT_UNKNOWN:
		ret = lb_err_set(err, EINVAL, "unknown transport %s", transport);
		break;
	}
	if (ret >= 0 && kind != IFACE_TRANSPORT_TCP && !iface_hw_transport_registered(transport))
		ret = lb_err_set(err, ENODEV,
				 "transport %s is not registered in /sys/class/iscsi_transport "
				 "(is the %s module loaded?)",
				 transport, transport_module(transport));
	p->transport = static_transport(transport);
	iface_hw_port_clear(&local);
	return ret;
}

int iface_hw_check(const iface_rec *r, lb_err *err)
{
	return iface_hw_check_port(r, NULL, err);
}
