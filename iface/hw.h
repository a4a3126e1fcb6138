/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iface hardware: network devices and iSCSI offload ports, found with
 * libudev, mapped to open-iscsi transports, and checked before use.
 */
#ifndef LUNBRIDGE_IFACE_HW_H
#define LUNBRIDGE_IFACE_HW_H

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "iface.h"
#include "lb-err.h"

/* cxgb3 -> cxgb3i, cxgb4 -> cxgb4i, bnx2/bnx2x -> bnx2i, qla4xxx, be2iscsi,
 * ocs, qedi (and qede -> qedi); NULL for a driver with no offload. */
const char *iface_hw_transport_for_driver(const char *driver);
/* Whether DRIVER can carry TRANSPORT ("tcp" and "iser" run on any NIC). */
bool iface_hw_driver_serves(const char *driver, const char *transport);

typedef struct iface_netdev {
	char *name;      /* "eth0" */
	char *hwaddress; /* lower-case "00:07:43:28:b2:58", NULL if none */
	char *driver;    /* kernel driver bound to the device, NULL if none */
	const char *transport; /* offload transport for the driver, or NULL */
} iface_netdev;

void iface_netdev_free(iface_netdev *d);
DEFINE_CLEANUP_FUNC(iface_netdev, iface_netdev_free)
#define _cleanup_netdev_ _cleanup_(iface_netdev_freep)

/* Every network device udev knows (lo excluded), sorted by name. */
int iface_hw_scan(iface_netdev ***ret, size_t *ret_n, lb_err *err);
void iface_netdev_array_free(iface_netdev **devs, size_t n);

/* One device, by netdev name or by MAC; -ENODEV if none. */
int iface_hw_find_netdev(const char *name, iface_netdev **ret, lb_err *err);
int iface_hw_find_hwaddress(const char *mac, iface_netdev **ret, lb_err *err);

/* The name `iface generate` gives a port: "TRANSPORT.HWADDRESS". */
int iface_hw_default_name(const char *transport, const char *hwaddress, char **ret);

/* An iSCSI host (/sys/class/iscsi_host/hostN), as an offload HBA shows it. */
typedef struct iface_iscsi_host {
	char *name;      /* "host5" */
	char *hwaddress; /* lower-case, NULL if unset */
	char *ipaddress; /* NULL if unset */
	char *netdev;    /* the netdev it rides on ("eth1"), NULL if none */
	char *driver;    /* scsi_host proc_name, else the parent's driver */
	const char *transport; /* from the driver; NULL if not an offload one */
} iface_iscsi_host;

void iface_iscsi_host_free(iface_iscsi_host *h);
void iface_iscsi_host_array_free(iface_iscsi_host **hosts, size_t n);
/* Every iSCSI host udev knows, sorted by name. */
int iface_hw_scan_hosts(iface_iscsi_host ***ret, size_t *ret_n, lb_err *err);

/*
 * A port as `iface generate` and `iface check` see it: a network device,
 * an iSCSI host, or both when the host rides on the netdev (same transport,
 * and same MAC or the host's netdev attribute names it).  The host's
 * hwaddress wins then: it is what open-iscsi binds offload sessions to.
 */
typedef struct iface_hw_port {
	char *netdev;    /* "eth1", NULL for an HBA without one */
	char *host;      /* "host5", NULL for a netdev with no iSCSI host */
	char *hwaddress; /* lower-case, NULL if none */
	char *driver;
	const char *transport; /* offload transport, NULL for a plain NIC */
} iface_hw_port;

void iface_hw_port_clear(iface_hw_port *p);
void iface_hw_port_array_free(iface_hw_port *ports, size_t n);
/* Every port (plain NICs included, transport NULL), sorted by netdev name,
 * then host-only ports by host name. */
int iface_hw_ports(iface_hw_port **ret, size_t *ret_n, lb_err *err);
/* The same merge, from already scanned devices (the unit tests use this). */
int iface_hw_ports_merge(iface_netdev *const *devs, size_t ndevs, iface_iscsi_host *const *hosts,
			 size_t nhosts, iface_hw_port **ret, size_t *ret_n);

/* The first of RECS whose transport is TRANSPORT and whose hwaddress is MAC
 * (compared case-insensitively), or NULL. */
const iface_rec *iface_hw_find_binding(iface_rec *const *recs, size_t n, const char *transport,
				       const char *mac);

/* Whether the kernel has registered TRANSPORT under /sys/class/iscsi_transport. */
bool iface_hw_transport_registered(const char *transport);

/*
 * Verify a record for use (iface_rec_validate(IFACE_VALIDATE_USE)) and the
 * hardware behind it: the NIC named by net_ifacename or
 * hwaddress is present, its driver serves the transport, and an offload or
 * iser transport is registered with the kernel.  0 if all is there; else
 * -ENODEV (or another -errno) with ERR saying exactly what is missing.
 */
int iface_hw_check(const iface_rec *r, lb_err *err);
/* The module that registers TRANSPORT ("ib_iser" for iser). */
const char *iface_hw_transport_module(const char *transport);
/* The same; FOUND (if non-NULL, zeroed by the caller) is filled with the
 * port as far as it was found, on failure too (for `iface check --json`).
 * Release it with iface_hw_port_clear().  Its transport is the record's;
 * an unbound tcp record leaves the rest empty. */
int iface_hw_check_port(const iface_rec *r, iface_hw_port *found, lb_err *err);

#endif
