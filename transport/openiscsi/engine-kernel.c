/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The open-iscsi engine: block I/O on the SCSI disk of a kernel session
 * (an offload HBA's, iSER's, or iscsi_tcp's), O_DIRECT through io_uring.
 * The kernel's sd driver turns it into SCSI commands; nothing here speaks
 * iSCSI.  The frontends' buffers are page aligned (NBD's pool, ublk's
 * per-tag buffers), which O_DIRECT needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine-kernel.h"
#include "macro.h"

/* 6.1 block/fops.c: punch hole with NO_HIDE_STALE is a discard; without
 * it, write zeroes that may unmap (no fallback to writing zeroes); zero
 * range writes zeroes and keeps the blocks. */
#define MODE_DISCARD (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE | FALLOC_FL_NO_HIDE_STALE)
#define MODE_ZEROES_UNMAP (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
#define MODE_ZEROES (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)

struct engine_kernel {
	struct lb_engine e;
	int fd;
	unsigned sid; /* the open-iscsi session under the disk */
	char path[64];
};

/* An I/O's state while it is an io_uring operation on the disk. */
struct kernel_io {
	struct lb_op op;
	struct engine_kernel *engine;
	int mode; /* fallocate mode of a discard or write zeroes */
};
LB_IO_PRIV_CHECK(struct kernel_io);

static const struct lb_engine_ops engine_kernel_ops;

static int kernel_prep(struct engine_kernel *ek, struct lb_io *io);

static void kernel_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct kernel_io *p = container_of(op, struct kernel_io, op);
	struct lb_io *io = container_of((void *)p, struct lb_io, priv.bytes);
	struct engine_kernel *ek = p->engine;

	(void)cqe_flags;
	/* a disk that cannot unmap while zeroing: write the zeroes */
	if (res == -EOPNOTSUPP && io->op == LB_IO_WRITE_ZEROES && p->mode == MODE_ZEROES_UNMAP) {
		p->mode = MODE_ZEROES;
		if (kernel_prep(ek, io) == 0)
			return;
	}
	/* READ and WRITE report their bytes (engine.h), the rest 0 */
	if (res >= 0 && (io->op == LB_IO_READ || io->op == LB_IO_WRITE) &&
	    (uint32_t)res != io->length)
		res = -EIO; /* O_DIRECT on a disk is never short inside it */
	else if (res > 0 && io->op != LB_IO_READ && io->op != LB_IO_WRITE)
		res = 0;
	io->done(io, res);
}

static int kernel_prep(struct engine_kernel *ek, struct lb_io *io)
{
	struct kernel_io *p = lb_io_priv(io, struct kernel_io);
	struct io_uring_sqe *sqe;
	int r;

	lb_op_init(&p->op, kernel_done);
	r = lb_loop_sqe(ek->e.loop, &p->op, &sqe);
	if (r < 0)
		return r;
	switch (io->op) {
	case LB_IO_READ:
		io_uring_prep_readv(sqe, ek->fd, io->iov, io->iovcnt, io->offset);
		break;
	case LB_IO_WRITE:
		io_uring_prep_writev(sqe, ek->fd, io->iov, io->iovcnt, io->offset);
		if (io->flags & LB_IO_FUA)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case LB_IO_FLUSH:
		io_uring_prep_fsync(sqe, ek->fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		io_uring_prep_fallocate(sqe, ek->fd, p->mode, io->offset, io->length);
		break;
	}
	return 0;
}

static int kernel_submit(struct lb_engine *e, struct lb_io *io)
{
	struct engine_kernel *ek = (struct engine_kernel *)e;
	const struct lb_volume_info *vi = &e->info;
	struct kernel_io *p = lb_io_priv(io, struct kernel_io);
	int r = lb_io_check(vi, io);

	if (r < 0)
		return r;
	p->engine = ek;
	p->mode = 0;
	if (io->op == LB_IO_DISCARD)
		p->mode = MODE_DISCARD;
	else if (io->op == LB_IO_WRITE_ZEROES)
		p->mode = (io->flags & LB_IO_NO_HOLE) ? MODE_ZEROES : MODE_ZEROES_UNMAP;
	/* fallocate on a read-only disk: refused here, not by the kernel */
	if (p->mode && vi->read_only)
		return -EROFS;
	return kernel_prep(ek, io);
}

static void kernel_free(struct lb_engine *e)
{
	struct engine_kernel *ek = (struct engine_kernel *)e;

	if (ek->fd >= 0)
		close(ek->fd);
	free(ek);
}

static int kernel_clone(struct lb_engine *base, struct lb_loop *loop, struct lb_engine **ret,
			lb_err *err)
{
	const struct engine_kernel *b = (const struct engine_kernel *)base;
	struct engine_kernel *ek = malloc(sizeof(*ek));

	if (!ek)
		return lb_err_set(err, ENOMEM, "out of memory");
	*ek = *b;
	ek->e.loop = loop;
	ek->fd = fcntl(b->fd, F_DUPFD_CLOEXEC, 3);
	if (ek->fd < 0) {
		int r = lb_err_set(err, errno, "%s: %m", b->path);

		free(ek);
		return r;
	}
	*ret = &ek->e;
	return 0;
}

/* The kernel's state of the open-iscsi session ("LOGGED_IN", "FAILED"). */
static const char *kernel_state(const struct lb_engine *e, char *buf, size_t len)
{
	const struct engine_kernel *ek = (const struct engine_kernel *)e;
	char path[80];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/iscsi_session/session%u/state", ek->sid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "gone");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void kernel_describe(const struct lb_engine *e, lb_engine_field_fn add, void *arg)
{
	const struct engine_kernel *ek = (const struct engine_kernel *)e;

	add(arg, "disk", ek->path, 0);
	add(arg, "iscsi_session", NULL, ek->sid);
}

static const struct lb_engine_ops engine_kernel_ops = {
	.name = "kernel",
	.submit = kernel_submit,
	.free = kernel_free,
	/* io_uring on the disk: clients on one loop share it */
	.clone = kernel_clone,
	.state = kernel_state,
	.describe = kernel_describe,
};

int lb_engine_kernel_new(struct lb_loop *loop, const char *devnode, unsigned sid,
			 const struct lb_volume_info *info, struct lb_engine **ret, lb_err *err)
{
	struct engine_kernel *ek;
	uint64_t size = 0;
	struct stat st;
	int fd;

	if (info->block_size < 512 || info->size % info->block_size || info->max_transfer == 0)
		return lb_err_set(err, EINVAL, "%s: no usable geometry", devnode);
	/* exclusive: nobody mounts the disk under the bridge */
	fd = open(devnode, (info->read_only ? O_RDONLY : O_RDWR) | O_DIRECT | O_EXCL | O_CLOEXEC);
	if (fd < 0)
		return lb_err_set(err, errno,
				  errno == EBUSY ? "%s is in use (mounted, or opened exclusively)"
						 : "%s: %m",
				  devnode);
	if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode)) {
		close(fd);
		return lb_err_set(err, ENOTBLK, "%s is not a block device", devnode);
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || size != info->size) {
		close(fd);
		return lb_err_set(err, EIO, "%s: its size (%llu bytes) is not what sysfs says",
				  devnode, (unsigned long long)size);
	}
	ek = calloc(1, sizeof(*ek));
	if (!ek) {
		close(fd);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	ek->e.ops = &engine_kernel_ops;
	ek->e.info = *info;
	ek->e.loop = loop;
	ek->fd = fd;
	ek->sid = sid;
	snprintf(ek->path, sizeof(ek->path), "%s", devnode);
	*ret = &ek->e;
	return 0;
}
