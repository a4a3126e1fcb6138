/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel NBD device driven through the `nbd` generic netlink family
 * (<linux/nbd-netlink.h>): CONNECT hands the kernel one connected stream
 * socket per hardware queue and a size, the kernel answers with the index
 * of the /dev/nbdN it bound; DISCONNECT tears the device down; RECONFIGURE
 * gives a bound device new sockets in place of dead ones (a restarted
 * bridge taking its device back).
 *
 * The message builders and the reply parser need no kernel, so the tests
 * inspect exactly what would be sent.  lb_nbd_netlink_connect() and friends
 * open a netlink socket per call and need CAP_SYS_ADMIN.
 */
#ifndef LUNBRIDGE_NBD_NETLINK_H
#define LUNBRIDGE_NBD_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "lb-err.h"

struct nl_msg;
struct nl_sock;
struct nlmsghdr;

#define LB_NBD_NETLINK_MIN_BLOCK_SIZE 512u
#define LB_NBD_NETLINK_MAX_BLOCK_SIZE 4096u /* the kernel's limit is PAGE_SIZE */
#define LB_NBD_NETLINK_MAX_BACKEND_ID 255u  /* bytes, without the NUL */
#define LB_NBD_NETLINK_MAX_SOCKETS 256u
#define LB_NBD_NETLINK_MAX_TIMEOUT 4294967u /* seconds; the kernel keeps timeout * HZ in 32 bits   \
					     */

/* The backend identifier a volume's bridge gives its device, from the
 * volume's name: what tells a device still bound to a volume. */
#define LB_NBD_BACKEND_FMT "lunbridge:%s"

struct lb_nbd_netlink_config {
	int index;		      /* -1: any free device */
	uint64_t size_bytes;	      /* > 0, a multiple of block_size */
	uint64_t block_size;	      /* power of two, 512..4096 */
	uint64_t server_flags;	      /* NBD transmission flags (nbd-proto.h) */
	uint64_t timeout_s;	      /* per request; 0: never time out */
	uint64_t dead_conn_timeout_s; /* how long I/O waits for RECONFIGURE */
	const char *backend_id;	      /* NULL: none; LB_NBD_BACKEND_FMT */
	const int *fds;		      /* one connected stream socket per queue */
	unsigned nfds;		      /* >= 1; > 1 needs NBD_FLAG_CAN_MULTI_CONN */
};

/* Is /dev/nbdN still bound to volume name (its backend identifier, as
 * sysfs shows it, is LB_NBD_BACKEND_FMT of name)? */
bool lb_nbd_netlink_bound_to(unsigned index, const char *name);

/* Check a configuration as CONNECT would: 0, or -EINVAL with one sentence
 * naming the bad value. */
int lb_nbd_netlink_check_config(const struct lb_nbd_netlink_config *c, lb_err *err);

/* Fill an empty message for `family` (the resolved id of "nbd").  -EINVAL
 * for a bad argument, -EMSGSIZE when msg is too small. */
int lb_nbd_netlink_build_connect(struct nl_msg *msg, int family,
				 const struct lb_nbd_netlink_config *c, lb_err *err);
int lb_nbd_netlink_build_disconnect(struct nl_msg *msg, int family, uint32_t index, lb_err *err);
/* backend_id must repeat the one given to CONNECT (the kernel refuses a
 * device bound with an identifier otherwise); NULL omits it. */
int lb_nbd_netlink_build_reconfigure(struct nl_msg *msg, int family, uint32_t index,
				     const char *backend_id, const int *fds, unsigned nfds,
				     lb_err *err);

/* The kernel's answer to a successful CONNECT carries NBD_ATTR_INDEX.
 * -EPROTO when it is not a CONNECT reply or the index is missing or short. */
int lb_nbd_netlink_parse_connect_reply(struct nlmsghdr *nlh, uint32_t *ret_index, lb_err *err);

/* What the kernel said to one request. */
struct lb_nbd_netlink_answer {
	int kernel_error; /* 0: ACK; otherwise the kernel's -errno */
	int reply_error;  /* -EPROTO: a CONNECT reply came and did not parse */
	bool has_index;	  /* CONNECT only: the reply named the device */
	uint32_t index;
};

/* Send a built message on a connected generic netlink socket and wait for
 * the kernel's ACK.  0 when the kernel answered (*ret says how); -errno
 * with a sentence when sending or receiving failed. */
int lb_nbd_netlink_transact(struct nl_sock *sk, struct nl_msg *msg,
			    struct lb_nbd_netlink_answer *ret, lb_err *err);

/* The real calls, one netlink socket each.  -ENODEV when the kernel has no NBD support; a refusal
 * from the kernel is returned as its -errno with a sentence naming the
 * device.  On success the kernel holds its own reference to every socket:
 * the caller may close its copies of the kernel's ends. */
/* Is the kernel's NBD there (the family resolves; if not, after asking
 * modprobe for nbd once)?  0, or -ENODEV with the sentence connect would
 * give. */
int lb_nbd_netlink_probe(lb_err *err);
int lb_nbd_netlink_connect(const struct lb_nbd_netlink_config *c, uint32_t *ret_index, lb_err *err);
int lb_nbd_netlink_disconnect(uint32_t index, lb_err *err);
int lb_nbd_netlink_reconfigure(uint32_t index, const char *backend_id, const int *fds,
			       unsigned nfds, lb_err *err);

/* ---- the kernel's word that a device lost a socket ----
 * The kernel multicasts NBD_CMD_LINK_DEAD (NBD_ATTR_INDEX: the device) to
 * the family's group "nbd_mc_group" when it marks one of a device's
 * sockets dead: a request timed out on it, or sending or receiving
 * failed.  It does not say which socket. */

/* A LINK_DEAD message: its device index.  -ENOMSG for another command of
 * the family (not an error: skip it), -EPROTO when it is malformed. */
int lb_nbd_netlink_parse_link_dead(struct nlmsghdr *nlh, uint32_t *ret_index, lb_err *err);

/* A netlink socket subscribed to the group, non-blocking: poll its fd
 * for POLLIN, then read. */
struct lb_nbd_netlink_monitor;
int lb_nbd_netlink_monitor_open(struct lb_nbd_netlink_monitor **ret, lb_err *err);
int lb_nbd_netlink_monitor_fd(const struct lb_nbd_netlink_monitor *m);
/* Take what the socket holds: dead(arg, index) for each LINK_DEAD.
 * 0 once nothing more is queued; -errno with a sentence when reading
 * failed (events may have been lost: the socket's buffer overran, say). */
int lb_nbd_netlink_monitor_read(struct lb_nbd_netlink_monitor *m,
				void (*dead)(void *arg, uint32_t index), void *arg, lb_err *err);
void lb_nbd_netlink_monitor_free(struct lb_nbd_netlink_monitor *m); /* NULL ok */

#endif
