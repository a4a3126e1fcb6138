/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules an iface record must pass before it is stored or used. */
#include <errno.h>
#include <string.h>

#include "iface-internal.h"

static int check_values(const iface_rec *r, lb_err *err)
{
	for (size_t i = 1; i < iface_nkeys; i++) {
		if (!r->values[i])
			continue;
		int rc = iface_key_check_value(&iface_keys[i], r->values[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int iface_rec_validate(const iface_rec *r, iface_validate_mode mode, lb_err *err)
{
	const char *transport = iface_rec_transport(r);
	iface_transport_kind kind;
	int rc;

	if (!transport)
		return lb_err_set(err, EINVAL, "no iface.transport_name; every record needs one");
	rc = check_values(r, err);
	if (rc < 0)
		return rc;

	kind = iface_transport_kind_of(transport);
	if (mode == IFACE_VALIDATE_STORE)
		return 0;

	if (iface_transport_needs_ipaddress(transport) && !iface_rec_ipaddress(r))
		return lb_err_set(err, EINVAL, "transport %s needs iface.ipaddress", transport);
	if (kind == IFACE_TRANSPORT_OFFLOAD && !iface_rec_hwaddress(r))
		return lb_err_set(err, EINVAL,
				  "offload transport %s needs iface.hwaddress to name its port",
				  transport);
	return 0;
}
