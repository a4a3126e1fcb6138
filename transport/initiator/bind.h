/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a session of our own tcp initiator is bound to an iface record, the
 * way open-iscsi binds software iSCSI: iface.net_ifacename, or the netdev
 * that owns iface.hwaddress, becomes SO_BINDTODEVICE; iface.initiatorname
 * overrides /etc/iscsi/initiatorname.iscsi; iface.ipaddress, if set,
 * becomes the connection's source address (stricter than iscsid, which
 * stores it for tcp records but does not bind it); `default` is unbound.  Offload
 * and iser records belong to the open-iscsi (kernel) engine and are
 * refused here.
 */
#ifndef LUNBRIDGE_ISCSI_BIND_H
#define LUNBRIDGE_ISCSI_BIND_H

#include <net/if.h>

#include "iface.h"
#include "lb-err.h"

struct iscsi_binding {
	char iface[65];		  /* record name */
	char netdev[IF_NAMESIZE]; /* "" when unbound */
	char source_addr[64];	  /* iface.ipaddress, "" when none */
	char *initiator_name;	  /* owned */
};

/* initiatorname_path: NULL for /etc/iscsi/initiatorname.iscsi.  Errors
 * name the record: -EOPNOTSUPP for offload/iser, -ENODEV when the netdev
 * or the NIC with that MAC does not exist, -EINVAL for a record not
 * usable as it stands. */
int iscsi_binding_resolve(const iface_rec *r, const char *initiatorname_path,
			  struct iscsi_binding *ret, lb_err *err);
void iscsi_binding_clear(struct iscsi_binding *b);

#endif
