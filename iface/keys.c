/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iface keys open-iscsi knows, and what each value may be. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "cleanup.h"
#include "iface-internal.h"

#define S(n) {"iface." n, IFACE_VAL_STR, IFACE_CHECK_TEXT, 0, 0}
#define SC(n, c) {"iface." n, IFACE_VAL_STR, c, 0, 0}
#define I(n, lo, hi) {"iface." n, IFACE_VAL_INT, IFACE_CHECK_INT, lo, hi}

const iface_key iface_keys[] = {
	SC("iscsi_ifacename", IFACE_CHECK_NAME),
	SC("net_ifacename", IFACE_CHECK_NETDEV),
	SC("ipaddress", IFACE_CHECK_IP),
	I("prefix_len", 0, 128),
	SC("hwaddress", IFACE_CHECK_MAC),
	SC("transport_name", IFACE_CHECK_TRANSPORT),
	SC("initiatorname", IFACE_CHECK_IQN),
	S("state"),
	I("vlan_id", 0, 4095),
	I("vlan_priority", 0, 7),
	S("vlan_state"),
	I("iface_num", 0, INT_MAX),
	I("mtu", 0, 65535),
	I("port", 0, 65535),
	S("bootproto"),
	SC("subnet_mask", IFACE_CHECK_IP),
	SC("gateway", IFACE_CHECK_IP),
	S("dhcp_alt_client_id_state"),
	S("dhcp_alt_client_id"),
	S("dhcp_dns"),
	S("dhcp_learn_iqn"),
	S("dhcp_req_vendor_id_state"),
	S("dhcp_vendor_id_state"),
	S("dhcp_vendor_id"),
	S("dhcp_slp_da"),
	S("fragmentation"),
	S("gratuitous_arp"),
	S("incoming_forwarding"),
	S("tos_state"),
	I("tos", 0, 255),
	I("ttl", 0, 255),
	S("delayed_ack"),
	S("tcp_nagle"),
	S("tcp_wsf_state"),
	I("tcp_wsf", 0, 255),
	I("tcp_timer_scale", 0, 255),
	S("tcp_timestamp"),
	S("redirect"),
	I("def_task_mgmt_timeout", 0, 65535),
	S("header_digest"),
	S("data_digest"),
	S("immediate_data"),
	S("initial_r2t"),
	S("data_seq_inorder"),
	S("data_pdu_inorder"),
	I("erl", 0, 2),
	I("max_receive_data_len", 0, INT_MAX),
	I("first_burst_len", 0, INT_MAX),
	I("max_outstanding_r2t", 0, 65535),
	I("max_burst_len", 0, INT_MAX),
	S("chap_auth"),
	S("bidi_chap"),
	S("strict_login_compliance"),
	S("discovery_auth"),
	S("discovery_logout"),
};
const size_t iface_nkeys = ARRAY_SIZE(iface_keys);

int iface_key_index(const char *name)
{
	for (size_t i = 0; i < iface_nkeys; i++)
		if (strcmp(iface_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool is_netdev_name(const char *s)
{
	size_t n = strlen(s);

	/* IFNAMSIZ is 16 with the NUL; the kernel's dev_valid_name(). */
	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *(const unsigned char *)s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool is_iscsi_name(const char *s)
{
	/* RFC 7143 section 4.2.7: at most 223 bytes, one of three types. */
	if (strlen(s) > 223)
		return false;
	if (strncasecmp(s, "iqn.", 4) && strncasecmp(s, "eui.", 4) && strncasecmp(s, "naa.", 4))
		return false;
	for (; *s; s++)
		if (*(const unsigned char *)s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

int iface_key_check_value(const iface_key *k, const char *value, lb_err *err)
{
	char *end;
	long v;

	if (strlen(value) > IFACE_VALUE_MAX)
		return lb_err_set(err, EINVAL, "value for %s is %zu characters, the limit is %d",
				  k->name, strlen(value), IFACE_VALUE_MAX);
	for (const char *p = value; *p; p++)
		if (*(const unsigned char *)p < ' ' || *p == 0x7f)
			return lb_err_set(err, EINVAL, "value for %s contains a control character",
					  k->name);

	switch (k->check) {
	case IFACE_CHECK_TEXT:
		return 0;
	case IFACE_CHECK_NAME:
		return iface_name_check(value, err);
	case IFACE_CHECK_NETDEV:
		if (!is_netdev_name(value))
			return lb_err_set(err, EINVAL, "'%s' is not a valid network interface name",
					  value);
		return 0;
	case IFACE_CHECK_IP:
		if (!iface_ip_valid(value))
			return lb_err_set(err, EINVAL, "'%s' is not an IPv4 or IPv6 address (%s)",
					  value, k->name);
		return 0;
	case IFACE_CHECK_MAC:
		if (!iface_mac_valid(value))
			return lb_err_set(err, EINVAL,
					  "'%s' is not a MAC address (six hex pairs like "
					  "00:07:43:28:b2:58)",
					  value);
		return 0;
	case IFACE_CHECK_TRANSPORT:
		if (iface_transport_kind_of(value) == IFACE_TRANSPORT_UNKNOWN)
			return lb_err_set(err, EINVAL,
					  "unknown transport '%s' (known: tcp, iser, cxgb3i, cxgb4i, "
					  "bnx2i, qla4xxx, be2iscsi, ocs, qedi)",
					  value);
		return 0;
	case IFACE_CHECK_IQN:
		if (!is_iscsi_name(value))
			return lb_err_set(err, EINVAL,
					  "'%s' is not an iSCSI name (iqn., eui. or naa., at most "
					  "223 characters, no spaces)",
					  value);
		return 0;
	case IFACE_CHECK_INT:
		if (value[0] < '0' || value[0] > '9')
			goto bad_int;
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || *end || v < k->min || v > k->max)
			goto bad_int;
		return 0;
	}
	return 0;

bad_int:
	return lb_err_set(err, EINVAL, "value for %s must be a whole number from %ld to %ld, not '%s'",
			  k->name, k->min, k->max, value);
}
