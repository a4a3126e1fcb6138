/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "cleanup.h"
#include "hw.h"

void iscsi_binding_clear(struct iscsi_binding *b)
{
	if (!b)
		return;
	free(b->initiator_name);
	memset(b, 0, sizeof(*b));
}

int iscsi_binding_resolve(const iface_rec *r, const char *initiatorname_path,
			  struct iscsi_binding *ret, lb_err *err)
{
	struct iscsi_binding b = {0};
	const char *name = iface_rec_name(r), *transport = iface_rec_transport(r);
	const char *netdev = iface_rec_netdev(r), *mac = iface_rec_hwaddress(r);
	const char *iname = iface_rec_initiatorname(r);
	lb_err e;
	int rc;

	snprintf(b.iface, sizeof(b.iface), "%s", name);
	switch (iface_transport_kind_of(transport)) {
	case IFACE_TRANSPORT_TCP:
		break;
	case IFACE_TRANSPORT_ISER:
	case IFACE_TRANSPORT_OFFLOAD:
		return lb_err_set(err, EOPNOTSUPP,
				  "iface '%s': transport '%s' runs in the kernel and is served "
				  "by the open-iscsi engine, not by lunbridge's tcp initiator",
				  name, transport);
	default:
		return lb_err_set(err, EINVAL, "iface '%s': unknown transport '%s'", name,
				  transport ? transport : "(none)");
	}
	rc = iface_rec_validate(r, IFACE_VALIDATE_USE, &e);
	if (rc < 0)
		return lb_err_set(err, rc, "iface '%s': %s", name, e.msg);

	switch (iface_rec_binding(r)) {
	case IFACE_BIND_NETDEV:
		if (strlen(netdev) >= sizeof(b.netdev))
			return lb_err_set(err, EINVAL,
					  "iface '%s': network device name '%s' is too long", name,
					  netdev);
		if (if_nametoindex(netdev) == 0)
			return lb_err_set(err, ENODEV,
					  "iface '%s': network device '%s' does not exist", name,
					  netdev);
		snprintf(b.netdev, sizeof(b.netdev), "%s", netdev);
		break;
	case IFACE_BIND_HWADDRESS: {
		iface_netdev *dev = NULL;

		rc = iface_hw_find_hwaddress(mac, &dev, &e);
		if (rc < 0)
			return lb_err_set(err, rc, "iface '%s': no network device with MAC %s",
					  name, mac);
		snprintf(b.netdev, sizeof(b.netdev), "%s", dev->name);
		iface_netdev_free(dev);
		break;
	}
	case IFACE_BIND_NONE:
	default:
		break;
	}

	if (iface_rec_ipaddress(r)) {
		if (strlen(iface_rec_ipaddress(r)) >= sizeof(b.source_addr))
			return lb_err_set(err, EINVAL, "iface '%s': iface.ipaddress is too long",
					  name);
		snprintf(b.source_addr, sizeof(b.source_addr), "%s", iface_rec_ipaddress(r));
	}

	if (iname && iname[0]) {
		b.initiator_name = strdup(iname);
		if (!b.initiator_name)
			return lb_err_set(err, ENOMEM, "out of memory");
	} else {
		rc = iface_default_initiatorname(initiatorname_path, &b.initiator_name, &e);
		if (rc < 0)
			return lb_err_set(err, rc,
					  "iface '%s' names no initiator and the default is "
					  "unavailable: %s",
					  name, e.msg);
	}
	*ret = b;
	return 0;
}
