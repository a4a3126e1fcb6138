/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iface hardware discovery: network devices and iSCSI hosts from libudev,
 * merged into the ports `iface generate` and `iface check` see.
 *
 * Everything goes through libudev (or its sysfs paths), so a umockdev
 * testbed can stand in for the hardware.
 */
#include <errno.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hw-internal.h"


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

int iface_hw_udev_open(struct udev **ret, lb_err *err)
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
		r = iface_hw_dup_mac(udev_device_get_sysattr_value(d, "address"), &nd->hwaddress);
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

	r = iface_hw_udev_open(&udev, err);
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

	if (name && strcmp(name, "lo") == 0)
		return lb_err_set(err, ENODEV, "lo is the loopback device; an iface cannot bind to it");
	if (!name || !*name || strchr(name, '/'))
		return lb_err_set(err, ENODEV, "no network device named %s", name ? name : "");
	r = iface_hw_udev_open(&udev, err);
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
		r = iface_hw_dup_mac(udev_device_get_sysattr_value(d, "hwaddress"), &h->hwaddress);
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

	r = iface_hw_udev_open(&udev, err);
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

int iface_hw_port_set(iface_hw_port *p, const char *netdev, const char *host, const char *hwaddress,
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
		r = iface_hw_port_set(&ports[n], devs[i]->name, NULL, devs[i]->hwaddress,
				      devs[i]->driver, devs[i]->transport);
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

			r = iface_hw_port_set(p, netdev, h->name, h->hwaddress ? h->hwaddress : mac,
					      driver, p->transport);
		} else {
			r = iface_hw_port_set(&ports[n++], NULL, h->name, h->hwaddress, h->driver,
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

/* ---- records ---------------------------------------------------------- */

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
