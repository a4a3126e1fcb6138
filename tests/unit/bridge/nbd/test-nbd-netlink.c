/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel NBD device's netlink messages, built and parsed back without
 * a kernel; the one real call this machine can answer (no NBD support);
 * and the process hardening that goes with serving a block device.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/genetlink.h>
#include <linux/nbd-netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "harden.h"
#include "nbd-netlink.h"
#include "nbd-proto.h"
#include "test-helpers.h"

#define FAMILY 0x1d

static const int three_fds[] = {7, 9, 11};

/* what the kernel's nbd_attr_policy and nbd_sock_policy say */
static struct nla_policy attr_policy[NBD_ATTR_MAX + 1] = {
	[NBD_ATTR_INDEX] = {.type = NLA_U32},
	[NBD_ATTR_SIZE_BYTES] = {.type = NLA_U64},
	[NBD_ATTR_BLOCK_SIZE_BYTES] = {.type = NLA_U64},
	[NBD_ATTR_TIMEOUT] = {.type = NLA_U64},
	[NBD_ATTR_SERVER_FLAGS] = {.type = NLA_U64},
	[NBD_ATTR_CLIENT_FLAGS] = {.type = NLA_U64},
	[NBD_ATTR_SOCKETS] = {.type = NLA_NESTED},
	[NBD_ATTR_DEAD_CONN_TIMEOUT] = {.type = NLA_U64},
	[NBD_ATTR_DEVICE_LIST] = {.type = NLA_NESTED},
	[NBD_ATTR_BACKEND_IDENTIFIER] = {.type = NLA_STRING},
};

static struct nla_policy sock_policy[NBD_SOCK_MAX + 1] = {
	[NBD_SOCK_FD] = {.type = NLA_U32},
};

static struct lb_nbd_netlink_config good_config(void)
{
	return (struct lb_nbd_netlink_config){
		.index = -1,
		.size_bytes = UINT64_C(1) << 30,
		.block_size = 4096,
		.server_flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
				NBD_FLAG_SEND_TRIM | NBD_FLAG_CAN_MULTI_CONN,
		.timeout_s = 30,
		.dead_conn_timeout_s = 120,
		.backend_id = "lunbridge:vol1",
		.fds = three_fds,
		.nfds = 3,
	};
}

/* Parse msg as the kernel would; returns the generic netlink command. */
static uint8_t parse(struct nl_msg *msg, struct nlattr **tb)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *ghdr;

	assert_int_equal(nlh->nlmsg_type, FAMILY);
	assert_true(genlmsg_valid_hdr(nlh, 0));
	ghdr = genlmsg_hdr(nlh);
	assert_int_equal(ghdr->version, NBD_GENL_VERSION);
	assert_int_equal(genlmsg_parse(nlh, 0, tb, NBD_ATTR_MAX, attr_policy), 0);
	return ghdr->cmd;
}

/* The socket list holds exactly want[0..n) in order, one per SOCK_ITEM. */
static void assert_sockets(struct nlattr *list, const int *want, unsigned n)
{
	struct nlattr *item;
	unsigned i = 0;
	int rem;

	assert_non_null(list);
	nla_for_each_nested(item, list, rem)
	{
		struct nlattr *sock[NBD_SOCK_MAX + 1];

		assert_int_equal(nla_type(item), NBD_SOCK_ITEM);
		assert_int_equal(nla_parse_nested(sock, NBD_SOCK_MAX, item, sock_policy), 0);
		assert_non_null(sock[NBD_SOCK_FD]);
		assert_true(i < n);
		assert_int_equal(nla_get_u32(sock[NBD_SOCK_FD]), want[i]);
		i++;
	}
	assert_int_equal(rem, 0);
	assert_int_equal(i, n);
}

static void test_connect_attributes(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, NULL), 0);
	assert_int_equal(parse(msg, tb), NBD_CMD_CONNECT);
	assert_null(tb[NBD_ATTR_INDEX]);
	assert_int_equal(nla_get_u64(tb[NBD_ATTR_SIZE_BYTES]), UINT64_C(1) << 30);
	assert_int_equal(nla_get_u64(tb[NBD_ATTR_BLOCK_SIZE_BYTES]), 4096);
	assert_int_equal(nla_get_u64(tb[NBD_ATTR_SERVER_FLAGS]),
			 NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
				 NBD_FLAG_SEND_TRIM | NBD_FLAG_CAN_MULTI_CONN);
	assert_int_equal(nla_get_u64(tb[NBD_ATTR_TIMEOUT]), 30);
	assert_int_equal(nla_get_u64(tb[NBD_ATTR_DEAD_CONN_TIMEOUT]), 120);
	assert_string_equal(nla_get_string(tb[NBD_ATTR_BACKEND_IDENTIFIER]), "lunbridge:vol1");
	assert_null(tb[NBD_ATTR_CLIENT_FLAGS]);
	assert_null(tb[NBD_ATTR_DEVICE_LIST]);
	nlmsg_free(msg);
}

static void test_connect_sockets_in_order(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, NULL), 0);
	parse(msg, tb);
	assert_sockets(tb[NBD_ATTR_SOCKETS], three_fds, 3);
	nlmsg_free(msg);
}

static void test_connect_one_socket_needs_no_multi_conn(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	c.nfds = 1;
	c.server_flags = NBD_FLAG_HAS_FLAGS;
	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, NULL), 0);
	parse(msg, tb);
	assert_sockets(tb[NBD_ATTR_SOCKETS], three_fds, 1);
	nlmsg_free(msg);
}

static void test_connect_index_present_when_chosen(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	c.index = 0;
	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, NULL), 0);
	parse(msg, tb);
	assert_non_null(tb[NBD_ATTR_INDEX]);
	assert_int_equal(nla_get_u32(tb[NBD_ATTR_INDEX]), 0);
	nlmsg_free(msg);

	msg = nlmsg_alloc();
	c.index = 5;
	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, NULL), 0);
	parse(msg, tb);
	assert_int_equal(nla_get_u32(tb[NBD_ATTR_INDEX]), 5);
	nlmsg_free(msg);
}

static void test_connect_without_backend_id(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	c.backend_id = NULL;
	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, NULL), 0);
	parse(msg, tb);
	assert_null(tb[NBD_ATTR_BACKEND_IDENTIFIER]);
	nlmsg_free(msg);
}

static void test_connect_max_sockets_fit(void **state)
{
	int fds[LB_NBD_NETLINK_MAX_SOCKETS];
	struct lb_nbd_netlink_config c = good_config();
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc_size(8192);

	for (unsigned i = 0; i < LB_NBD_NETLINK_MAX_SOCKETS; i++)
		fds[i] = (int)(1000 + i);
	c.fds = fds;
	c.nfds = LB_NBD_NETLINK_MAX_SOCKETS;
	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, NULL), 0);
	parse(msg, tb);
	assert_sockets(tb[NBD_ATTR_SOCKETS], fds, LB_NBD_NETLINK_MAX_SOCKETS);
	nlmsg_free(msg);
}

static void test_connect_too_small_message(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	struct nl_msg *msg = nlmsg_alloc_size(64);
	lb_err err;

	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, &c, &err), -EMSGSIZE);
	assert_string_equal(err.msg, "the NBD CONNECT message with 3 sockets does not fit");
	nlmsg_free(msg);
}

/* c is refused with exactly `sentence`, and nothing is written to msg. */
static void assert_refused(const struct lb_nbd_netlink_config *c, const char *sentence)
{
	struct nl_msg *msg = nlmsg_alloc();
	lb_err err = {{0}};

	assert_int_equal(lb_nbd_netlink_build_connect(msg, FAMILY, c, &err), -EINVAL);
	assert_string_equal(err.msg, sentence);
	assert_int_equal(nlmsg_hdr(msg)->nlmsg_len, NLMSG_HDRLEN);
	nlmsg_free(msg);

	err.msg[0] = '\0';
	assert_int_equal(lb_nbd_netlink_check_config(c, &err), -EINVAL);
	assert_string_equal(err.msg, sentence);
}

static void test_refuse_zero_size(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.size_bytes = 0;
	assert_refused(&c, "the device size is zero");
}

static void test_refuse_size_not_block_multiple(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.size_bytes = 4096 * 10 + 512;
	assert_refused(&c, "device size 41472 is not a multiple of the block size 4096");
}

static void test_refuse_huge_size(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.size_bytes = UINT64_MAX - 4095;
	assert_refused(&c, "device size 18446744073709547520 is more than the kernel can address");
}

static void test_refuse_block_not_power_of_two(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.block_size = 3072;
	c.size_bytes = 3072 * 100;
	assert_refused(&c, "block size 3072 is not a power of two from 512 to 4096 bytes");
}

static void test_refuse_block_too_small(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.block_size = 256;
	assert_refused(&c, "block size 256 is not a power of two from 512 to 4096 bytes");
}

static void test_refuse_block_too_big(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.block_size = 8192;
	assert_refused(&c, "block size 8192 is not a power of two from 512 to 4096 bytes");
}

static void test_refuse_block_zero(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.block_size = 0;
	assert_refused(&c, "block size 0 is not a power of two from 512 to 4096 bytes");
}

static void test_refuse_no_sockets(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.nfds = 0;
	assert_refused(&c, "an NBD device needs at least one socket");
	c.nfds = 3;
	c.fds = NULL;
	assert_refused(&c, "an NBD device needs at least one socket");
}

static void test_refuse_negative_fd(void **state)
{
	const int fds[] = {7, -1};
	struct lb_nbd_netlink_config c = good_config();

	c.fds = fds;
	c.nfds = 2;
	assert_refused(&c, "socket 2 of 2 is not an open file descriptor (-1)");
}

static void test_refuse_too_many_sockets(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.nfds = LB_NBD_NETLINK_MAX_SOCKETS + 1;
	assert_refused(&c, "257 sockets are more than the 256 lunbridge hands over");
}

static void test_refuse_many_sockets_without_multi_conn(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.server_flags &= ~(uint64_t)NBD_FLAG_CAN_MULTI_CONN;
	assert_refused(&c, "3 sockets need NBD_FLAG_CAN_MULTI_CONN in the server flags");
}

static void test_refuse_long_backend_id(void **state)
{
	char id[LB_NBD_NETLINK_MAX_BACKEND_ID + 2];
	struct lb_nbd_netlink_config c = good_config();

	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	c.backend_id = id;
	assert_refused(&c, "a backend identifier of 256 bytes is too long (at most 255)");

	id[LB_NBD_NETLINK_MAX_BACKEND_ID] = '\0'; /* 255 bytes: fine */
	assert_int_equal(lb_nbd_netlink_check_config(&c, NULL), 0);
}

static void test_refuse_empty_backend_id(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.backend_id = "";
	assert_refused(&c, "the backend identifier is empty");
}

static void test_refuse_bad_index(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.index = -2;
	assert_refused(&c, "device index -2 is not valid (-1 picks a free one)");
}

static void test_refuse_wide_server_flags(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.server_flags |= UINT64_C(1) << 16;
	assert_refused(&c, "server flags 0x1012d do not fit the 16 NBD transmission flag bits");
}

static void test_refuse_long_timeout(void **state)
{
	struct lb_nbd_netlink_config c = good_config();

	c.timeout_s = LB_NBD_NETLINK_MAX_TIMEOUT + 1;
	assert_refused(&c, "an I/O timeout of 4294968 s is too long (at most 4294967 s)");
}

static void test_refuse_bad_family(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	struct nl_msg *msg = nlmsg_alloc();
	lb_err err;

	assert_int_equal(lb_nbd_netlink_build_connect(msg, 0, &c, &err), -EINVAL);
	assert_string_equal(err.msg, "generic netlink family id 0 is not valid");
	assert_int_equal(lb_nbd_netlink_build_disconnect(msg, -12, 1, &err), -EINVAL);
	assert_string_equal(err.msg, "generic netlink family id -12 is not valid");
	nlmsg_free(msg);
}

static void test_disconnect_message(void **state)
{
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	assert_int_equal(lb_nbd_netlink_build_disconnect(msg, FAMILY, 3, NULL), 0);
	assert_int_equal(parse(msg, tb), NBD_CMD_DISCONNECT);
	assert_non_null(tb[NBD_ATTR_INDEX]);
	assert_int_equal(nla_get_u32(tb[NBD_ATTR_INDEX]), 3);
	for (int a = NBD_ATTR_SIZE_BYTES; a <= NBD_ATTR_MAX; a++)
		assert_null(tb[a]);
	nlmsg_free(msg);
}

static void test_disconnect_refuses_bad_index(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	lb_err err;

	assert_int_equal(lb_nbd_netlink_build_disconnect(msg, FAMILY, UINT32_MAX, &err), -EINVAL);
	assert_string_equal(err.msg, "device index 4294967295 is not valid");
	nlmsg_free(msg);
}

static void test_reconfigure_message(void **state)
{
	const int fds[] = {21, 22};
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	assert_int_equal(
		lb_nbd_netlink_build_reconfigure(msg, FAMILY, 4, "lunbridge:vol1", fds, 2, NULL),
		0);
	assert_int_equal(parse(msg, tb), NBD_CMD_RECONFIGURE);
	assert_int_equal(nla_get_u32(tb[NBD_ATTR_INDEX]), 4);
	assert_string_equal(nla_get_string(tb[NBD_ATTR_BACKEND_IDENTIFIER]), "lunbridge:vol1");
	assert_sockets(tb[NBD_ATTR_SOCKETS], fds, 2);
	assert_null(tb[NBD_ATTR_SIZE_BYTES]);
	assert_null(tb[NBD_ATTR_SERVER_FLAGS]);
	nlmsg_free(msg);
}

static void test_reconfigure_without_backend_id(void **state)
{
	const int fds[] = {21};
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct nl_msg *msg = nlmsg_alloc();

	assert_int_equal(lb_nbd_netlink_build_reconfigure(msg, FAMILY, 4, NULL, fds, 1, NULL), 0);
	parse(msg, tb);
	assert_null(tb[NBD_ATTR_BACKEND_IDENTIFIER]);
	assert_sockets(tb[NBD_ATTR_SOCKETS], fds, 1);
	nlmsg_free(msg);
}

static void test_reconfigure_refuses_no_sockets(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	lb_err err;

	assert_int_equal(lb_nbd_netlink_build_reconfigure(msg, FAMILY, 4, "x", NULL, 0, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "an NBD device needs at least one socket");
	assert_int_equal(nlmsg_hdr(msg)->nlmsg_len, NLMSG_HDRLEN);
	nlmsg_free(msg);
}

/* A reply as nbd_connect_reply() sends it. */
static struct nl_msg *reply(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(genlmsg_put(msg, 0, 1, FAMILY, 0, 0, cmd, NBD_GENL_VERSION));
	return msg;
}

/* LINK_DEAD, as nbd_mcast_index() multicasts it */

static void test_link_dead_gives_index(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_LINK_DEAD);
	uint32_t index = 99;

	assert_int_equal(nla_put_u32(msg, NBD_ATTR_INDEX, 3), 0);
	assert_int_equal(lb_nbd_netlink_parse_link_dead(nlmsg_hdr(msg), &index, NULL), 0);
	assert_int_equal(index, 3);
	nlmsg_free(msg);
}

static void test_link_dead_other_command_skipped(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_STATUS);
	uint32_t index = 99;

	assert_int_equal(nla_put_u32(msg, NBD_ATTR_INDEX, 3), 0);
	assert_int_equal(lb_nbd_netlink_parse_link_dead(nlmsg_hdr(msg), &index, NULL), -ENOMSG);
	assert_int_equal(index, 99);
	nlmsg_free(msg);
}

static void test_link_dead_without_index(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_LINK_DEAD);
	uint32_t index = 99;
	lb_err err;

	assert_int_equal(lb_nbd_netlink_parse_link_dead(nlmsg_hdr(msg), &index, &err), -EPROTO);
	assert_string_equal(err.msg, "the kernel's LINK_DEAD event names no device");
	assert_int_equal(index, 99);
	nlmsg_free(msg);
}

static void test_link_dead_short_index(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_LINK_DEAD);
	const uint8_t one = 3;
	uint32_t index = 99;
	lb_err err;

	assert_int_equal(nla_put(msg, NBD_ATTR_INDEX, sizeof(one), &one), 0);
	assert_int_equal(lb_nbd_netlink_parse_link_dead(nlmsg_hdr(msg), &index, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "the kernel's LINK_DEAD event is malformed: "));
	assert_int_equal(index, 99);
	nlmsg_free(msg);
}

static void test_link_dead_without_genl_header(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	uint32_t index = 99;
	lb_err err;

	assert_non_null(nlmsg_put(msg, 0, 0, FAMILY, 0, 0));
	assert_int_equal(lb_nbd_netlink_parse_link_dead(nlmsg_hdr(msg), &index, &err), -EPROTO);
	assert_string_equal(err.msg, "an NBD event shorter than its header");
	nlmsg_free(msg);
}

static void test_reply_gives_index(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_CONNECT);
	uint32_t index = 99;

	assert_int_equal(nla_put_u32(msg, NBD_ATTR_INDEX, 7), 0);
	assert_int_equal(lb_nbd_netlink_parse_connect_reply(nlmsg_hdr(msg), &index, NULL), 0);
	assert_int_equal(index, 7);
	nlmsg_free(msg);
}

static void test_reply_without_index(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_CONNECT);
	uint32_t index = 99;
	lb_err err;

	assert_int_equal(nla_put_u64(msg, NBD_ATTR_SIZE_BYTES, 4096), 0);
	assert_int_equal(lb_nbd_netlink_parse_connect_reply(nlmsg_hdr(msg), &index, &err), -EPROTO);
	assert_string_equal(err.msg, "the kernel's CONNECT reply names no device index");
	assert_int_equal(index, 99);
	nlmsg_free(msg);
}

static void test_reply_short_index(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_CONNECT);
	const uint16_t half = 7;
	uint32_t index = 99;
	lb_err err;

	assert_int_equal(nla_put(msg, NBD_ATTR_INDEX, sizeof(half), &half), 0);
	assert_int_equal(lb_nbd_netlink_parse_connect_reply(nlmsg_hdr(msg), &index, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "the kernel's CONNECT reply is malformed: "));
	assert_int_equal(index, 99);
	nlmsg_free(msg);
}

static void test_reply_other_command(void **state)
{
	struct nl_msg *msg = reply(NBD_CMD_STATUS);
	uint32_t index = 99;
	lb_err err;

	assert_int_equal(nla_put_u32(msg, NBD_ATTR_INDEX, 7), 0);
	assert_int_equal(lb_nbd_netlink_parse_connect_reply(nlmsg_hdr(msg), &index, &err), -EPROTO);
	assert_string_equal(err.msg, "the kernel answered CONNECT with command 5");
	assert_int_equal(index, 99);
	nlmsg_free(msg);
}

static void test_reply_without_genl_header(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	uint32_t index = 99;
	lb_err err;

	assert_non_null(nlmsg_put(msg, 0, 1, FAMILY, 0, 0));
	assert_int_equal(lb_nbd_netlink_parse_connect_reply(nlmsg_hdr(msg), &index, &err), -EPROTO);
	assert_string_equal(err.msg, "the kernel's CONNECT reply is shorter than its header");
	nlmsg_free(msg);
}

/* lb_nbd_netlink_transact against the kernel's own "nlctrl" family, which every
 * kernel has: the ACK and error paths without NBD. */
static struct nl_sock *genl_socket(int *ret_ctrl)
{
	struct nl_sock *sk = nl_socket_alloc();

	assert_non_null(sk);
	assert_int_equal(genl_connect(sk), 0);
	*ret_ctrl = genl_ctrl_resolve(sk, "nlctrl");
	assert_true(*ret_ctrl > 0);
	return sk;
}

static void test_transact_reports_kernel_error(void **state)
{
	struct lb_nbd_netlink_answer a = {.kernel_error = 1};
	struct nl_msg *msg = nlmsg_alloc();
	lb_err err = {{0}};
	int ctrl;
	struct nl_sock *sk = genl_socket(&ctrl);

	/* nlctrl has no command 2 (NBD_CMD_DISCONNECT's number): the
	 * kernel's error ACK must come back as its errno */
	assert_int_equal(lb_nbd_netlink_build_disconnect(msg, ctrl, 0, NULL), 0);
	assert_int_equal(lb_nbd_netlink_transact(sk, msg, &a, &err), 0);
	assert_int_equal(a.kernel_error, -EOPNOTSUPP);
	assert_false(a.has_index);
	assert_string_equal(err.msg, "");
	nlmsg_free(msg);
	nl_socket_free(sk);
}

static void test_transact_waits_for_ack_after_reply(void **state)
{
	struct lb_nbd_netlink_answer a = {.kernel_error = 1};
	struct nl_msg *msg = nlmsg_alloc();
	int ctrl;
	struct nl_sock *sk = genl_socket(&ctrl);

	/* GETFAMILY answers with a message, then the ACK */
	assert_non_null(
		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctrl, 0, 0, CTRL_CMD_GETFAMILY, 1));
	assert_int_equal(nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "nlctrl"), 0);
	assert_int_equal(lb_nbd_netlink_transact(sk, msg, &a, NULL), 0);
	assert_int_equal(a.kernel_error, 0);
	assert_int_equal(a.reply_error, 0);
	assert_false(a.has_index);
	nlmsg_free(msg);
	nl_socket_free(sk);
}

static void test_transact_refuses_non_genl_message(void **state)
{
	struct lb_nbd_netlink_answer a = {.kernel_error = 1};
	struct nl_msg *msg = nlmsg_alloc();
	int ctrl;
	struct nl_sock *sk = genl_socket(&ctrl);
	lb_err err;

	assert_int_equal(lb_nbd_netlink_transact(sk, msg, &a, &err), -EINVAL);
	assert_string_equal(err.msg, "not a generic netlink message");
	assert_int_equal(a.kernel_error, 1);
	nlmsg_free(msg);
	nl_socket_free(sk);
}

static const char no_nbd[] =
	"the kernel has no NBD support: generic netlink family 'nbd' not found (modprobe nbd)";

static int kernel_has_nbd(void)
{
	return access("/sys/module/nbd", F_OK) == 0;
}

static void test_connect_without_kernel_nbd(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	uint32_t index = 99;
	lb_err err = {{0}};
	int sv[2];

	if (kernel_has_nbd()) {
		print_message("skipped: /sys/module/nbd exists, this kernel has NBD\n");
		skip();
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c.fds = &sv[0];
	c.nfds = 1;
	assert_int_equal(lb_nbd_netlink_connect(&c, &index, &err), -ENODEV);
	assert_string_equal(err.msg, no_nbd);
	assert_int_equal(index, 99);
	close(sv[0]);
	close(sv[1]);
}

static void test_disconnect_without_kernel_nbd(void **state)
{
	lb_err err = {{0}};

	if (kernel_has_nbd())
		skip();
	assert_int_equal(lb_nbd_netlink_disconnect(0, &err), -ENODEV);
	assert_string_equal(err.msg, no_nbd);
}

static void test_monitor_without_kernel_nbd(void **state)
{
	struct lb_nbd_netlink_monitor *m = NULL;
	lb_err err = {{0}};

	if (kernel_has_nbd())
		skip();
	assert_int_equal(lb_nbd_netlink_monitor_open(&m, &err), -ENODEV);
	assert_string_equal(err.msg, no_nbd);
	assert_null(m);
	lb_nbd_netlink_monitor_free(NULL);
}

static void test_connect_checks_before_the_kernel(void **state)
{
	struct lb_nbd_netlink_config c = good_config();
	uint32_t index = 99;
	lb_err err;

	c.block_size = 1000;
	assert_int_equal(lb_nbd_netlink_connect(&c, &index, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "block size 1000 is not a power of two from 512 to 4096 bytes");
	assert_int_equal(lb_nbd_netlink_reconfigure(0, "x", NULL, 0, &err), -EINVAL);
	assert_string_equal(err.msg, "an NBD device needs at least one socket");
}

/* harden */

struct lines {
	unsigned n;
	char last[512];
};

static void collect(void *arg, const char *line)
{
	struct lines *l = arg;

	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", line);
}

static void test_oom_score_adj_written(void **state)
{
	char dir[64], path[96], *buf;
	struct lines l = {0};

	assert_int_equal(test_tmpdir_new("harden", dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/oom_score_adj", dir);
	assert_int_equal(test_write_file(path, ""), 0);
	assert_int_equal(lb_harden_oom_score_adj(path, LB_HARDEN_OOM_SCORE_ADJ_MIN, collect, &l),
			 0);
	assert_int_equal(l.n, 0);
	buf = test_read_file(path, NULL);
	assert_non_null(buf);
	assert_int_equal(test_tmpdir_remove(dir), 0);
	assert_string_equal(buf, "-1000\n");
	free(buf);
}

static void test_oom_score_adj_failure_warns(void **state)
{
	const char *path = "/nonexistent-lunbridge-dir/oom_score_adj";
	struct lines l = {0};

	assert_int_equal(lb_harden_oom_score_adj(path, -1000, collect, &l), -ENOENT);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.last,
			    "cannot write -1000 to /nonexistent-lunbridge-dir/oom_score_adj: "
			    "No such file or directory");
	/* no warn callback: still the error, nothing else */
	assert_int_equal(lb_harden_oom_score_adj(path, -1000, NULL, NULL), -ENOENT);
}

/* In a child, since it changes the process for good: the count returned
 * is the number of lines warned, whatever this machine allows. */
static void test_harden_counts_failures(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct lines l = {0};
		int failed = lb_harden_for_block_device(collect, &l);

		_exit(failed >= 0 && failed <= 3 && (unsigned)failed == l.n ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_attributes),
		cmocka_unit_test(test_connect_sockets_in_order),
		cmocka_unit_test(test_connect_one_socket_needs_no_multi_conn),
		cmocka_unit_test(test_connect_index_present_when_chosen),
		cmocka_unit_test(test_connect_without_backend_id),
		cmocka_unit_test(test_connect_max_sockets_fit),
		cmocka_unit_test(test_connect_too_small_message),
		cmocka_unit_test(test_refuse_zero_size),
		cmocka_unit_test(test_refuse_size_not_block_multiple),
		cmocka_unit_test(test_refuse_huge_size),
		cmocka_unit_test(test_refuse_block_not_power_of_two),
		cmocka_unit_test(test_refuse_block_too_small),
		cmocka_unit_test(test_refuse_block_too_big),
		cmocka_unit_test(test_refuse_block_zero),
		cmocka_unit_test(test_refuse_no_sockets),
		cmocka_unit_test(test_refuse_negative_fd),
		cmocka_unit_test(test_refuse_too_many_sockets),
		cmocka_unit_test(test_refuse_many_sockets_without_multi_conn),
		cmocka_unit_test(test_refuse_long_backend_id),
		cmocka_unit_test(test_refuse_empty_backend_id),
		cmocka_unit_test(test_refuse_bad_index),
		cmocka_unit_test(test_refuse_wide_server_flags),
		cmocka_unit_test(test_refuse_long_timeout),
		cmocka_unit_test(test_refuse_bad_family),
		cmocka_unit_test(test_disconnect_message),
		cmocka_unit_test(test_disconnect_refuses_bad_index),
		cmocka_unit_test(test_reconfigure_message),
		cmocka_unit_test(test_reconfigure_without_backend_id),
		cmocka_unit_test(test_reconfigure_refuses_no_sockets),
		cmocka_unit_test(test_link_dead_gives_index),
		cmocka_unit_test(test_link_dead_other_command_skipped),
		cmocka_unit_test(test_link_dead_without_index),
		cmocka_unit_test(test_link_dead_short_index),
		cmocka_unit_test(test_link_dead_without_genl_header),
		cmocka_unit_test(test_reply_gives_index),
		cmocka_unit_test(test_reply_without_index),
		cmocka_unit_test(test_reply_short_index),
		cmocka_unit_test(test_reply_other_command),
		cmocka_unit_test(test_reply_without_genl_header),
		cmocka_unit_test(test_transact_reports_kernel_error),
		cmocka_unit_test(test_transact_waits_for_ack_after_reply),
		cmocka_unit_test(test_transact_refuses_non_genl_message),
		cmocka_unit_test(test_connect_without_kernel_nbd),
		cmocka_unit_test(test_disconnect_without_kernel_nbd),
		cmocka_unit_test(test_monitor_without_kernel_nbd),
		cmocka_unit_test(test_connect_checks_before_the_kernel),
		cmocka_unit_test(test_oom_score_adj_written),
		cmocka_unit_test(test_oom_score_adj_failure_warns),
		cmocka_unit_test(test_harden_counts_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
