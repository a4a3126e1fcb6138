/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel NBD device (/dev/nbdN): a frontend (frontend.h) that hands
 * the kernel one end of a socketpair per queue, over netlink, and serves
 * the other ends with the NBD server.  A device a dead bridge of this
 * volume left, still bound to it and waiting for sockets, is taken back
 * (RECONFIGURE) when it still fits, else let go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nbd-frontend.h"
#include "nbd-netlink.h"
#include "nbd-proto.h"

/* a request's deadline in the kernel: past the engine's own bound (the
 * request timeout) with room for the fence (ABORT TASK, LUN RESET, a
 * reconnect), never under 180 s */
#define KERNEL_NBD_TIMEOUT_S 180
#define KERNEL_NBD_FENCE_ROOM_S 60
#define KERNEL_NBD_DEAD_CONN_S 120 /* how long the kernel waits for a new socket */
#define KERNEL_QUEUES_MAX 16

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

static int kernel_start(struct lb_volume *v, struct lb_frontend **ret, lb_err *err)
{
	const struct lb_volume_config *cfg = lb_volume_config(v);
	unsigned queues = lb_volume_queues(v);
	struct nbd_frontend *f;
	int fds[KERNEL_QUEUES_MAX];
	struct lb_nbd_netlink_config nc = {0};
	uint64_t req_s;
	char backend[128];
	uint32_t index = 0;
	unsigned n = 0;
	int r, stale;

	if (queues > KERNEL_QUEUES_MAX)
		return lb_err_set(err, EINVAL, "at most %d queues", KERNEL_QUEUES_MAX);
	f = calloc(1, sizeof(*f));
	if (!f)
		return lb_err_set(err, ENOMEM, "out of memory");
	*ret = (struct lb_frontend *)f;
	r = nbd_frontend_init(f, v, err);
	if (r < 0)
		return r;
	r = lb_nbd_netlink_probe(err);
	if (r < 0)
		return r;
	stale = takeover_index(f);
	lb_volume_harden_for_device(v);
	for (; n < queues; n++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			r = lb_err_set(err, errno, "socketpair: %m");
			break;
		}
		r = nbd_server_add_socket(f->srv, sv[0]);
		if (r < 0) {
			close(sv[0]);
			close(sv[1]);
			lb_err_set(err, r, "cannot serve the device's socket: %s", strerror(-r));
			break;
		}
		fds[n] = sv[1];
	}
	snprintf(backend, sizeof(backend), LB_NBD_BACKEND_FMT, cfg->name);
	if (r == 0 && stale >= 0) {
		/* the dead bridge's device: new sockets in place of its dead ones */
		lb_volume_log(v, "taking back /dev/nbd%d, left by a bridge of this volume", stale);
		r = lb_nbd_netlink_reconfigure((uint32_t)stale, backend, fds, n, err);
		index = (uint32_t)stale;
	} else if (r == 0) {
		nc.index = cfg->export->index;
		nc.size_bytes = f->desc.size;
		nc.block_size = f->desc.min_block;
		nc.server_flags = f->desc.eflags;
		nc.timeout_s = KERNEL_NBD_TIMEOUT_S;
		req_s = lb_volume_engine(v)->info.request_timeout_ms / 1000;
		if (req_s + KERNEL_NBD_FENCE_ROOM_S > nc.timeout_s)
			nc.timeout_s = req_s + KERNEL_NBD_FENCE_ROOM_S;
		nc.dead_conn_timeout_s = KERNEL_NBD_DEAD_CONN_S;
		nc.backend_id = backend;
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

static bool kernel_stop(struct lb_frontend *fe)
{
	struct nbd_frontend *f = (struct nbd_frontend *)fe;
	lb_err err = {{0}};

	if (f->nbd_index >= 0) {
		if (lb_nbd_netlink_disconnect((uint32_t)f->nbd_index, &err) < 0)
			lb_volume_log(f->v, "%s", err.msg);
		f->nbd_index = -1;
		/* the device stays: its links must go */
		lb_volume_device_released(f->v);
	}
	return nbd_frontend_drain(f);
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

const struct lb_frontend_ops lb_frontend_nbd_kernel = {
	.name = "nbd-kernel",
	.start = kernel_start,
	.stop = kernel_stop,
	.free = nbd_frontend_free,
	.where = nbd_frontend_where,
	.export_name = kernel_export_name,
	.device = kernel_device,
	.stats = nbd_frontend_stats,
};
