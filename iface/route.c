/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The route to an iSCSI portal, and the interface record that goes with it.
 *
 * The portal parser and the netlink reply parser see untrusted bytes (the
 * command line, the kernel); each has a fuzzer in tests/fuzz/iface/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "route.h"

_Static_assert(IFACE_ROUTE_ADDR_MAX >= INET6_ADDRSTRLEN, "address buffer");
_Static_assert(IFACE_ROUTE_NETDEV_MAX >= IFNAMSIZ, "netdev buffer");

/* Longest portal text accepted: "[" IPv6 "]:" 5 digits, with room to spare. */
#define PORTAL_TEXT_MAX 128

DEFINE_CLEANUP_FUNC(struct nl_sock, nl_socket_free)
DEFINE_CLEANUP_FUNC(struct nl_msg, nlmsg_free)
DEFINE_CLEANUP_FUNC(struct rtnl_link, rtnl_link_put)

/* ---- portals ----------------------------------------------------------- */

static int parse_port(const char *s, uint16_t *ret, lb_err *err)
{
	size_t n = strlen(s);
	unsigned long v = 0;

	if (n == 0)
		return lb_err_set(err, EINVAL, "no port after ':'");
	if (n > 5 || strspn(s, "0123456789") != n)
		return lb_err_set(err, EINVAL, "port '%s' is not a number in 1..65535", s);
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v < 1 || v > 65535)
		return lb_err_set(err, EINVAL, "port %lu is not in 1..65535", v);
	*ret = (uint16_t)v;
	return 0;
}

int iface_route_parse_portal(const char *text, iface_route_portal *ret, lb_err *err)
{
	iface_route_portal p = {.port = IFACE_ROUTE_DEFAULT_PORT};
	char host[PORTAL_TEXT_MAX + 1];
	const char *port = NULL;
	bool bracketed = false;
	size_t len;

	if (!text || !*text)
		return lb_err_set(err, EINVAL, "empty portal");
	len = strlen(text);
	if (len > PORTAL_TEXT_MAX)
		return lb_err_set(err, EINVAL, "longer than %d characters", PORTAL_TEXT_MAX);

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close)
			return lb_err_set(err, EINVAL, "'[' without ']'");
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return lb_err_set(err, EINVAL, "'%s' after ']' (expected ':PORT')",
					  close + 1);
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		bracketed = true;
	} else {
		const char *colon = strchr(text, ':');

		/* One ':' separates IPv4 and port; more make a bare IPv6. */
		if (colon && !strchr(colon + 1, ':')) {
			memcpy(host, text, (size_t)(colon - text));
			host[colon - text] = '\0';
			port = colon + 1;
		} else {
			memcpy(host, text, len + 1);
		}
	}

	if (strchr(host, '%'))
		return lb_err_set(err, EINVAL,
				  "scoped IPv6 addresses ('%%zone') are not supported");
	if (inet_pton(AF_INET6, host, p.addr) == 1)
		p.family = AF_INET6;
	else if (!bracketed && inet_pton(AF_INET, host, p.addr) == 1)
		p.family = AF_INET;
	else if (bracketed)
		return lb_err_set(err, EINVAL, "'%s' in brackets is not an IPv6 address", host);
	else
		return lb_err_set(err, EINVAL, "'%s' is not an IPv4 or IPv6 address", host);

	if (port) {
		int r = parse_port(port, &p.port, err);

		if (r < 0)
			return r;
	}
	if (!inet_ntop(p.family, p.addr, p.addr_str, sizeof(p.addr_str)))
		return lb_err_set(err, EINVAL, "cannot format '%s'", host);
	*ret = p;
	return 0;
}

/* ---- the kernel's reply ------------------------------------------------ */

static const struct nla_policy route_policy[RTA_MAX + 1] = {
    [RTA_OIF] = {.type = NLA_U32},
    [RTA_GATEWAY] = {.minlen = 4},
    [RTA_PREFSRC] = {.minlen = 4},
    [RTA_VIA] = {.minlen = sizeof(struct rtvia) + 4},
};

static size_t family_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Format an address of FAMILY held in LEN bytes at DATA. */
static int format_addr(int family, const void *data, size_t len, char *out, const char *what,
		       lb_err *err)
{
	size_t want = family_addr_len(family);

	if (want == 0 || len != want)
		return lb_err_set(err, EBADMSG, "%s of %zu bytes for address family %d", what, len,
				  family);
	if (!inet_ntop(family, data, out, IFACE_ROUTE_ADDR_MAX))
		return lb_err_set(err, EBADMSG, "cannot format the %s", what);
	return 0;
}

static int parse_gateway(int family, struct nlattr **tb, iface_route *r, lb_err *err)
{
	if (tb[RTA_GATEWAY])
		return format_addr(family, nla_data(tb[RTA_GATEWAY]),
				   (size_t)nla_len(tb[RTA_GATEWAY]), r->gateway, "gateway", err);
	if (tb[RTA_VIA]) {
		/* An IPv4 route through an IPv6 next hop (RFC 5549). */
		const struct rtvia *via = nla_data(tb[RTA_VIA]);
		size_t alen = (size_t)nla_len(tb[RTA_VIA]) - sizeof(*via);

		return format_addr(via->rtvia_family, via->rtvia_addr, alen, r->gateway, "gateway",
				   err);
	}
	return 0;
}

static int parse_route(struct nlmsghdr *nlh, iface_route *ret, lb_err *err)
{
	struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm;
	iface_route r = {0};
	uint32_t oif;
	int n;

	if (!nlmsg_valid_hdr(nlh, sizeof(*rtm)))
		return lb_err_set(err, EBADMSG, "truncated route message");
	rtm = nlmsg_data(nlh);
	if (family_addr_len(rtm->rtm_family) == 0)
		return lb_err_set(err, EBADMSG, "route of address family %u", rtm->rtm_family);
	n = nlmsg_parse(nlh, sizeof(*rtm), tb, RTA_MAX, route_policy);
	if (n < 0)
		return lb_err_set(err, EBADMSG, "malformed route attributes (%s)", nl_geterror(n));

	switch (rtm->rtm_type) {
	case RTN_UNICAST:
	case RTN_LOCAL:
		break;
	case RTN_UNREACHABLE:
		return lb_err_set(err, ENETUNREACH, "no route (%s)", strerror(ENETUNREACH));
	case RTN_BLACKHOLE:
		return lb_err_set(err, EINVAL, "blackhole route");
	case RTN_PROHIBIT:
		return lb_err_set(err, EACCES, "route prohibited (%s)", strerror(EACCES));
	default:
		return lb_err_set(err, ENETUNREACH, "no unicast route (route type %u)",
				  rtm->rtm_type);
	}

	if (!tb[RTA_OIF])
		return lb_err_set(err, EBADMSG, "route without an outgoing device");
	oif = nla_get_u32(tb[RTA_OIF]);
	if (oif == 0 || oif > INT_MAX)
		return lb_err_set(err, EBADMSG, "route through interface index %u", oif);
	r.family = rtm->rtm_family;
	r.ifindex = (int)oif;

	n = parse_gateway(rtm->rtm_family, tb, &r, err);
	if (n < 0)
		return n;
	if (tb[RTA_PREFSRC]) {
		n = format_addr(rtm->rtm_family, nla_data(tb[RTA_PREFSRC]),
				(size_t)nla_len(tb[RTA_PREFSRC]), r.source, "source address", err);
		if (n < 0)
			return n;
	}
	*ret = r;
	return 0;
}

static int parse_error(const struct nlmsghdr *nlh, lb_err *err)
{
	const struct nlmsgerr *e;

	if (!nlmsg_valid_hdr(nlh, sizeof(*e)))
		return lb_err_set(err, EBADMSG, "truncated netlink error");
	e = nlmsg_data(nlh);
	if (e->error == 0)
		return lb_err_set(err, EBADMSG, "acknowledgement instead of a route");
	if (e->error > 0 || e->error < -4095)
		return lb_err_set(err, EBADMSG, "netlink error %d", e->error);
	if (e->error == -ENETUNREACH || e->error == -EHOSTUNREACH)
		return lb_err_set(err, e->error, "no route (%s)", strerror(-e->error));
	return lb_err_set(err, e->error, "route lookup failed (%s)", strerror(-e->error));
}

int iface_route_parse_reply(void *buf, size_t len, iface_route *ret, lb_err *err)
{
	struct nlmsghdr *nlh = buf;
	int rem;

	if (len > INT_MAX)
		return lb_err_set(err, EBADMSG, "netlink reply of %zu bytes", len);
	rem = (int)len;
	/* The socket is ours alone and asked one question: the first route or
	 * error in the datagram is the answer. */
	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
		switch (nlh->nlmsg_type) {
		case NLMSG_ERROR:
			return parse_error(nlh, err);
		case RTM_NEWROUTE:
			return parse_route(nlh, ret, err);
		case NLMSG_DONE:
			return lb_err_set(err, EBADMSG, "no route in the kernel's reply");
		default:
			break;
		}
	}
	return lb_err_set(err, EBADMSG, "no route in the kernel's reply");
}

/* ---- asking the kernel ------------------------------------------------- */

/* libnl reports NLE_* codes, not errno; keep its words, return -EIO. */
static int nl_fail(lb_err *err, int nlerr, const char *what)
{
	return lb_err_set(err, EIO, "%s (%s)", what, nl_geterror(nlerr));
}

static int request_route(struct nl_sock *sk, const iface_route_portal *portal, lb_err *err)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	size_t alen = family_addr_len(portal->family);
	struct rtmsg rtm = {
	    .rtm_family = (unsigned char)portal->family,
	    .rtm_dst_len = (unsigned char)(alen * 8),
	};
	int n;

	if (alen == 0 || portal->port == 0)
		return lb_err_set(err, EINVAL, "portal not parsed");
	msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
	if (!msg)
		return -ENOMEM;
	/* As `ip route get ADDR ipproto tcp dport PORT`: policy routing
	 * may depend on the port. */
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, (int)alen, portal->addr) < 0 ||
	    nla_put_u8(msg, RTA_IP_PROTO, IPPROTO_TCP) < 0 ||
	    nla_put_u16(msg, RTA_DPORT, htons(portal->port)) < 0)
		return -ENOMEM;
	n = nl_send_auto(sk, msg);
	if (n < 0)
		return nl_fail(err, n, "cannot send the route request");
	return 0;
}

/* Open a route netlink socket. */
static int open_socket(struct nl_sock **ret, lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
	int n;

	if (!sk)
		return -ENOMEM;
	n = nl_connect(sk, NETLINK_ROUTE);
	if (n < 0)
		return nl_fail(err, n, "cannot open a netlink socket");
	*ret = TAKE_PTR(sk);
	return 0;
}

/* The outgoing device's name and MAC, asked on a socket of its own:
 * libnl's request/reply bookkeeping never saw the raw route exchange. */
static int name_device(iface_route *r, lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	struct nl_addr *addr;
	const char *name;
	int n;

	n = open_socket(&sk, err);
	if (n < 0)
		return n;
	n = rtnl_link_get_kernel(sk, r->ifindex, NULL, &link);
	if (n < 0 || !link)
		return lb_err_set(err, ENODEV,
				  "route leaves through interface index %d, "
				  "which cannot be read (%s)",
				  r->ifindex, nl_geterror(n < 0 ? n : -NLE_OBJ_NOTFOUND));
	name = rtnl_link_get_name(link);
	if (!name || !*name || strlen(name) >= sizeof(r->netdev))
		return lb_err_set(err, EBADMSG, "interface index %d has no usable name",
				  r->ifindex);
	strcpy(r->netdev, name);

	addr = rtnl_link_get_addr(link);
	if (addr && nl_addr_get_len(addr) == 6) {
		const unsigned char *m = nl_addr_get_binary_addr(addr);

		/* lo and tunnels: all zeros is no MAC. */
		if (m[0] | m[1] | m[2] | m[3] | m[4] | m[5])
			(void)snprintf(r->hwaddress, sizeof(r->hwaddress),
				       "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
				       m[4], m[5]);
	}
	return 0;
}

int iface_route_lookup(const iface_route_portal *portal, iface_route *ret, lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_free_ unsigned char *buf = NULL;
	struct sockaddr_nl peer;
	iface_route r;
	int n;

	n = open_socket(&sk, err);
	if (n < 0)
		return n;
	n = request_route(sk, portal, err);
	if (n < 0)
		return n;
	n = nl_recv(sk, &peer, &buf, NULL);
	if (n < 0)
		return nl_fail(err, n, "cannot read the kernel's route reply");
	n = iface_route_parse_reply(buf, (size_t)n, &r, err);
	if (n < 0)
		return n;

	n = name_device(&r, err);
	if (n < 0)
		return n;
	*ret = r;
	return 0;
}

/* ---- choosing the record ----------------------------------------------- */

const char *iface_route_reason_str(iface_route_reason reason)
{
	switch (reason) {
	case IFACE_ROUTE_BY_NETDEV:
		return "net_ifacename";
	case IFACE_ROUTE_BY_HWADDRESS:
		return "hwaddress";
	case IFACE_ROUTE_OFFLOAD_NEW:
		return "offload";
	case IFACE_ROUTE_DEFAULT:
		return "default";
	}
	return "unknown";
}

void iface_route_choice_clear(iface_route_choice *c)
{
	if (!c)
		return;
	free(c->iface);
	*c = (iface_route_choice){0};
}

static bool streq_opt(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* How REC binds to DEV; false when it does not, or cannot carry it. */
static bool rec_binds(const iface_rec *rec, const iface_netdev *dev, iface_route_reason *ret)
{
	const char *hw = iface_rec_hwaddress(rec);
	const char *tr = iface_rec_transport(rec);

	if (streq_opt(iface_rec_netdev(rec), dev->name))
		*ret = IFACE_ROUTE_BY_NETDEV;
	else if (hw && dev->hwaddress && iface_mac_equal(hw, dev->hwaddress))
		*ret = IFACE_ROUTE_BY_HWADDRESS;
	else
		return false;
	/* A record for another vendor's offload cannot use this NIC. */
	if (dev->driver && tr && !iface_hw_driver_serves(dev->driver, tr))
		return false;
	return true;
}

int iface_route_choose(const iface_netdev *dev, const iface_list *list, iface_route_choice *ret,
		       lb_err *err)
{
	const iface_rec *best = NULL;
	iface_route_reason best_reason = IFACE_ROUTE_DEFAULT;
	int best_rank = -1;
	_cleanup_free_ char *name = NULL;
	iface_route_reason reason;
	int n;

	if (!dev || !dev->name)
		return lb_err_set(err, EINVAL, "no network device");

	for (size_t i = 0; list && i < list->n; i++) {
		const iface_rec *rec = list->recs[i];
		int rank;

		if (!rec_binds(rec, dev, &reason))
			continue;
		rank = streq_opt(iface_rec_transport(rec), dev->transport) ? 1 : 0;
		if (rank > best_rank) {
			best = rec;
			best_reason = reason;
			best_rank = rank;
		}
	}

	if (best) {
		name = strdup(iface_rec_name(best));
		reason = best_reason;
	} else if (dev->transport && dev->hwaddress) {
		n = iface_hw_default_name(dev->transport, dev->hwaddress, &name);
		if (n < 0)
			return lb_err_set(err, n, "cannot name the %s port of %s", dev->transport,
					  dev->name);
		reason = IFACE_ROUTE_OFFLOAD_NEW;
	} else {
		name = strdup("default");
		reason = IFACE_ROUTE_DEFAULT;
	}
	if (!name)
		return -ENOMEM;

	*ret = (iface_route_choice){
	    .iface = TAKE_PTR(name),
	    .reason = reason,
	    .exists = reason != IFACE_ROUTE_OFFLOAD_NEW,
	};
	return 0;
}
