/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iface hardware, the pure part: kernel drivers mapped to open-iscsi's
 * offload transports, and the names `iface generate` gives ports.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "cleanup.h"
#include "hw-internal.h"

/* ---- drivers and transports ------------------------------------------ */

/* Kernel drivers (and the scsi_host proc_names of the offload modules,
 * which is what an iSCSI host reports) to the transport they carry. */
static const struct {
	const char *driver;
	const char *transport;
} driver_map[] = {
	{"cxgb3", "cxgb3i"},	  {"cxgb3i", "cxgb3i"}, {"cxgb4", "cxgb4i"}, {"cxgb4i", "cxgb4i"},
	{"bnx2", "bnx2i"},	  {"bnx2x", "bnx2i"},	{"bnx2i", "bnx2i"},  {"qla4xxx", "qla4xxx"},
	{"be2iscsi", "be2iscsi"}, {"ocs", "ocs"},	{"qede", "qedi"},    {"qedi", "qedi"},
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
bool iface_hw_transport_is_hba_only(const char *transport)
{
	return strcmp(transport, "qla4xxx") == 0 || strcmp(transport, "be2iscsi") == 0 ||
	       strcmp(transport, "ocs") == 0;
}

/* The module that registers TRANSPORT. */
const char *iface_hw_transport_module(const char *transport)
{
	if (strcmp(transport, "iser") == 0)
		return "ib_iser";
	return transport;
}

/* A MAC, lower-cased; NULL unless it is a well-formed, non-zero one. */
int iface_hw_dup_mac(const char *v, char **ret)
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

int iface_hw_default_name(const char *transport, const char *hwaddress, char **ret)
{
	_cleanup_free_ char *mac = NULL;
	char *name;
	int r;

	if (!transport || !*transport || strchr(transport, '/') || !hwaddress ||
	    !iface_mac_valid(hwaddress))
		return -EINVAL;
	r = iface_hw_dup_mac(hwaddress, &mac);
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
