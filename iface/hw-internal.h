/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to iface/hw-*.c: what the mapping, the scan and the check share. */
#ifndef LUNBRIDGE_IFACE_HW_INTERNAL_H
#define LUNBRIDGE_IFACE_HW_INTERNAL_H

#include <stdbool.h>
#include <libudev.h>

#include "cleanup.h"
#include "hw.h"
#include "udev-cleanup.h"


/* HBAs that show no netdev of their own: only their iSCSI host has the MAC. */
bool iface_hw_transport_is_hba_only(const char *transport);
/* A MAC, lower-cased; NULL unless it is a well-formed, non-zero one. */
int iface_hw_dup_mac(const char *v, char **ret);

/* A new udev context; ERR says why not. */
int iface_hw_udev_open(struct udev **ret, lb_err *err);
/* Replace *P with copies of the strings given (each may be NULL); -ENOMEM
 * leaves *P as it was. */
int iface_hw_port_set(iface_hw_port *p, const char *netdev, const char *host, const char *hwaddress,
		      const char *driver, const char *transport);

#endif
