/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel NBD device (/dev/nbdN): a frontend (frontend.h) that hands
 * the kernel one end of a socketpair per queue, over netlink, and serves
 * the other ends with the NBD server.  A device a dead bridge of this
 * volume left, still bound to it and waiting for sockets, is taken back
 * (RECONFIGURE) when it still fits, else let go.
 *
 * A socket dies while the bridge lives when one of its requests times out
 * in the kernel (nbd-timeouts.h): the kernel shuts it down, says so on
 * its netlink group (LINK_DEAD), and sends its requests again on another
 * socket, or waits DEAD_CONN_TIMEOUT for a new one.  We see our end shut
 * down (or, when we are not reading it, check it on LINK_DEAD), give up
 * what the dead socket's requests still hold in the engine (the engine's
 * fence), and only once every one of them was answered or fenced give
 * the device a new socket (RECONFIGURE): the kernel's copy of a request
 * can then reach the LUN only after ours provably cannot.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "nbd-frontend.h"
#include "nbd-netlink.h"
#include "nbd-proto.h"
#include "nbd-timeouts.h"

#define KERNEL_NBD_DEAD_CONN_S 120 /* how long the kernel waits for a new socket */
#define KERNEL_QUEUES_MAX 16
/* a replacement the kernel refused (it has not marked the socket dead
 * yet, say) is tried again this often, this many times */
#define REPLACE_RETRY_MS 1000
#define REPLACE_TRIES_MAX 30

enum kernel_socket_state {
	KS_LIVE,    /* the kernel's and ours */
	KS_FENCING, /* dead: its requests are being answered or fenced */
	KS_REPLACE, /* none left: a new socket is due (retry_op) */
	KS_GONE,    /* closed for good (the device stops, or we gave up) */
};

/* One of the device's sockets, as the kernel numbers its slots (1-based in
 * the log).  A replacement takes the slot of the one it replaces. */
struct kernel_socket {
	struct kernel_frontend *k;
	unsigned n;
	enum kernel_socket_state state;
	unsigned tries;
};

struct kernel_frontend {
	struct nbd_frontend f; /* first: the shared NBD frontend code sees it */
	char backend[128];
	unsigned nsocks;
	struct kernel_socket socks[KERNEL_QUEUES_MAX];
	bool stopping;
	uint64_t replaced; /* sockets, ever */
	/* the kernel's LINK_DEAD events, polled on the volume's loop */
	struct lb_nbd_netlink_monitor *mon;
	struct lb_op mon_op;
	/* replacements due */
	struct lb_op retry_op;
	struct __kernel_timespec retry_ts;
};

/* /sys/block/nbdN/ATTR as a number, 0 when unreadable. */
static uint64_t nbd_sysfs_u64(int index, const char *attr)
{
	char path[80];
	unsigned long long n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/block/nbd%d/%s", index, attr);
	fp = fopen(path, "re");
	if (fp) {
		if (fscanf(fp, "%llu", &n) != 1)
			n = 0;
		fclose(fp);
	}
	return n;
}

/* The NBD device a dead bridge of this volume left, still bound to the
 * volume and waiting for new sockets: its index, when it can be taken back
 * as it is; else -1, having let it go (DISCONNECT: the I/O waiting on it
 * fails) if it no longer fits (another device asked for, the LUN's size
 * or block size changed). */
static int takeover_index(struct nbd_frontend *f)
{
	struct lb_volume *v = f->v;
	const struct lb_volume_config *cfg = lb_volume_config(v);
	struct lb_stale_device sd = lb_volume_stale_device(v, LB_EXPORT_NBD_KERNEL);
	bool ro = f->desc.eflags & NBD_FLAG_READ_ONLY;
	int want = cfg->export->index;
	const char *why = NULL;
	lb_err err = {{0}};

	if (sd.index < 0 || !lb_nbd_netlink_bound_to((unsigned)sd.index, cfg->name))
		return -1;
	if (!sd.same_lun)
		why = "it served another LUN";
	else if (want >= 0 && want != sd.index)
		why = "another device is asked for";
	else if (nbd_sysfs_u64(sd.index, "size") * 512 != f->desc.size ||
		 nbd_sysfs_u64(sd.index, "queue/logical_block_size") != f->desc.min_block)
		why = "the LUN's size or block size changed";
	else if (nbd_sysfs_u64(sd.index, "ro") != ro)
		why = "the LUN's read-only state changed";
	else if (sd.queues != lb_volume_queues(v))
		/* RECONFIGURE fills only as many dead sockets as it is given */
		why = "the number of queues changed";
	if (!why)
		return sd.index;
	lb_volume_log(v, "letting /dev/nbd%d go, left by a bridge of this volume: %s", sd.index,
		      why);
	if (lb_nbd_netlink_disconnect((uint32_t)sd.index, &err) < 0)
		lb_volume_log(v, "%s", err.msg);
	return -1;
}

/* ---- a dead socket: fenced, then replaced ---- */

static void retry_arm(struct kernel_frontend *k, unsigned ms)
{
	struct lb_loop *loop = lb_volume_loop(k->f.v);
	struct io_uring_sqe *sqe;

	if (k->retry_op.busy || k->stopping)
		return;
	if (lb_loop_sqe(loop, &k->retry_op, &sqe) < 0) {
		lb_volume_log(k->f.v, "cannot queue the replacement of a dead kernel NBD socket");
		return;
	}
	k->retry_ts = lb_ms_timespec(ms);
	io_uring_prep_timeout(sqe, &k->retry_ts, 0, 0);
}

static void socket_lost(void *arg, unsigned inflight, const char *why)
{
	struct kernel_socket *ks = arg;
	struct kernel_frontend *k = ks->k;

	if (k->stopping || k->f.nbd_index < 0 || ks->state != KS_LIVE)
		return; /* not (or no longer) the device's */
	ks->state = KS_FENCING;
	lb_volume_log(k->f.v, "kernel NBD socket %u of %s died (%s): fencing %u request%s", ks->n,
		      k->f.where, why ? why : "the kernel shut it down: a request timed out there",
		      inflight, inflight == 1 ? "" : "s");
}

static void socket_gone(void *arg)
{
	struct kernel_socket *ks = arg;
	struct kernel_frontend *k = ks->k;

	if (k->stopping || ks->state != KS_FENCING) {
		ks->state = KS_GONE;
		return;
	}
	/* every request of it answered or fenced: a new one may come in
	 * (from the loop, not from inside the server's teardown of this one) */
	ks->state = KS_REPLACE;
	ks->tries = 0;
	retry_arm(k, 0);
}

static const struct nbd_socket_ops socket_ops = {
	.lost = socket_lost,
	.gone = socket_gone,
};

/* Give the kernel a new socket for a dead one of ks's slot: ours served,
 * the other end handed over (RECONFIGURE fills a dead slot).  The kernel
 * takes it first: what it sends waits in the socket until we serve it. */
static int replace_socket(struct kernel_socket *ks, lb_err *err)
{
	struct kernel_frontend *k = ks->k;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return lb_err_set(err, errno, "socketpair: %m");
	r = lb_nbd_netlink_reconfigure((uint32_t)k->f.nbd_index, k->backend, &sv[1], 1, err);
	close(sv[1]); /* the kernel holds its own reference */
	if (r < 0) {
		close(sv[0]);
		return r;
	}
	ks->state = KS_LIVE;
	r = nbd_server_add_socket(k->f.srv, sv[0], &socket_ops, ks);
	if (r < 0) {
		/* the kernel sees it end and marks it dead: once more */
		close(sv[0]);
		ks->state = KS_REPLACE;
		return lb_err_set(err, r, "cannot serve a new socket: %s", strerror(-r));
	}
	k->replaced++;
	lb_volume_log(k->f.v, "kernel NBD socket %u of %s replaced", ks->n, k->f.where);
	return 0;
}

static void retry_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct kernel_frontend *k = container_of(op, struct kernel_frontend, retry_op);
	bool again = false;

	if (k->stopping || lb_volume_stopping(k->f.v))
		return;
	for (unsigned i = 0; i < k->nsocks; i++) {
		struct kernel_socket *ks = &k->socks[i];
		lb_err err = {{0}};
		int r;

		if (ks->state != KS_REPLACE)
			continue;
		r = replace_socket(ks, &err);
		if (r == 0 || ks->state != KS_REPLACE)
			continue;
		if (++ks->tries >= REPLACE_TRIES_MAX) {
			lb_volume_log(k->f.v,
				      "kernel NBD socket %u of %s: giving up on its replacement "
				      "after %u tries (%s); the kernel fails its I/O after %u s",
				      ks->n, k->f.where, ks->tries, lb_err_msg(&err, r),
				      KERNEL_NBD_DEAD_CONN_S);
			ks->state = KS_GONE;
			continue;
		}
		if (ks->tries == 1)
			lb_volume_log(k->f.v,
				      "kernel NBD socket %u of %s: cannot replace it yet (%s); "
				      "trying again",
				      ks->n, k->f.where, lb_err_msg(&err, r));
		again = true;
	}
	if (again)
		retry_arm(k, REPLACE_RETRY_MS);
}

/* ---- the kernel's LINK_DEAD events ---- */

static void mon_arm(struct kernel_frontend *k);

static void link_dead(void *arg, uint32_t index)
{
	struct kernel_frontend *k = arg;

	if (k->f.nbd_index < 0 || index != (uint32_t)k->f.nbd_index)
		return; /* another device's */
	/* which socket the kernel does not say; those we read see their end
	 * shut down by themselves, this finds those we do not read now (at
	 * a limit, every request stuck in the engine) */
	(void)nbd_server_check_sockets(k->f.srv);
}

static void mon_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct kernel_frontend *k = container_of(op, struct kernel_frontend, mon_op);
	lb_err err = {{0}};
	int r;

	if (k->stopping || !k->mon)
		return;
	if (res < 0 && res != -EINTR) {
		lb_volume_log(k->f.v, "cannot watch the kernel's NBD events: %s", strerror(-res));
		return;
	}
	r = lb_nbd_netlink_monitor_read(k->mon, link_dead, k, &err);
	if (r < 0) {
		/* events may be lost: look at every socket */
		lb_volume_log(k->f.v, "%s", lb_err_msg(&err, r));
		(void)nbd_server_check_sockets(k->f.srv);
	}
	mon_arm(k);
}

static void mon_arm(struct kernel_frontend *k)
{
	struct io_uring_sqe *sqe;

	if (k->stopping || !k->mon || k->mon_op.busy)
		return;
	if (lb_loop_sqe(lb_volume_loop(k->f.v), &k->mon_op, &sqe) < 0) {
		lb_volume_log(k->f.v, "cannot watch the kernel's NBD events: no room in the ring");
		return;
	}
	io_uring_prep_poll_add(sqe, lb_nbd_netlink_monitor_fd(k->mon), POLLIN);
}

/* Listen before the device exists: no death goes unheard.  Without it a
 * dead socket is still seen when we read it. */
static void mon_start(struct kernel_frontend *k)
{
	lb_err err = {{0}};
	int r = lb_nbd_netlink_monitor_open(&k->mon, &err);

	if (r < 0) {
		lb_volume_log(k->f.v, "%s: a dead kernel NBD socket is seen only when read",
			      lb_err_msg(&err, r));
		return;
	}
	mon_arm(k);
}

/* ---- start and stop ---- */

static int kernel_start(struct lb_volume *v, struct lb_frontend **ret, lb_err *err)
{
	const struct lb_volume_config *cfg = lb_volume_config(v);
	unsigned queues = lb_volume_queues(v);
	struct kernel_frontend *k;
	struct nbd_frontend *f;
	int fds[KERNEL_QUEUES_MAX];
	struct lb_nbd_netlink_config nc = {0};
	uint32_t index = 0;
	unsigned n = 0;
	int r, stale;

	if (queues > KERNEL_QUEUES_MAX)
		return lb_err_set(err, EINVAL, "at most %d queues", KERNEL_QUEUES_MAX);
	k = calloc(1, sizeof(*k));
	if (!k)
		return lb_err_set(err, ENOMEM, "out of memory");
	f = &k->f;
	*ret = (struct lb_frontend *)k;
	lb_op_init(&k->mon_op, mon_done);
	lb_op_init(&k->retry_op, retry_done);
	r = nbd_frontend_init(f, v, err);
	if (r < 0)
		return r;
	r = lb_nbd_netlink_probe(err);
	if (r < 0)
		return r;
	stale = takeover_index(f);
	lb_volume_harden_for_device(v);
	mon_start(k);
	for (; n < queues; n++) {
		struct kernel_socket *ks = &k->socks[n];
		int sv[2];

		*ks = (struct kernel_socket){.k = k, .n = n + 1, .state = KS_LIVE};
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			r = lb_err_set(err, errno, "socketpair: %m");
			break;
		}
		r = nbd_server_add_socket(f->srv, sv[0], &socket_ops, ks);
		if (r < 0) {
			close(sv[0]);
			close(sv[1]);
			lb_err_set(err, r, "cannot serve the device's socket: %s", strerror(-r));
			break;
		}
		fds[n] = sv[1];
		k->nsocks = n + 1;
	}
	snprintf(k->backend, sizeof(k->backend), LB_NBD_BACKEND_FMT, cfg->name);
	if (r == 0 && stale >= 0) {
		/* the dead bridge's device: new sockets in place of its dead ones */
		lb_volume_log(v, "taking back /dev/nbd%d, left by a bridge of this volume", stale);
		r = lb_nbd_netlink_reconfigure((uint32_t)stale, k->backend, fds, n, err);
		index = (uint32_t)stale;
	} else if (r == 0) {
		nc.index = cfg->export->index;
		nc.size_bytes = f->desc.size;
		nc.block_size = f->desc.min_block;
		nc.server_flags = f->desc.eflags;
		nc.timeout_s = lb_nbd_kernel_timeout(
			cfg->device_timeout_s, lb_volume_engine(v)->info.request_timeout_ms / 1000);
		nc.dead_conn_timeout_s = KERNEL_NBD_DEAD_CONN_S;
		nc.backend_id = k->backend;
		nc.fds = fds;
		nc.nfds = n;
		r = lb_nbd_netlink_connect(&nc, &index, err);
	}
	/* the kernel holds its own references to the sockets it took */
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	if (r < 0)
		return r;
	f->nbd_index = (int)index;
	snprintf(f->where, sizeof(f->where), "/dev/nbd%u", index);
	return 0;
}

static bool kernel_ops_idle(void *arg)
{
	struct kernel_frontend *k = arg;

	return !k->mon_op.busy && !k->retry_op.busy;
}

static bool kernel_stop(struct lb_frontend *fe)
{
	struct kernel_frontend *k = (struct kernel_frontend *)fe;
	struct nbd_frontend *f = &k->f;
	struct lb_loop *loop = lb_volume_loop(f->v);
	lb_err err = {{0}};
	bool clean;

	/* no replacement from now on, pending or not: the device goes */
	k->stopping = true;
	lb_loop_cancel(loop, &k->retry_op);
	lb_loop_cancel(loop, &k->mon_op);
	if (f->nbd_index >= 0) {
		if (lb_nbd_netlink_disconnect((uint32_t)f->nbd_index, &err) < 0)
			lb_volume_log(f->v, "%s", err.msg);
		f->nbd_index = -1;
		/* the device stays: its links must go */
		lb_volume_device_released(f->v);
	}
	clean = nbd_frontend_drain(f);
	if (!lb_volume_run_until(f->v, kernel_ops_idle, k, 5000))
		clean = false; /* a cancelled timeout or poll never came back */
	return clean;
}

static void kernel_free(struct lb_frontend *fe)
{
	struct kernel_frontend *k = (struct kernel_frontend *)fe;

	if (!k)
		return;
	lb_nbd_netlink_monitor_free(k->mon);
	nbd_frontend_free(fe);
}

static const char *kernel_export_name(const struct lb_frontend *fe)
{
	return "nbd";
}

static const char *kernel_device(const struct lb_frontend *fe)
{
	const struct nbd_frontend *f = (const struct nbd_frontend *)fe;

	return f->nbd_index >= 0 ? f->where : NULL;
}

static void kernel_stats_json(const struct lb_frontend *fe, struct json_object *st)
{
	const struct kernel_frontend *k = (const struct kernel_frontend *)fe;

	/* sockets the kernel gave up and we gave it anew */
	json_object_object_add(st, "sockets_replaced", json_object_new_int64((int64_t)k->replaced));
}

const struct lb_frontend_ops lb_frontend_nbd_kernel = {
	.name = "nbd-kernel",
	.start = kernel_start,
	.stop = kernel_stop,
	.free = kernel_free,
	.where = nbd_frontend_where,
	.export_name = kernel_export_name,
	.device = kernel_device,
	.stats = nbd_frontend_stats,
	.stats_json = kernel_stats_json,
};
