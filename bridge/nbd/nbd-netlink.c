/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/nbd-netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "cleanup.h"
#include "modprobe.h"
#include "nbd-netlink.h"
#include "nbd-proto.h"

/* room for LB_NBD_NETLINK_MAX_SOCKETS (12 bytes each) and everything else */
#define NBD_NL_MSG_SIZE 8192u

DEFINE_CLEANUP_FUNC(struct nl_sock, nl_socket_free)
DEFINE_CLEANUP_FUNC(struct nl_msg, nlmsg_free)
DEFINE_CLEANUP_FUNC(struct nl_cb, nl_cb_put)

/* libnl's error codes back to the errno they most likely came from */
static int nlerr_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_PERM:
		return EPERM;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_INTR:
		return EINTR;
	case NLE_INVAL:
	case NLE_RANGE:
		return EINVAL;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_AF_NOSUPPORT:
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	case NLE_NODEV:
		return ENODEV;
	case NLE_BAD_SOCK:
		return EBADF;
	default:
		return EIO;
	}
}

static int check_family(int family, lb_err *err)
{
	if (family <= 0 || family > UINT16_MAX)
		return lb_err_set(err, EINVAL, "generic netlink family id %d is not valid", family);
	return 0;
}

static int check_sockets(const int *fds, unsigned nfds, lb_err *err)
{
	if (!fds || nfds == 0)
		return lb_err_set(err, EINVAL, "an NBD device needs at least one socket");
	if (nfds > LB_NBD_NETLINK_MAX_SOCKETS)
		return lb_err_set(err, EINVAL,
				  "%u sockets are more than the %u lunbridge hands over", nfds,
				  LB_NBD_NETLINK_MAX_SOCKETS);
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return lb_err_set(err, EINVAL,
					  "socket %u of %u is not an open file descriptor (%d)",
					  i + 1, nfds, fds[i]);
	return 0;
}

static int check_backend_id(const char *id, lb_err *err)
{
	size_t len;

	if (!id)
		return 0;
	len = strlen(id);
	if (len == 0)
		return lb_err_set(err, EINVAL, "the backend identifier is empty");
	if (len > LB_NBD_NETLINK_MAX_BACKEND_ID)
		return lb_err_set(err, EINVAL,
				  "a backend identifier of %zu bytes is too long (at most %u)", len,
				  LB_NBD_NETLINK_MAX_BACKEND_ID);
	return 0;
}

int lb_nbd_netlink_check_config(const struct lb_nbd_netlink_config *c, lb_err *err)
{
	unsigned long long size = c->size_bytes, bs = c->block_size;
	int rc;

	if (c->index < -1)
		return lb_err_set(err, EINVAL, "device index %d is not valid (-1 picks a free one)",
				  c->index);
	rc = check_sockets(c->fds, c->nfds, err);
	if (rc < 0)
		return rc;
	if (c->nfds > 1 && !(c->server_flags & NBD_FLAG_CAN_MULTI_CONN))
		return lb_err_set(err, EINVAL,
				  "%u sockets need NBD_FLAG_CAN_MULTI_CONN in the server flags",
				  c->nfds);
	if (bs < LB_NBD_NETLINK_MIN_BLOCK_SIZE || bs > LB_NBD_NETLINK_MAX_BLOCK_SIZE ||
	    (bs & (bs - 1)))
		return lb_err_set(err, EINVAL,
				  "block size %llu is not a power of two from %u to %u bytes", bs,
				  LB_NBD_NETLINK_MIN_BLOCK_SIZE, LB_NBD_NETLINK_MAX_BLOCK_SIZE);
	if (size == 0)
		return lb_err_set(err, EINVAL, "the device size is zero");
	if (size > INT64_MAX)
		return lb_err_set(err, EINVAL,
				  "device size %llu is more than the kernel can address", size);
	if (size % bs)
		return lb_err_set(err, EINVAL,
				  "device size %llu is not a multiple of the block size %llu", size,
				  bs);
	if (c->server_flags > UINT16_MAX)
		return lb_err_set(
			err, EINVAL,
			"server flags 0x%llx do not fit the 16 NBD transmission flag bits",
			(unsigned long long)c->server_flags);
	if (c->timeout_s > LB_NBD_NETLINK_MAX_TIMEOUT)
		return lb_err_set(err, EINVAL,
				  "an I/O timeout of %llu s is too long (at most %u s)",
				  (unsigned long long)c->timeout_s, LB_NBD_NETLINK_MAX_TIMEOUT);
	return check_backend_id(c->backend_id, err);
}

static int put_header(struct nl_msg *msg, int family, uint8_t cmd, lb_err *err)
{
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd, NBD_GENL_VERSION))
		return lb_err_set(err, EMSGSIZE, "no room for a generic netlink header");
	return 0;
}

/* [NBD_ATTR_SOCKETS] [NBD_SOCK_ITEM] [NBD_SOCK_FD] ... in the given order */
static int put_sockets(struct nl_msg *msg, const int *fds, unsigned nfds)
{
	struct nlattr *list = nla_nest_start(msg, NBD_ATTR_SOCKETS);

	if (!list)
		return -EMSGSIZE;
	for (unsigned i = 0; i < nfds; i++) {
		struct nlattr *item = nla_nest_start(msg, NBD_SOCK_ITEM);

		if (!item || nla_put_u32(msg, NBD_SOCK_FD, (uint32_t)fds[i]) < 0)
			return -EMSGSIZE;
		if (nla_nest_end(msg, item) < 0)
			return -EMSGSIZE;
	}
	return nla_nest_end(msg, list) < 0 ? -EMSGSIZE : 0;
}

static int too_big(const char *what, unsigned nfds, lb_err *err)
{
	return lb_err_set(err, EMSGSIZE, "the NBD %s message with %u sockets does not fit", what,
			  nfds);
}

int lb_nbd_netlink_build_connect(struct nl_msg *msg, int family,
				 const struct lb_nbd_netlink_config *c, lb_err *err)
{
	int rc;

	rc = check_family(family, err);
	if (rc < 0)
		return rc;
	rc = lb_nbd_netlink_check_config(c, err);
	if (rc < 0)
		return rc;
	rc = put_header(msg, family, NBD_CMD_CONNECT, err);
	if (rc < 0)
		return rc;
	if (c->index >= 0 && nla_put_u32(msg, NBD_ATTR_INDEX, (uint32_t)c->index) < 0)
		return too_big("CONNECT", c->nfds, err);
	if (nla_put_u64(msg, NBD_ATTR_SIZE_BYTES, c->size_bytes) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_BLOCK_SIZE_BYTES, c->block_size) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_SERVER_FLAGS, c->server_flags) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_TIMEOUT, c->timeout_s) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_DEAD_CONN_TIMEOUT, c->dead_conn_timeout_s) < 0)
		return too_big("CONNECT", c->nfds, err);
	if (c->backend_id && nla_put_string(msg, NBD_ATTR_BACKEND_IDENTIFIER, c->backend_id) < 0)
		return too_big("CONNECT", c->nfds, err);
	if (put_sockets(msg, c->fds, c->nfds) < 0)
		return too_big("CONNECT", c->nfds, err);
	return 0;
}

int lb_nbd_netlink_build_disconnect(struct nl_msg *msg, int family, uint32_t index, lb_err *err)
{
	int rc;

	rc = check_family(family, err);
	if (rc < 0)
		return rc;
	if (index > INT32_MAX)
		return lb_err_set(err, EINVAL, "device index %u is not valid", index);
	rc = put_header(msg, family, NBD_CMD_DISCONNECT, err);
	if (rc < 0)
		return rc;
	if (nla_put_u32(msg, NBD_ATTR_INDEX, index) < 0)
		return too_big("DISCONNECT", 0, err);
	return 0;
}

int lb_nbd_netlink_build_reconfigure(struct nl_msg *msg, int family, uint32_t index,
				     const char *backend_id, const int *fds, unsigned nfds,
				     lb_err *err)
{
	int rc;

	rc = check_family(family, err);
	if (rc < 0)
		return rc;
	if (index > INT32_MAX)
		return lb_err_set(err, EINVAL, "device index %u is not valid", index);
	rc = check_sockets(fds, nfds, err);
	if (rc < 0)
		return rc;
	rc = check_backend_id(backend_id, err);
	if (rc < 0)
		return rc;
	rc = put_header(msg, family, NBD_CMD_RECONFIGURE, err);
	if (rc < 0)
		return rc;
	if (nla_put_u32(msg, NBD_ATTR_INDEX, index) < 0 ||
	    (backend_id && nla_put_string(msg, NBD_ATTR_BACKEND_IDENTIFIER, backend_id) < 0) ||
	    put_sockets(msg, fds, nfds) < 0)
		return too_big("RECONFIGURE", nfds, err);
	return 0;
}

int lb_nbd_netlink_parse_connect_reply(struct nlmsghdr *nlh, uint32_t *ret_index, lb_err *err)
{
	static struct nla_policy policy[NBD_ATTR_MAX + 1] = {
		[NBD_ATTR_INDEX] = {.type = NLA_U32},
	};
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	struct genlmsghdr *ghdr;
	int rc;

	if (!genlmsg_valid_hdr(nlh, 0))
		return lb_err_set(err, EPROTO,
				  "the kernel's CONNECT reply is shorter than its header");
	ghdr = genlmsg_hdr(nlh);
	if (ghdr->cmd != NBD_CMD_CONNECT)
		return lb_err_set(err, EPROTO, "the kernel answered CONNECT with command %u",
				  ghdr->cmd);
	rc = genlmsg_parse(nlh, 0, tb, NBD_ATTR_MAX, policy);
	if (rc < 0)
		return lb_err_set(err, EPROTO, "the kernel's CONNECT reply is malformed: %s",
				  nl_geterror(rc));
	if (!tb[NBD_ATTR_INDEX])
		return lb_err_set(err, EPROTO, "the kernel's CONNECT reply names no device index");
	*ret_index = nla_get_u32(tb[NBD_ATTR_INDEX]);
	return 0;
}

struct nbd_nl_txn {
	bool want_index; /* the request is a CONNECT */
	bool answered;	 /* ACK or error seen */
	struct lb_nbd_netlink_answer *a;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nbd_nl_txn *t = arg;
	int rc;

	if (!t->want_index || t->a->has_index)
		return NL_OK;
	rc = lb_nbd_netlink_parse_connect_reply(nlmsg_hdr(msg), &t->a->index, NULL);
	if (rc < 0)
		t->a->reply_error = rc;
	else
		t->a->has_index = true;
	return NL_OK;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nbd_nl_txn *t = arg;

	t->answered = true;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nbd_nl_txn *t = arg;

	t->answered = true;
	t->a->kernel_error = e->error > 0 ? -e->error : e->error;
	if (t->a->kernel_error == 0)
		t->a->kernel_error = -EPROTO;
	return NL_STOP;
}

int lb_nbd_netlink_transact(struct nl_sock *sk, struct nl_msg *msg,
			    struct lb_nbd_netlink_answer *ret, lb_err *err)
{
	_cleanup_(nl_cb_putp) struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	struct lb_nbd_netlink_answer a = {0};
	struct nbd_nl_txn t = {.a = &a};
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	const char *what = "request";
	int rc;

	if (!genlmsg_valid_hdr(nlh, 0))
		return lb_err_set(err, EINVAL, "not a generic netlink message");
	switch (genlmsg_hdr(nlh)->cmd) {
	case NBD_CMD_CONNECT:
		t.want_index = true;
		what = "CONNECT";
		break;
	case NBD_CMD_DISCONNECT:
		what = "DISCONNECT";
		break;
	case NBD_CMD_RECONFIGURE:
		what = "RECONFIGURE";
		break;
	default:
		break;
	}
	if (!cb)
		return lb_err_set(err, ENOMEM, "out of memory");
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &t);

	rc = nl_send_auto(sk, msg);
	if (rc < 0)
		return lb_err_set(err, nlerr_to_errno(rc), "cannot send NBD %s to the kernel: %s",
				  what, nl_geterror(rc));
	while (!t.answered) {
		rc = nl_recvmsgs(sk, cb);
		if (!t.answered && rc < 0)
			return lb_err_set(err, nlerr_to_errno(rc),
					  "no answer from the kernel to NBD %s: %s", what,
					  nl_geterror(rc));
	}
	*ret = a;
	return 0;
}

/* Resolve the family on a fresh socket: the only place that learns whether
 * the kernel has NBD at all.  (Looking the family up lets the kernel load
 * nbd.ko through its module alias when it is installed.) */
static int nbd_nl_open(struct nl_sock **ret_sk, int *ret_family, lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
	int rc, family;

	if (!sk)
		return lb_err_set(err, ENOMEM, "out of memory");
	rc = genl_connect(sk);
	if (rc < 0)
		return lb_err_set(err, nlerr_to_errno(rc),
				  "cannot open a generic netlink socket: %s", nl_geterror(rc));
	nl_socket_enable_auto_ack(sk);
	family = genl_ctrl_resolve(sk, NBD_GENL_FAMILY_NAME);
	if (family == -NLE_OBJ_NOTFOUND)
		return lb_err_set(err, ENODEV,
				  "the kernel has no NBD support: generic netlink family '%s' not "
				  "found (modprobe nbd)",
				  NBD_GENL_FAMILY_NAME);
	if (family < 0)
		return lb_err_set(err, nlerr_to_errno(family),
				  "cannot look up the generic netlink family '%s': %s",
				  NBD_GENL_FAMILY_NAME, nl_geterror(family));
	*ret_sk = TAKE_PTR(sk);
	*ret_family = family;
	return 0;
}

/* A socket that knows the family and an empty message big enough for
 * LB_NBD_NETLINK_MAX_SOCKETS. */
static int nbd_nl_prepare(struct nl_sock **ret_sk, struct nl_msg **ret_msg, int *ret_family,
			  lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	struct nl_msg *msg;
	int rc, family = 0;

	rc = nbd_nl_open(&sk, &family, err);
	if (rc < 0)
		return rc;
	msg = nlmsg_alloc_size(NBD_NL_MSG_SIZE);
	if (!msg)
		return lb_err_set(err, ENOMEM, "out of memory");
	*ret_sk = TAKE_PTR(sk);
	*ret_msg = msg;
	*ret_family = family;
	return 0;
}

/* The kernel says -EINVAL for many things and logs the reason to dmesg
 * only: einval_hint names the likely ones. */
static int kernel_refused(int kerr, const char *verb, int index, const char *einval_hint,
			  lb_err *err)
{
	const char *hint = "";
	char dev[32];

	if (index >= 0)
		(void)snprintf(dev, sizeof(dev), "/dev/nbd%d", index);
	else
		(void)snprintf(dev, sizeof(dev), "a free NBD device");
	if (kerr == -EPERM)
		hint = " (CAP_SYS_ADMIN is needed)";
	else if (kerr == -EINVAL && einval_hint)
		hint = einval_hint;
	return lb_err_set(err, kerr, "the kernel refused to %s %s: %s%s", verb, dev,
			  strerror(-kerr), hint);
}

int lb_nbd_netlink_connect(const struct lb_nbd_netlink_config *c, uint32_t *ret_index, lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct lb_nbd_netlink_answer a;
	int rc, family = 0;

	rc = lb_nbd_netlink_check_config(c, err);
	if (rc < 0)
		return rc;
	rc = nbd_nl_prepare(&sk, &msg, &family, err);
	if (rc < 0)
		return rc;
	rc = lb_nbd_netlink_build_connect(msg, family, c, err);
	if (rc < 0)
		return rc;
	rc = lb_nbd_netlink_transact(sk, msg, &a, err);
	if (rc < 0)
		return rc;
	if (a.kernel_error)
		return kernel_refused(
			a.kernel_error, "connect", c->index,
			" (a socket that is not a TCP or UNIX stream socket, an index "
			"beyond the kernel's limit, or a device going down)",
			err);

	/* Connected.  The kernel sends the index before the ACK; only an
	 * allocation failure on its side leaves it out. */
	if (!a.has_index) {
		if (c->index >= 0) {
			*ret_index = (uint32_t)c->index;
			return 0;
		}
		return lb_err_set(err, EPROTO,
				  "the kernel connected an NBD device but did not say which (%s)",
				  a.reply_error ? "its reply is malformed" : "no reply");
	}
	if (c->index >= 0 && a.index != (uint32_t)c->index)
		return lb_err_set(err, EPROTO,
				  "asked for /dev/nbd%d, the kernel connected /dev/nbd%u", c->index,
				  a.index);
	*ret_index = a.index;
	return 0;
}

int lb_nbd_netlink_disconnect(uint32_t index, lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct lb_nbd_netlink_answer a;
	int rc, family = 0;

	if (index > INT32_MAX)
		return lb_err_set(err, EINVAL, "device index %u is not valid", index);
	rc = nbd_nl_prepare(&sk, &msg, &family, err);
	if (rc < 0)
		return rc;
	rc = lb_nbd_netlink_build_disconnect(msg, family, index, err);
	if (rc < 0)
		return rc;
	rc = lb_nbd_netlink_transact(sk, msg, &a, err);
	if (rc < 0)
		return rc;
	if (a.kernel_error)
		return kernel_refused(a.kernel_error, "disconnect", (int)index, " (no such device)",
				      err);
	return 0;
}

int lb_nbd_netlink_reconfigure(uint32_t index, const char *backend_id, const int *fds,
			       unsigned nfds, lb_err *err)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct lb_nbd_netlink_answer a;
	int rc, family = 0;

	if (index > INT32_MAX)
		return lb_err_set(err, EINVAL, "device index %u is not valid", index);
	rc = check_sockets(fds, nfds, err);
	if (rc < 0)
		return rc;
	rc = check_backend_id(backend_id, err);
	if (rc < 0)
		return rc;
	rc = nbd_nl_prepare(&sk, &msg, &family, err);
	if (rc < 0)
		return rc;
	rc = lb_nbd_netlink_build_reconfigure(msg, family, index, backend_id, fds, nfds, err);
	if (rc < 0)
		return rc;
	rc = lb_nbd_netlink_transact(sk, msg, &a, err);
	if (rc < 0)
		return rc;
	if (a.kernel_error)
		return kernel_refused(
			a.kernel_error, "reconfigure", (int)index,
			" (no such device, not connected, or bound to another backend "
			"identifier)",
			err);
	return 0;
}

bool lb_nbd_netlink_bound_to(unsigned index, const char *name)
{
	char path[64], want[LB_NBD_NETLINK_MAX_BACKEND_ID + 1], have[sizeof(want) + 1] = "";
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/sys/block/nbd%u/backend", index);
	if (snprintf(want, sizeof(want), LB_NBD_BACKEND_FMT, name) >= (int)sizeof(want))
		return false;
	f = fopen(path, "re");
	if (!f || !fgets(have, sizeof(have), f))
		return false;
	have[strcspn(have, "\n")] = '\0';
	return strcmp(have, want) == 0;
}

int lb_nbd_netlink_parse_link_dead(struct nlmsghdr *nlh, uint32_t *ret_index, lb_err *err)
{
	static struct nla_policy policy[NBD_ATTR_MAX + 1] = {
		[NBD_ATTR_INDEX] = {.type = NLA_U32},
	};
	struct nlattr *tb[NBD_ATTR_MAX + 1];
	int rc;

	if (!genlmsg_valid_hdr(nlh, 0))
		return lb_err_set(err, EPROTO, "an NBD event shorter than its header");
	if (genlmsg_hdr(nlh)->cmd != NBD_CMD_LINK_DEAD)
		return -ENOMSG;
	rc = genlmsg_parse(nlh, 0, tb, NBD_ATTR_MAX, policy);
	if (rc < 0)
		return lb_err_set(err, EPROTO, "the kernel's LINK_DEAD event is malformed: %s",
				  nl_geterror(rc));
	if (!tb[NBD_ATTR_INDEX])
		return lb_err_set(err, EPROTO, "the kernel's LINK_DEAD event names no device");
	*ret_index = nla_get_u32(tb[NBD_ATTR_INDEX]);
	return 0;
}

struct lb_nbd_netlink_monitor {
	struct nl_sock *sk;
	struct nl_cb *cb;
	void (*dead)(void *arg, uint32_t index);
	void *arg;
};

static int monitor_valid(struct nl_msg *msg, void *arg)
{
	struct lb_nbd_netlink_monitor *m = arg;
	uint32_t index;

	if (lb_nbd_netlink_parse_link_dead(nlmsg_hdr(msg), &index, NULL) == 0 && m->dead)
		m->dead(m->arg, index);
	return NL_OK;
}

void lb_nbd_netlink_monitor_free(struct lb_nbd_netlink_monitor *m)
{
	if (!m)
		return;
	nl_cb_put(m->cb);
	nl_socket_free(m->sk);
	free(m);
}

int lb_nbd_netlink_monitor_open(struct lb_nbd_netlink_monitor **ret, lb_err *err)
{
	struct lb_nbd_netlink_monitor *m = calloc(1, sizeof(*m));
	int rc, family = 0, grp;

	if (!m)
		return lb_err_set(err, ENOMEM, "out of memory");
	rc = nbd_nl_open(&m->sk, &family, err);
	if (rc < 0)
		goto fail;
	grp = genl_ctrl_resolve_grp(m->sk, NBD_GENL_FAMILY_NAME, NBD_GENL_MCAST_GROUP_NAME);
	if (grp < 0) {
		rc = lb_err_set(err, nlerr_to_errno(grp),
				"the kernel's NBD has no event group '%s': %s",
				NBD_GENL_MCAST_GROUP_NAME, nl_geterror(grp));
		goto fail;
	}
	/* events come unasked: no sequence numbers to check */
	nl_socket_disable_seq_check(m->sk);
	rc = nl_socket_add_membership(m->sk, grp);
	if (rc < 0) {
		rc = lb_err_set(err, nlerr_to_errno(rc), "cannot join the NBD event group: %s",
				nl_geterror(rc));
		goto fail;
	}
	rc = nl_socket_set_nonblocking(m->sk);
	m->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (rc < 0 || !m->cb) {
		rc = lb_err_set(err, ENOMEM, "cannot set up the NBD event socket");
		goto fail;
	}
	nl_cb_set(m->cb, NL_CB_VALID, NL_CB_CUSTOM, monitor_valid, m);
	*ret = m;
	return 0;
fail:
	lb_nbd_netlink_monitor_free(m);
	return rc;
}

int lb_nbd_netlink_monitor_fd(const struct lb_nbd_netlink_monitor *m)
{
	return nl_socket_get_fd(m->sk);
}

int lb_nbd_netlink_monitor_read(struct lb_nbd_netlink_monitor *m,
				void (*dead)(void *arg, uint32_t index), void *arg, lb_err *err)
{
	int rc;

	m->dead = dead;
	m->arg = arg;
	for (;;) {
		rc = nl_recvmsgs(m->sk, m->cb);
		if (rc == -NLE_AGAIN)
			return 0;
		if (rc < 0)
			return lb_err_set(err, nlerr_to_errno(rc), "cannot read NBD events: %s",
					  nl_geterror(rc));
	}
}

int lb_nbd_netlink_probe(lb_err *err)
{
	struct nl_sock *sk = NULL;
	int family, r = nbd_nl_open(&sk, &family, err);

	if (r == -ENODEV && lb_modprobe("nbd") == 0)
		r = nbd_nl_open(&sk, &family, err);
	if (r == 0)
		nl_socket_free(sk);
	return r;
}
