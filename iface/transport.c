/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The transports open-iscsi can bind an iface to. */
#include <string.h>

#include "macro.h"
#include "cleanup.h"
#include "iface.h"

static const struct {
	const char *name;
	iface_transport_kind kind;
	bool needs_ip;
} transports[] = {
	{"tcp", IFACE_TRANSPORT_TCP, false},
	{"iser", IFACE_TRANSPORT_ISER, false},
	{"cxgb3i", IFACE_TRANSPORT_OFFLOAD, false},
	{"cxgb4i", IFACE_TRANSPORT_OFFLOAD, false},
	{"bnx2i", IFACE_TRANSPORT_OFFLOAD, true},
	{"qla4xxx", IFACE_TRANSPORT_OFFLOAD, false},
	{"be2iscsi", IFACE_TRANSPORT_OFFLOAD, false},
	{"ocs", IFACE_TRANSPORT_OFFLOAD, false},
	{"qedi", IFACE_TRANSPORT_OFFLOAD, true},
};

static const char *const transport_names[] = {
	"tcp", "iser", "cxgb3i", "cxgb4i", "bnx2i", "qla4xxx", "be2iscsi", "ocs", "qedi", NULL,
};

_Static_assert(ARRAY_SIZE(transport_names) == ARRAY_SIZE(transports) + 1,
	       "transport_names must list every transport");

iface_transport_kind iface_transport_kind_of(const char *transport)
{
	if (!transport)
		return IFACE_TRANSPORT_UNKNOWN;
	for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
		if (strcmp(transports[i].name, transport) == 0)
			return transports[i].kind;
	return IFACE_TRANSPORT_UNKNOWN;
}

bool iface_transport_needs_ipaddress(const char *transport)
{
	if (!transport)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
		if (strcmp(transports[i].name, transport) == 0)
			return transports[i].needs_ip;
	return false;
}

const char *const *iface_transport_names(void)
{
	return transport_names;
}
