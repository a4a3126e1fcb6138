/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Portal parsing, the RTM_GETROUTE reply parser, and the record choice. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cmocka.h>

#include "macro.h"
#include "cleanup.h"
#include "route.h"

/* ---- portals ----------------------------------------------------------- */

static void parse_ok(const char *text, int family, const char *addr, unsigned port)
{
	iface_route_portal p;
	lb_err err = {{0}};
	unsigned char want[16] = {0};

	assert_int_equal(iface_route_parse_portal(text, &p, &err), 0);
	assert_int_equal(p.family, family);
	assert_string_equal(p.addr_str, addr);
	assert_int_equal(p.port, port);
	assert_int_equal(inet_pton(family, addr, want), 1);
	assert_memory_equal(p.addr, want, family == AF_INET ? 4 : 16);
}

static void parse_bad(const char *text, const char *why)
{
	iface_route_portal p, before;
	lb_err err = {{0}};

	memset(&p, 0x5a, sizeof(p));
	before = p;
	assert_int_equal(iface_route_parse_portal(text, &p, &err), -EINVAL);
	assert_memory_equal(&p, &before, sizeof(p)); /* untouched on failure */
	if (!strstr(err.msg, why))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, why);
}

static void portal_ipv4(void **state)
{
	parse_ok("10.0.0.1", AF_INET, "10.0.0.1", 3260);
	parse_ok("10.0.0.1:860", AF_INET, "10.0.0.1", 860);
	parse_ok("192.168.1.2:1", AF_INET, "192.168.1.2", 1);
	parse_ok("192.168.1.2:65535", AF_INET, "192.168.1.2", 65535);
	parse_ok("192.168.1.2:03260", AF_INET, "192.168.1.2", 3260);
}

static void portal_ipv6(void **state)
{
	parse_ok("[fd00::1]:3261", AF_INET6, "fd00::1", 3261);
	parse_ok("[fd00::1]", AF_INET6, "fd00::1", 3260);
	parse_ok("fd00::1", AF_INET6, "fd00::1", 3260);
	parse_ok("::1", AF_INET6, "::1", 3260);
	parse_ok("FD00:0:0::0001", AF_INET6, "fd00::1", 3260);
	parse_ok("[::ffff:10.1.2.3]:860", AF_INET6, "::ffff:10.1.2.3", 860);
	/* Bare IPv6 never carries a port: this is the address fe80::1:3260. */
	parse_ok("fe80::1:3260", AF_INET6, "fe80::1:3260", 3260);
}

static void portal_bad_address(void **state)
{
	lb_err err = {{0}};
	iface_route_portal p;

	assert_int_equal(iface_route_parse_portal(NULL, &p, &err), -EINVAL);
	parse_bad("", "empty portal");
	parse_bad("foo", "'foo' is not an IPv4 or IPv6 address");
	parse_bad("host.example:3260", "'host.example' is not an IPv4 or IPv6 address");
	parse_bad("1.2.3", "not an IPv4 or IPv6 address");
	parse_bad("256.1.1.1", "not an IPv4 or IPv6 address");
	parse_bad(" 1.2.3.4", "not an IPv4 or IPv6 address");
	parse_bad("1.2.3.4 ", "not an IPv4 or IPv6 address");
	parse_bad(":3260", "'' is not an IPv4 or IPv6 address");
	parse_bad("fe80::1%eth0", "scoped IPv6");
	parse_bad("[fe80::1%eth0]:3260", "scoped IPv6");
}

static void portal_bad_brackets(void **state)
{
	parse_bad("[fd00::1", "'[' without ']'");
	parse_bad("[fd00::1]3260", "'3260' after ']'");
	parse_bad("[fd00::1]:", "no port after ':'");
	parse_bad("[1.2.3.4]:3260", "'1.2.3.4' in brackets is not an IPv6 address");
	parse_bad("[]:3260", "in brackets is not an IPv6 address");
	parse_bad("[fd00::1]]:1", "after ']'");
}

static void portal_bad_port(void **state)
{
	char longtext[200];

	parse_bad("1.2.3.4:", "no port after ':'");
	parse_bad("1.2.3.4:0", "port 0 is not in 1..65535");
	parse_bad("1.2.3.4:65536", "port 65536 is not in 1..65535");
	parse_bad("1.2.3.4:99999", "port 99999 is not in 1..65535");
	parse_bad("1.2.3.4:123456", "port '123456' is not a number");
	parse_bad("1.2.3.4:-1", "port '-1' is not a number");
	parse_bad("1.2.3.4:+80", "port '+80' is not a number");
	parse_bad("1.2.3.4:80x", "port '80x' is not a number");
	parse_bad("1.2.3.4: 80", "port ' 80' is not a number");
	parse_bad("[fd00::1]:0x10", "port '0x10' is not a number");

	memset(longtext, '1', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	parse_bad(longtext, "longer than 128 characters");
}

/* ---- netlink replies --------------------------------------------------- */

/* An aligned datagram under construction. */
typedef struct msgbuf {
	uint32_t words[256];
	size_t len;
} msgbuf;

static struct nlmsghdr *msg_start(msgbuf *b, uint16_t type)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)b->words + b->len);

	memset(nlh, 0, sizeof(*nlh));
	nlh->nlmsg_type = type;
	nlh->nlmsg_len = NLMSG_HDRLEN;
	return nlh;
}

static void msg_put(struct nlmsghdr *nlh, const void *data, size_t len)
{
	memcpy((char *)nlh + nlh->nlmsg_len, data, len);
	nlh->nlmsg_len += NLMSG_ALIGN(len);
}

static void msg_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
	struct rtattr rta = {.rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type};
	char *p = (char *)nlh + nlh->nlmsg_len;

	memset(p, 0, RTA_SPACE(len));
	memcpy(p, &rta, sizeof(rta));
	memcpy(p + RTA_LENGTH(0), data, len);
	nlh->nlmsg_len += RTA_SPACE(len);
}

static void msg_end(msgbuf *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* An RTM_NEWROUTE of FAMILY and TYPE, through OIF unless it is 0. */
static struct nlmsghdr *route_msg(msgbuf *b, int family, unsigned char type, uint32_t oif)
{
	struct nlmsghdr *nlh = msg_start(b, RTM_NEWROUTE);
	struct rtmsg rtm = {.rtm_family = (unsigned char)family, .rtm_type = type};

	msg_put(nlh, &rtm, sizeof(rtm));
	if (oif)
		msg_attr(nlh, RTA_OIF, &oif, sizeof(oif));
	return nlh;
}

static void attr_ip(struct nlmsghdr *nlh, uint16_t type, int family, const char *ip)
{
	unsigned char a[16];

	assert_int_equal(inet_pton(family, ip, a), 1);
	msg_attr(nlh, type, a, family == AF_INET ? 4 : 16);
}

static void reply_ipv4_gateway(void **state)
{
	msgbuf b = {0};
	struct nlmsghdr *nlh = route_msg(&b, AF_INET, RTN_UNICAST, 7);
	iface_route r;
	lb_err err = {{0}};

	attr_ip(nlh, RTA_DST, AF_INET, "10.231.9.5");
	attr_ip(nlh, RTA_GATEWAY, AF_INET, "10.231.1.1");
	attr_ip(nlh, RTA_PREFSRC, AF_INET, "10.231.1.2");
	msg_end(&b, nlh);

	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, &err), 0);
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.ifindex, 7);
	assert_string_equal(r.gateway, "10.231.1.1");
	assert_string_equal(r.source, "10.231.1.2");
	assert_string_equal(r.netdev, "");
	assert_string_equal(r.hwaddress, "");
}

static void reply_ipv6_onlink(void **state)
{
	msgbuf b = {0};
	struct nlmsghdr *nlh;
	iface_route r;

	/* A stray no-op first: skipped. */
	nlh = msg_start(&b, NLMSG_NOOP);
	msg_end(&b, nlh);
	nlh = route_msg(&b, AF_INET6, RTN_UNICAST, 3);
	attr_ip(nlh, RTA_PREFSRC, AF_INET6, "fd00:231:1::2");
	msg_end(&b, nlh);

	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, NULL), 0);
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.ifindex, 3);
	assert_string_equal(r.gateway, "");
	assert_string_equal(r.source, "fd00:231:1::2");
}

static void reply_ipv4_via_ipv6(void **state)
{
	msgbuf b = {0};
	struct nlmsghdr *nlh = route_msg(&b, AF_INET, RTN_UNICAST, 2);
	unsigned char via[2 + 16];
	uint16_t fam = AF_INET6;
	iface_route r;

	memcpy(via, &fam, sizeof(fam));
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", via + 2), 1);
	msg_attr(nlh, RTA_VIA, via, sizeof(via));
	msg_end(&b, nlh);

	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, NULL), 0);
	assert_string_equal(r.gateway, "fe80::1");
	assert_string_equal(r.source, "");
}

static void reply_local(void **state)
{
	msgbuf b = {0};
	struct nlmsghdr *nlh = route_msg(&b, AF_INET, RTN_LOCAL, 1);
	iface_route r;

	msg_end(&b, nlh);
	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, NULL), 0);
	assert_int_equal(r.ifindex, 1);
}

static void error_msg(msgbuf *b, int error)
{
	struct nlmsghdr *nlh = msg_start(b, NLMSG_ERROR);
	struct nlmsgerr e = {.error = error};

	msg_put(nlh, &e, sizeof(e));
	msg_end(b, nlh);
}

static void reply_errors(void **state)
{
	msgbuf b = {0};
	iface_route r;
	lb_err err = {{0}};

	error_msg(&b, -ENETUNREACH);
	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, &err), -ENETUNREACH);
	assert_string_equal(err.msg, "no route (Network is unreachable)");

	b = (msgbuf){0};
	error_msg(&b, -EPERM);
	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, &err), -EPERM);
	assert_string_equal(err.msg, "route lookup failed (Operation not permitted)");

	b = (msgbuf){0};
	error_msg(&b, 0); /* an ACK is not an answer */
	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, &err), -EBADMSG);

	b = (msgbuf){0};
	error_msg(&b, -100000);
	assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, &err), -EBADMSG);
}

static void reply_route_types(void **state)
{
	static const struct {
		unsigned char type;
		int want;
	} cases[] = {
	    {RTN_UNREACHABLE, -ENETUNREACH},
	    {RTN_BLACKHOLE, -EINVAL},
	    {RTN_PROHIBIT, -EACCES},
	    {RTN_MULTICAST, -ENETUNREACH},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		msgbuf b = {0};
		struct nlmsghdr *nlh = route_msg(&b, AF_INET, cases[i].type, 2);
		iface_route r;

		msg_end(&b, nlh);
		assert_int_equal(iface_route_parse_reply(b.words, b.len, &r, NULL), cases[i].want);
	}
}

static void expect_bad(msgbuf *b, const char *why)
{
	iface_route r, before;
	lb_err err = {{0}};

	memset(&r, 0x5a, sizeof(r));
	before = r;
	assert_int_equal(iface_route_parse_reply(b->words, b->len, &r, &err), -EBADMSG);
	assert_memory_equal(&r, &before, sizeof(r));
	if (!strstr(err.msg, why))
		fail_msg("message '%s' lacks '%s'", err.msg, why);
}

static void reply_malformed(void **state)
{
	msgbuf b = {0};
	struct nlmsghdr *nlh;
	unsigned char three[3] = {10, 0, 0};
	uint16_t short_oif = 1;

	nlh = route_msg(&b, AF_INET, RTN_UNICAST, 0);
	msg_end(&b, nlh);
	expect_bad(&b, "without an outgoing device");

	b = (msgbuf){0};
	nlh = route_msg(&b, AF_INET, RTN_UNICAST, 2);
	msg_attr(nlh, RTA_GATEWAY, three, sizeof(three));
	msg_end(&b, nlh);
	expect_bad(&b, "malformed route attributes");

	b = (msgbuf){0};
	nlh = route_msg(&b, AF_INET, RTN_UNICAST, 2);
	attr_ip(nlh, RTA_GATEWAY, AF_INET6, "fd00::1"); /* 16 bytes in a v4 route */
	msg_end(&b, nlh);
	expect_bad(&b, "gateway of 16 bytes");

	b = (msgbuf){0};
	nlh = route_msg(&b, AF_INET, RTN_UNICAST, 0);
	msg_attr(nlh, RTA_OIF, &short_oif, sizeof(short_oif));
	msg_end(&b, nlh);
	expect_bad(&b, "malformed route attributes");

	b = (msgbuf){0};
	nlh = route_msg(&b, AF_UNSPEC, RTN_UNICAST, 2);
	msg_end(&b, nlh);
	expect_bad(&b, "address family 0");

	/* The message claims more bytes than the datagram holds. */
	b = (msgbuf){0};
	nlh = route_msg(&b, AF_INET, RTN_UNICAST, 2);
	msg_end(&b, nlh);
	b.len -= 4;
	expect_bad(&b, "no route in the kernel's reply");

	/* A header too short for struct rtmsg. */
	b = (msgbuf){0};
	nlh = msg_start(&b, RTM_NEWROUTE);
	msg_end(&b, nlh);
	expect_bad(&b, "truncated route message");

	b = (msgbuf){0};
	nlh = msg_start(&b, NLMSG_DONE);
	msg_end(&b, nlh);
	expect_bad(&b, "no route in the kernel's reply");

	b = (msgbuf){0};
	expect_bad(&b, "no route in the kernel's reply");
}

/* ---- choosing the record ----------------------------------------------- */

#define MAC_A "02:31:00:00:01:02"
#define MAC_B "02:31:00:00:02:02"

typedef struct recset {
	iface_rec *recs[8];
	iface_list list;
} recset;

/* Add a record NAME with TRANSPORT and, when non-NULL, NETDEV and MAC. */
static void add_rec(recset *s, const char *name, const char *transport, const char *netdev,
		    const char *mac)
{
	iface_rec *r = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_rec_new(name, &r, &err), 0);
	assert_int_equal(iface_rec_set(r, IFACE_KEY_TRANSPORT, transport, &err), 0);
	if (netdev)
		assert_int_equal(iface_rec_set(r, IFACE_KEY_NETDEV, netdev, &err), 0);
	if (mac)
		assert_int_equal(iface_rec_set(r, IFACE_KEY_HWADDRESS, mac, &err), 0);
	assert_true(s->list.n < ARRAY_SIZE(s->recs));
	s->recs[s->list.n++] = r;
	s->list.recs = s->recs;
}

static void recset_free(recset *s)
{
	for (size_t i = 0; i < s->list.n; i++)
		iface_rec_free(s->recs[i]);
}

static void expect_choice(const iface_netdev *dev, const iface_list *list, const char *iface,
			  iface_route_reason reason, bool exists)
{
	iface_route_choice c = {0};
	lb_err err = {{0}};

	assert_int_equal(iface_route_choose(dev, list, &c, &err), 0);
	assert_string_equal(c.iface, iface);
	assert_int_equal(c.reason, reason);
	assert_int_equal(c.exists, exists);
	iface_route_choice_clear(&c);
	assert_null(c.iface);
}

static void choose_by_netdev_and_mac(void **state)
{
	recset s = {0};
	iface_netdev a = {.name = "veth-a", .hwaddress = MAC_A};
	iface_netdev b = {.name = "veth-b", .hwaddress = MAC_B};

	add_rec(&s, "A", "tcp", "veth-a", NULL);
	add_rec(&s, "B", "tcp", NULL, MAC_B);
	add_rec(&s, "C", "tcp", "veth-c", NULL);

	expect_choice(&a, &s.list, "A", IFACE_ROUTE_BY_NETDEV, true);
	expect_choice(&b, &s.list, "B", IFACE_ROUTE_BY_HWADDRESS, true);
	recset_free(&s);
}

static void choose_mac_case_insensitive(void **state)
{
	recset s = {0};
	iface_netdev d = {.name = "eth9", .hwaddress = "00:07:43:28:b2:58"};

	add_rec(&s, "upper", "tcp", NULL, "00:07:43:28:B2:58");
	expect_choice(&d, &s.list, "upper", IFACE_ROUTE_BY_HWADDRESS, true);
	recset_free(&s);
}

static void choose_first_in_list_order(void **state)
{
	recset s = {0};
	iface_netdev a = {.name = "veth-a", .hwaddress = MAC_A};

	add_rec(&s, "a1", "tcp", NULL, MAC_A);
	add_rec(&s, "a2", "tcp", "veth-a", NULL);
	expect_choice(&a, &s.list, "a1", IFACE_ROUTE_BY_HWADDRESS, true);
	recset_free(&s);
}

static void choose_prefers_offload_record(void **state)
{
	recset s = {0};
	iface_netdev d = {.name = "eth2",
			  .hwaddress = "00:07:43:28:b2:58",
			  .driver = "cxgb4",
			  .transport = "cxgb4i"};

	add_rec(&s, "a-tcp", "tcp", "eth2", NULL);
	add_rec(&s, "cxgb4i.00:07:43:28:b2:58", "cxgb4i", NULL, "00:07:43:28:b2:58");
	expect_choice(&d, &s.list, "cxgb4i.00:07:43:28:b2:58", IFACE_ROUTE_BY_HWADDRESS, true);

	/* Without the offload driver, list order decides. */
	d.driver = "e1000e";
	d.transport = NULL;
	expect_choice(&d, &s.list, "a-tcp", IFACE_ROUTE_BY_NETDEV, true);
	recset_free(&s);
}

static void choose_skips_foreign_offload(void **state)
{
	recset s = {0};
	iface_netdev d = {.name = "eth2",
			  .hwaddress = "00:07:43:28:b2:58",
			  .driver = "cxgb4",
			  .transport = "cxgb4i"};
	iface_netdev plain = {.name = "eth3", .hwaddress = MAC_A, .driver = "e1000e"};

	/* A bnx2i record on a Chelsio port cannot be used there. */
	add_rec(&s, "wrong", "bnx2i", NULL, "00:07:43:28:b2:58");
	add_rec(&s, "wrong-too", "bnx2i", NULL, MAC_A);
	expect_choice(&d, &s.list, "cxgb4i.00:07:43:28:b2:58", IFACE_ROUTE_OFFLOAD_NEW, false);
	expect_choice(&plain, &s.list, "default", IFACE_ROUTE_DEFAULT, true);

	/* Driver unknown: the record is kept, it may well be right. */
	plain.driver = NULL;
	expect_choice(&plain, &s.list, "wrong-too", IFACE_ROUTE_BY_HWADDRESS, true);
	recset_free(&s);
}

static void choose_offload_not_created(void **state)
{
	recset s = {0};
	iface_netdev d = {.name = "eth4",
			  .hwaddress = "00:0E:1E:00:00:01",
			  .driver = "qede",
			  .transport = "qedi"};

	add_rec(&s, "other", "tcp", "eth5", NULL);
	expect_choice(&d, &s.list, "qedi.00:0e:1e:00:00:01", IFACE_ROUTE_OFFLOAD_NEW, false);
	expect_choice(&d, NULL, "qedi.00:0e:1e:00:00:01", IFACE_ROUTE_OFFLOAD_NEW, false);

	/* No MAC, no generated name. */
	d.hwaddress = NULL;
	expect_choice(&d, &s.list, "default", IFACE_ROUTE_DEFAULT, true);
	recset_free(&s);
}

static void choose_default(void **state)
{
	recset s = {0};
	iface_netdev d = {.name = "veth-x", .hwaddress = MAC_B};
	iface_netdev lo = {.name = "lo"};
	iface_route_choice c = {0};
	lb_err err = {{0}};

	add_rec(&s, "A", "tcp", "veth-a", MAC_A);
	expect_choice(&d, &s.list, "default", IFACE_ROUTE_DEFAULT, true);
	expect_choice(&lo, &s.list, "default", IFACE_ROUTE_DEFAULT, true);
	expect_choice(&d, NULL, "default", IFACE_ROUTE_DEFAULT, true);

	d.name = NULL;
	assert_int_equal(iface_route_choose(&d, &s.list, &c, &err), -EINVAL);
	assert_null(c.iface);
	assert_int_equal(iface_route_choose(NULL, &s.list, &c, &err), -EINVAL);
	iface_route_choice_clear(NULL);
	recset_free(&s);
}

static void reason_names(void **state)
{
	assert_string_equal(iface_route_reason_str(IFACE_ROUTE_BY_NETDEV), "net_ifacename");
	assert_string_equal(iface_route_reason_str(IFACE_ROUTE_BY_HWADDRESS), "hwaddress");
	assert_string_equal(iface_route_reason_str(IFACE_ROUTE_OFFLOAD_NEW), "offload");
	assert_string_equal(iface_route_reason_str(IFACE_ROUTE_DEFAULT), "default");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(portal_ipv4),
	    cmocka_unit_test(portal_ipv6),
	    cmocka_unit_test(portal_bad_address),
	    cmocka_unit_test(portal_bad_brackets),
	    cmocka_unit_test(portal_bad_port),
	    cmocka_unit_test(reply_ipv4_gateway),
	    cmocka_unit_test(reply_ipv6_onlink),
	    cmocka_unit_test(reply_ipv4_via_ipv6),
	    cmocka_unit_test(reply_local),
	    cmocka_unit_test(reply_errors),
	    cmocka_unit_test(reply_route_types),
	    cmocka_unit_test(reply_malformed),
	    cmocka_unit_test(choose_by_netdev_and_mac),
	    cmocka_unit_test(choose_mac_case_insensitive),
	    cmocka_unit_test(choose_first_in_list_order),
	    cmocka_unit_test(choose_prefers_offload_record),
	    cmocka_unit_test(choose_skips_foreign_offload),
	    cmocka_unit_test(choose_offload_not_created),
	    cmocka_unit_test(choose_default),
	    cmocka_unit_test(reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
