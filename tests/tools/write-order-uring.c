/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write-order checker's front door for a block device or a file:
 * io_uring reads and writes, O_DIRECT on request (--direct), RWF_DSYNC
 * for --fua.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "write-order.h"

struct wo_dev {
	struct io_uring ring;
	int fd;
	bool fua;
	uint64_t size;
};

static int uring_open(struct wo_dev **ret, const char *target, bool direct, bool fua, unsigned qd)
{
	struct wo_dev *d = calloc(1, sizeof(*d));
	struct stat st;
	int r;

	if (!d)
		return -ENOMEM;
	d->fua = fua;
	d->fd = open(target, O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0));
	if (d->fd < 0) {
		r = -errno;
		fprintf(stderr, "write-order: %s: %s\n", target, strerror(-r));
		free(d);
		return r;
	}
	if (fstat(d->fd, &st) < 0 ||
	    (S_ISBLK(st.st_mode) ? ioctl(d->fd, BLKGETSIZE64, &d->size) < 0 : false)) {
		r = -errno;
		fprintf(stderr, "write-order: %s: size: %s\n", target, strerror(-r));
		goto fail;
	}
	if (!S_ISBLK(st.st_mode))
		d->size = (uint64_t)st.st_size;
	r = io_uring_queue_init(qd, &d->ring, 0);
	if (r < 0) {
		fprintf(stderr, "write-order: io_uring_queue_init: %s\n", strerror(-r));
		goto fail;
	}
	*ret = d;
	return 0;
fail:
	close(d->fd);
	free(d);
	return r;
}

static int uring_submit(struct wo_dev *d, enum wo_op op, uint64_t off, void *buf, uint32_t len,
			unsigned slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);
	int r;

	if (!sqe)
		return -EBUSY;
	if (op == WO_WRITE) {
		io_uring_prep_write(sqe, d->fd, buf, len, off);
		if (d->fua)
			sqe->rw_flags = RWF_DSYNC;
	} else {
		io_uring_prep_read(sqe, d->fd, buf, len, off);
	}
	io_uring_sqe_set_data64(sqe, slot);
	r = io_uring_submit(&d->ring);
	return r < 0 ? r : 0;
}

static int uring_reap(struct wo_dev *d, unsigned *slot, int *res, int timeout_ms)
{
	struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
				       .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
	struct io_uring_cqe *cqe;
	int r = io_uring_wait_cqe_timeout(&d->ring, &cqe, &ts);

	if (r == -ETIME || r == -EINTR)
		return 0;
	if (r < 0)
		return r;
	*slot = (unsigned)io_uring_cqe_get_data64(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&d->ring, cqe);
	return 1;
}

static uint64_t uring_size(struct wo_dev *d)
{
	return d->size;
}

static void uring_close(struct wo_dev *d)
{
	if (!d)
		return;
	io_uring_queue_exit(&d->ring);
	close(d->fd);
	free(d);
}

const struct wo_ops wo_uring_ops = {
	.open = uring_open,
	.submit = uring_submit,
	.reap = uring_reap,
	.size = uring_size,
	.close = uring_close,
	.reconnect = false,
};
