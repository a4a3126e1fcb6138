/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iface check: whether the hardware behind a record is there, its driver
 * serves the record's transport, and that transport is registered with
 * the kernel.
 */
#include <errno.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hw-internal.h"

bool iface_hw_transport_registered(const char *transport)
{
	_cleanup_udev_ struct udev *udev = NULL;
	_cleanup_udev_device_ struct udev_device *d = NULL;

	if (!transport || !*transport || strchr(transport, '/') || transport[0] == '.')
		return false;
	if (iface_hw_udev_open(&udev, NULL) < 0)
		return false;
	d = udev_device_new_from_subsystem_sysname(udev, "iscsi_transport", transport);
	return d != NULL;
}

/* ---- iface check ------------------------------------------------------ */

static int fill_from_netdev(iface_hw_port *p, const iface_netdev *d, const char *transport)
{
	return iface_hw_port_set(p, d->name, NULL, d->hwaddress, d->driver, transport);
}

static int fill_from_host(iface_hw_port *p, const iface_iscsi_host *h, const char *transport)
{
	return iface_hw_port_set(p, h->netdev, h->name, h->hwaddress, h->driver, transport);
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
	} else if (iface_hw_transport_is_hba_only(transport)) {
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
	int ret;

	/* The rules for use first: after them the transport is known and an
	 * offload record names its port by hwaddress. */
	ret = iface_rec_validate(r, IFACE_VALIDATE_USE, err);
	if (ret < 0)
		return ret;
	kind = iface_transport_kind_of(transport);
	switch (kind) {
	case IFACE_TRANSPORT_TCP:
	case IFACE_TRANSPORT_ISER:
		if (netdev || mac)
			ret = check_nic(netdev, mac, p, err);
		break;
	case IFACE_TRANSPORT_OFFLOAD:
		ret = check_offload(transport, netdev, mac, p, err);
		break;
	case IFACE_TRANSPORT_UNKNOWN: /* refused by iface_rec_validate() */
		break;
	}
	if (ret >= 0 && kind != IFACE_TRANSPORT_TCP && !iface_hw_transport_registered(transport))
		ret = lb_err_set(err, ENODEV,
				 "transport %s is not registered in /sys/class/iscsi_transport "
				 "(is the %s module loaded?)",
				 transport, iface_hw_transport_module(transport));
	p->transport = static_transport(transport);
	iface_hw_port_clear(&local);
	return ret;
}

int iface_hw_check(const iface_rec *r, lb_err *err)
{
	return iface_hw_check_port(r, NULL, err);
}
