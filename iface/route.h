/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iface route: which interface record reaches an iSCSI portal.
 *
 * Ask the kernel for the route to the portal (RTM_GETROUTE, as
 * `ip route get ADDR ipproto tcp dport PORT` does), then pick the record
 * bound to the NIC the route leaves through.
 *
 * Nothing here logs: every function returns 0 or -errno and, given an
 * lb_err, leaves one sentence there saying what was wrong.
 */
#ifndef LUNBRIDGE_IFACE_ROUTE_H
#define LUNBRIDGE_IFACE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw.h"
#include "iface.h"
#include "lb-err.h"

#define IFACE_ROUTE_DEFAULT_PORT 3260
/* INET6_ADDRSTRLEN, IFNAMSIZ, "xx:xx:xx:xx:xx:xx" with their NULs. */
#define IFACE_ROUTE_ADDR_MAX 46
#define IFACE_ROUTE_NETDEV_MAX 16
#define IFACE_ROUTE_MAC_MAX 18

/* ---- portals ----------------------------------------------------------- */

typedef struct iface_route_portal {
	int family;			     /* AF_INET or AF_INET6 */
	unsigned char addr[16];		     /* network order; 4 bytes for AF_INET */
	uint16_t port;			     /* 1..65535 */
	char addr_str[IFACE_ROUTE_ADDR_MAX]; /* canonical text, no brackets */
} iface_route_portal;

/*
 * "IP", "IP:PORT", "[IPv6]:PORT", "[IPv6]" or a bare IPv6 address; PORT is
 * 1..65535 and defaults to 3260.  Host names and scoped (%zone) addresses
 * are refused.  -EINVAL on bad input.
 */
int iface_route_parse_portal(const char *text, iface_route_portal *ret, lb_err *err);

/* ---- the kernel's route ------------------------------------------------ */

typedef struct iface_route {
	int family;			     /* of the portal */
	int ifindex;			     /* outgoing device */
	char netdev[IFACE_ROUTE_NETDEV_MAX]; /* its name; "" until looked up */
	char hwaddress[IFACE_ROUTE_MAC_MAX]; /* its MAC; "" if it has none */
	char gateway[IFACE_ROUTE_ADDR_MAX];  /* next hop; "" when on-link */
	char source[IFACE_ROUTE_ADDR_MAX];   /* preferred source; "" if none */
} iface_route;

/*
 * Parse one datagram the kernel sent in answer to RTM_GETROUTE: an
 * RTM_NEWROUTE (ifindex, gateway, source filled in; netdev and hwaddress
 * left empty) or an NLMSG_ERROR, returned as its -errno (-ENETUNREACH for
 * "no route").  Unicast and local routes are accepted; unreachable,
 * blackhole and prohibit routes give -ENETUNREACH, -EINVAL or -EACCES like
 * the kernel does.  -EBADMSG for anything malformed.
 */
int iface_route_parse_reply(void *buf, size_t len, iface_route *ret, lb_err *err);

/* Look the route up in the caller's network namespace, and name the
 * outgoing device and its MAC. */
int iface_route_lookup(const iface_route_portal *portal, iface_route *ret, lb_err *err);

/* ---- choosing the record ----------------------------------------------- */

typedef enum iface_route_reason {
	IFACE_ROUTE_BY_NETDEV,	  /* a record's net_ifacename is the device */
	IFACE_ROUTE_BY_HWADDRESS, /* a record's hwaddress is the device's MAC */
	IFACE_ROUTE_OFFLOAD_NEW,  /* offload NIC, no record yet: `iface generate`'s name */
	IFACE_ROUTE_DEFAULT,	  /* nothing bound to the device: "default" */
} iface_route_reason;

/* "net_ifacename", "hwaddress", "offload", "default". */
const char *iface_route_reason_str(iface_route_reason reason);

typedef struct iface_route_choice {
	char *iface; /* the record's name */
	iface_route_reason reason;
	bool exists; /* false for IFACE_ROUTE_OFFLOAD_NEW */
} iface_route_choice;

/* Free the name; accepts NULL, leaves the choice empty. */
void iface_route_choice_clear(iface_route_choice *c);

/*
 * Pick the record for a session leaving through DEV (name, MAC, driver,
 * offload transport as from iface_hw_find_netdev(); MAC and driver may be
 * NULL), from LIST (as from iface_store_list(); may be NULL):
 *
 *  1. a record bound to DEV, by net_ifacename or by hwaddress, that DEV's
 *     driver can carry; one of DEV's offload transport first, then list
 *     order (by name);
 *  2. else, when the driver has an offload transport and DEV a MAC, the
 *     name `iface generate` gives it (exists = false);
 *  3. else "default".
 *
 * No kernel, no files: the whole policy is here, testable.
 */
int iface_route_choose(const iface_netdev *dev, const iface_list *list, iface_route_choice *ret,
		       lb_err *err);

#endif
