/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"
#include "ublk-ctrl.h"
#include "ublk-dev.h"

#define RECOVERY_WAIT_MS 15000 /* for the kernel to quiesce a dead bridge's device */
#define CHAR_OPEN_WAIT_MS 5000 /* for /dev/ublkcN to appear */

struct lb_ublk_dev {
	struct lb_ublk_ctrl ctrl;
	int char_fd;		      /* /dev/ublkcN, shared by the queues */
	struct lb_ublk_dev_info info; /* as the kernel answered */
	uint32_t buf_bytes;
	struct lb_ublk_queue *queues[LB_UBLK_QUEUES_MAX];
	unsigned nqueues;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* The character device, once: the driver lets one process in, once. */
static int char_open(struct lb_ublk_dev *d, lb_err *err)
{
	char path[64];
	uint64_t end = lb_now_ms() + CHAR_OPEN_WAIT_MS;

	snprintf(path, sizeof(path), LB_UBLK_CHAR_FMT, d->info.dev_id);
	for (;;) {
		d->char_fd = open(path, O_RDWR | O_CLOEXEC);
		if (d->char_fd >= 0)
			return 0;
		/* devtmpfs makes the node at once; udev may still be renaming */
		if (errno != ENOENT || lb_now_ms() >= end)
			return lb_err_set(err, errno, "cannot open %s: %m", path);
		sleep_ms(10);
	}
}

static int queues_start(struct lb_ublk_dev *d, const struct lb_ublk_dev_config *cfg, lb_err *err)
{
	struct lb_ublk_queue_config qc = {
		.char_fd = d->char_fd,
		.dev_id = d->info.dev_id,
		.depth = d->info.queue_depth,
		.encoded = d->ctrl.encoded,
		.ops = cfg->ops,
	};

	int r = char_open(d, err);

	if (r < 0)
		return r;
	qc.char_fd = d->char_fd;
	lb_ublk_limits_init(cfg->info, d->buf_bytes, &qc.lim);
	for (unsigned q = 0; q < d->info.nr_hw_queues; q++) {
		qc.q_id = (uint16_t)q;
		r = lb_ublk_queue_start(&qc, &d->queues[q], err);
		if (r < 0)
			return r;
		d->nqueues = q + 1;
	}
	return 0;
}

static int dev_new(const struct lb_ublk_dev_config *cfg, struct lb_ublk_dev **ret, lb_err *err)
{
	struct lb_ublk_dev *d;
	int r;

	if (cfg->queues > LB_UBLK_QUEUES_MAX)
		return lb_err_set(err, EINVAL, "at most %d queues", LB_UBLK_QUEUES_MAX);
	d = calloc(1, sizeof(*d));
	if (!d)
		return lb_err_set(err, ENOMEM, "out of memory");
	d->char_fd = -1;
	r = lb_ublk_ctrl_open(&d->ctrl, err);
	if (r < 0) {
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

/* Stop the device, wait for the queues, delete it (del: DEL_DEV too). */
static bool dev_teardown(struct lb_ublk_dev *d, bool del, void (*log)(void *, const char *),
			 void *arg)
{
	char line[160];
	bool clean = true;
	int r = lb_ublk_ctrl_stop(&d->ctrl, d->info.dev_id);

	if (r < 0 && r != -ENODEV && log) {
		snprintf(line, sizeof(line), "ublk STOP_DEV of device %u: %s", d->info.dev_id,
			 strerror(-r));
		log(arg, line);
		clean = false;
	}
	for (unsigned q = 0; q < d->nqueues; q++)
		lb_ublk_queue_join(d->queues[q]);
	d->nqueues = 0;
	if (d->char_fd >= 0)
		close(d->char_fd);
	d->char_fd = -1;
	if (del) {
		r = lb_ublk_ctrl_del(&d->ctrl, d->info.dev_id);
		if (r < 0 && r != -ENODEV && log) {
			snprintf(line, sizeof(line), "ublk DEL_DEV of device %u: %s",
				 d->info.dev_id, strerror(-r));
			log(arg, line);
			clean = false;
		}
	}
	lb_ublk_ctrl_close(&d->ctrl);
	free(d);
	return clean;
}

/* START_DEV and END_USER_RECOVERY name the server's pid.  6.1 and 6.12
 * store whatever they are given.  6.16.1 and 6.17 ("ublk: validate ublk
 * server pid") compare it with the opener's tgid in the initial PID
 * namespace, so getpid() inside a PID namespace gets EINVAL; the fix for
 * that (2026) translates getpid() from the caller's namespace.  So
 * getpid() first, and after EINVAL the pid /proc numbers this process by
 * (lb_runtime_pid), which is that tgid where /proc is the host's.  The
 * refused call changed nothing on those kernels. */
static int ctrl_with_pid(int (*op)(struct lb_ublk_ctrl *, uint32_t, int32_t),
			 struct lb_ublk_ctrl *c, uint32_t dev_id)
{
	long outer = lb_runtime_pid();
	int r = op(c, dev_id, (int32_t)getpid());

	if (r == -EINVAL && outer != (long)getpid())
		r = op(c, dev_id, (int32_t)outer);
	return r;
}

/* ADD_DEV's EACCES: not root, or ublk_drv's device limit (ublks_max, 64
 * by default; on 6.12 it counts unprivileged devices only). */
static void devices_limit_error(lb_err *err)
{
	char max[16] = "unknown";
	FILE *f = fopen("/sys/module/ublk_drv/parameters/ublks_max", "re");

	if (f) {
		if (!fgets(max, sizeof(max), f))
			snprintf(max, sizeof(max), "unknown");
		max[strcspn(max, "\n")] = '\0';
		fclose(f);
	}
	lb_err_set(err, EACCES,
		   "ublk ADD_DEV: permission denied: not root, or the driver's device limit "
		   "(module parameter ublks_max, now %s; raise it in "
		   "/sys/module/ublk_drv/parameters/ublks_max or with 'options ublk_drv "
		   "ublks_max=N' in /etc/modprobe.d)",
		   max);
}

int lb_ublk_dev_create(const struct lb_ublk_dev_config *cfg, struct lb_ublk_dev **ret, lb_err *err)
{
	struct lb_ublk_params params;
	struct lb_ublk_dev *d;
	const char *why = NULL;
	uint32_t buf = lb_ublk_buf_bytes(cfg->info);
	int r = lb_ublk_params_build(cfg->info, buf, &params, &why);

	if (r < 0)
		return lb_err_set(err, -r, "%s", why);
	r = dev_new(cfg, &d, err);
	if (r < 0)
		return r;
	d->info.nr_hw_queues = (uint16_t)(cfg->queues ? cfg->queues : 1);
	d->info.queue_depth = (uint16_t)(cfg->depth ? cfg->depth : LB_UBLK_DEPTH_DEFAULT);
	d->info.max_io_buf_bytes = buf;
	d->info.dev_id = cfg->dev_id < 0 ? (uint32_t)-1 : (uint32_t)cfg->dev_id;
	if (cfg->recovery)
		d->info.flags |= LB_UBLK_F_USER_RECOVERY | LB_UBLK_F_USER_RECOVERY_REISSUE;
	if (d->ctrl.encoded)
		d->info.flags |= LB_UBLK_F_CMD_IOCTL_ENCODE;
	r = lb_ublk_ctrl_add(&d->ctrl, &d->info);
	if (r < 0) {
		if (r == -EEXIST)
			lb_err_set(err, EEXIST, "ublk device %d already exists", cfg->dev_id);
		else if (r == -EACCES)
			devices_limit_error(err);
		else
			lb_err_set(err, -r, "ublk ADD_DEV: %s", strerror(-r));
		lb_ublk_ctrl_close(&d->ctrl);
		free(d);
		return r;
	}
	/* the kernel's answer: the id, the queues it allows, a page-rounded
	 * buffer size and the flags it accepted */
	if (d->info.max_io_buf_bytes < buf) {
		buf = d->info.max_io_buf_bytes - d->info.max_io_buf_bytes % cfg->info->block_size;
		if (buf < cfg->info->block_size ||
		    lb_ublk_params_build(cfg->info, buf, &params, &why) < 0) {
			r = lb_err_set(err, EINVAL, "ublk allows only %u-byte requests",
				       d->info.max_io_buf_bytes);
			goto fail;
		}
	}
	d->buf_bytes = buf;
	r = lb_ublk_ctrl_set_params(&d->ctrl, d->info.dev_id, &params);
	if (r < 0) {
		lb_err_set(err, -r, "ublk SET_PARAMS: %s", strerror(-r));
		goto fail;
	}
	r = queues_start(d, cfg, err);
	if (r < 0)
		goto fail;
	r = ctrl_with_pid(lb_ublk_ctrl_start, &d->ctrl, d->info.dev_id);
	if (r < 0) {
		lb_err_set(err, -r, "ublk START_DEV: %s", strerror(-r));
		goto fail;
	}
	*ret = d;
	return 0;

fail:
	dev_teardown(d, true, NULL, NULL);
	return r;
}

/* Wait until dev_id is quiesced (its dead bridge's queues released). */
static int wait_quiesced(struct lb_ublk_dev *d, uint32_t dev_id, lb_err *err)
{
	uint64_t end = lb_now_ms() + RECOVERY_WAIT_MS;

	for (;;) {
		int r = lb_ublk_ctrl_get_info(&d->ctrl, dev_id, &d->info);

		if (r == -ENODEV)
			return lb_err_set(err, ENODEV, "there is no ublk device %u", dev_id);
		if (r < 0)
			return lb_err_set(err, -r, "ublk GET_DEV_INFO of device %u: %s", dev_id,
					  strerror(-r));
		if (!(d->info.flags & LB_UBLK_F_USER_RECOVERY))
			return lb_err_set(err, EBUSY,
					  "ublk device %u was made without user recovery", dev_id);
		if (d->info.state == LB_UBLK_S_DEV_QUIESCED)
			return 0;
		if (d->info.state == LB_UBLK_S_DEV_DEAD)
			return lb_err_set(err, ENODEV, "ublk device %u has no disk any more",
					  dev_id);
		/* live: the kernel notices a dead server within seconds */
		if (d->info.ublksrv_pid > 0 && kill(d->info.ublksrv_pid, 0) == 0 &&
		    d->info.ublksrv_pid != getpid())
			return lb_err_set(err, EEXIST, "ublk device %u is served by pid %d", dev_id,
					  d->info.ublksrv_pid);
		if (lb_now_ms() >= end)
			return lb_err_set(err, ETIMEDOUT,
					  "ublk device %u did not quiesce within %u s", dev_id,
					  RECOVERY_WAIT_MS / 1000);
		sleep_ms(100);
	}
}

int lb_ublk_dev_recover(const struct lb_ublk_dev_config *cfg, uint32_t dev_id,
			struct lb_ublk_dev **ret, lb_err *err)
{
	struct lb_ublk_params params;
	struct lb_ublk_dev *d;
	uint64_t end;
	int r = dev_new(cfg, &d, err);

	if (r < 0)
		return r;
	r = wait_quiesced(d, dev_id, err);
	if (r < 0)
		goto fail_close;
	r = lb_ublk_ctrl_get_params(&d->ctrl, dev_id, &params);
	if (r < 0) {
		lb_err_set(err, -r, "ublk GET_PARAMS of device %u: %s", dev_id, strerror(-r));
		goto fail_close;
	}
	if (params.basic.dev_sectors != cfg->info->size >> 9 ||
	    (1u << params.basic.logical_bs_shift) != cfg->info->block_size) {
		r = lb_err_set(err, EMEDIUMTYPE,
			       "ublk device %u presents %llu bytes in %u-byte blocks, not this "
			       "LUN's %llu in %u",
			       dev_id, (unsigned long long)params.basic.dev_sectors << 9,
			       1u << params.basic.logical_bs_shift,
			       (unsigned long long)cfg->info->size, cfg->info->block_size);
		goto fail_close;
	}
	d->buf_bytes = params.basic.max_sectors << 9;
	if (d->buf_bytes == 0 || d->buf_bytes > d->info.max_io_buf_bytes)
		d->buf_bytes = d->info.max_io_buf_bytes;
	/* the dead bridge's files must be released first */
	end = lb_now_ms() + RECOVERY_WAIT_MS;
	while ((r = lb_ublk_ctrl_start_recovery(&d->ctrl, dev_id)) == -EBUSY && lb_now_ms() < end)
		sleep_ms(100);
	if (r < 0) {
		lb_err_set(err, -r, "ublk START_USER_RECOVERY of device %u: %s", dev_id,
			   strerror(-r));
		goto fail_close;
	}
	r = queues_start(d, cfg, err);
	if (r == 0) {
		r = ctrl_with_pid(lb_ublk_ctrl_end_recovery, &d->ctrl, dev_id);
		if (r < 0)
			lb_err_set(err, -r, "ublk END_USER_RECOVERY of device %u: %s", dev_id,
				   strerror(-r));
	}
	if (r < 0) {
		/* The queues that fetched keep their commands until this
		 * process exits, as it is about to; the device stays quiesced
		 * for the next bridge.  Joining them would wait forever. */
		goto fail_close;
	}
	*ret = d;
	return 0;

fail_close:
	lb_ublk_ctrl_close(&d->ctrl);
	free(d);
	return r;
}

bool lb_ublk_dev_destroy(struct lb_ublk_dev *d, void (*log)(void *, const char *), void *arg)
{
	return d ? dev_teardown(d, true, log, arg) : true;
}

uint32_t lb_ublk_dev_id(const struct lb_ublk_dev *d)
{
	return d->info.dev_id;
}

unsigned lb_ublk_dev_queues(const struct lb_ublk_dev *d)
{
	return d->nqueues;
}

uint64_t lb_ublk_dev_flags(const struct lb_ublk_dev *d)
{
	return d->info.flags;
}

bool lb_ublk_dev_recoverable(const struct lb_ublk_dev *d)
{
	return d->info.flags & LB_UBLK_F_USER_RECOVERY;
}

void lb_ublk_dev_add_stats(const struct lb_ublk_dev *d, struct lb_io_stats *sum)
{
	for (unsigned q = 0; q < d->nqueues; q++)
		lb_ublk_queue_add_stats(d->queues[q], sum);
}

int lb_ublk_dev_info(uint32_t dev_id, struct lb_ublk_dev_info *info, lb_err *err)
{
	struct lb_ublk_ctrl c;
	int r = lb_ublk_ctrl_open(&c, err);

	if (r < 0)
		return r;
	r = lb_ublk_ctrl_get_info(&c, dev_id, info);
	lb_ublk_ctrl_close(&c);
	if (r < 0 && r != -ENODEV)
		lb_err_set(err, -r, "ublk GET_DEV_INFO of device %u: %s", dev_id, strerror(-r));
	else if (r == -ENODEV)
		lb_err_set(err, ENODEV, "there is no ublk device %u", dev_id);
	return r;
}

int lb_ublk_dev_remove(uint32_t dev_id, lb_err *err)
{
	struct lb_ublk_ctrl c;
	int r = lb_ublk_ctrl_open(&c, err);

	if (r < 0)
		return r;
	r = lb_ublk_ctrl_stop(&c, dev_id);
	if (r == 0 || r == -ENODEV) {
		int d = lb_ublk_ctrl_del(&c, dev_id);

		r = r == 0 ? d : r;
	}
	lb_ublk_ctrl_close(&c);
	if (r < 0)
		return lb_err_set(err, -r, "cannot remove ublk device %u: %s", dev_id,
				  strerror(-r));
	return 0;
}
