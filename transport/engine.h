/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A LUN as a block device, whatever carries it.  The frontends (NBD,
 * ublk) see only this interface; behind it are the engines: our own tcp
 * initiator (engine-iscsi.c) and, for offload HBAs and iSER, the kernel's
 * SCSI disk of an open-iscsi session.
 *
 * An engine is an ops table (each callback marked required or optional)
 * and an opaque handle.  I/O is asynchronous on the caller's lb_loop:
 * io->done(io, res) runs once, res = bytes (0 for flush, discard, write
 * zeroes) or -errno.
 */
#ifndef LUNBRIDGE_ENGINE_H
#define LUNBRIDGE_ENGINE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lb-err.h"
#include "session.h"

struct lb_volume_info {
	uint64_t size;	     /* bytes */
	uint32_t block_size; /* logical */
	uint32_t physical_block_size;
	uint32_t max_transfer;	   /* bytes per command; never 0 */
	uint32_t max_discard;	   /* bytes per discard, 0: no discard */
	uint32_t max_write_zeroes; /* bytes per write-zeroes, 0: none */
	bool discard;		   /* UNMAP (or WRITE SAME with UNMAP) */
	bool write_zeroes;	   /* WRITE SAME */
	bool discard_zeroes;	   /* unmapped blocks read back as zeroes */
	bool fua;		   /* the FUA bit is honoured */
	bool flush;		   /* SYNCHRONIZE CACHE */
	bool read_only;
	char vendor[9], product[17], serial[256], id[256];
};

enum lb_io_op {
	LB_IO_READ,
	LB_IO_WRITE,
	LB_IO_FLUSH,
	LB_IO_DISCARD,
	LB_IO_WRITE_ZEROES,
};

#define LB_IO_FUA 0x1u	   /* write: durable before completion */
#define LB_IO_NO_HOLE 0x2u /* write zeroes: keep the blocks allocated */

/* The most one I/O of op may carry on this LUN (0 for discard or write
 * zeroes when it has none). */
static inline uint32_t lb_io_op_max(const struct lb_volume_info *vi, enum lb_io_op op)
{
	switch (op) {
	case LB_IO_DISCARD:
		return vi->max_discard;
	case LB_IO_WRITE_ZEROES:
		return vi->max_write_zeroes;
	default:
		return vi->max_transfer;
	}
}

struct lb_io;
typedef void (*lb_io_cb)(struct lb_io *io, int res);

struct lb_io {
	enum lb_io_op op;
	uint32_t flags;
	uint64_t offset;	 /* bytes, block aligned */
	uint32_t length;	 /* bytes, block aligned, <= the op's maximum */
	const struct iovec *iov; /* READ and WRITE */
	unsigned iovcnt;
	lb_io_cb done;
	void *arg;
	/* private to the engine */
	union {
		struct {
			struct iscsi_cmd cmd;
			struct iovec iov;
			uint8_t param[24];
			void *engine;
		} iscsi;
		struct {
			struct lb_op op;
			void *engine;
			int mode; /* fallocate mode of a discard or write zeroes */
		} kernel;
	} priv;
};

/* What every engine checks before an I/O reaches the LUN: 0; -EINVAL
 * outside the device, unaligned, longer than a command may carry or an
 * unknown op; -EROFS for a write to a read-only LUN; -EOPNOTSUPP for a
 * discard or write zeroes the LUN lacks, or longer than it takes. */
static inline int lb_io_check(const struct lb_volume_info *vi, const struct lb_io *io)
{
	uint32_t bs = vi->block_size;

	if (io->offset % bs || io->length % bs || io->offset > vi->size ||
	    io->length > vi->size - io->offset)
		return -EINVAL;
	switch (io->op) {
	case LB_IO_READ:
	case LB_IO_WRITE:
		if (io->length > vi->max_transfer)
			return -EINVAL;
		return io->op == LB_IO_WRITE && vi->read_only ? -EROFS : 0;
	case LB_IO_FLUSH:
		return 0;
	case LB_IO_DISCARD:
		return vi->discard && io->length <= vi->max_discard ? 0 : -EOPNOTSUPP;
	case LB_IO_WRITE_ZEROES:
		return vi->write_zeroes && io->length <= vi->max_write_zeroes ? 0 : -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

struct lb_engine;

struct lb_engine_ops {
	const char *name; /* "iscsi", "kernel" */
	/* required: start one I/O; -errno if it cannot be queued */
	int (*submit)(struct lb_engine *e, struct lb_io *io);
	/* required: release everything (after all I/O completed) */
	void (*free)(struct lb_engine *e);
	/* optional: counters for `lunbridge list` */
	void (*stats)(struct lb_engine *e, struct iscsi_session_stats *ret);
};

struct lb_engine {
	const struct lb_engine_ops *ops;
	struct lb_volume_info info;
};

static inline int lb_engine_submit(struct lb_engine *e, struct lb_io *io)
{
	return e->ops->submit(e, io);
}

void lb_engine_free(struct lb_engine *e); /* NULL ok */

/* Our initiator's engine on a logged-in session (which it does not own):
 * runs the LUN inventory, then serves I/O with READ/WRITE(16), falling
 * back to the 10-byte forms when the LUN refuses them.  -ENXIO when the
 * LUN does not exist, -ENOTBLK when it is not a disk. */
int lb_engine_iscsi_new(struct iscsi_session *s, uint32_t lun, struct lb_engine **ret, lb_err *err);
/* The same LUN on another session of the same target (one per NBD
 * connection, one per queue): what base learnt, without asking again. */
int lb_engine_iscsi_clone(const struct lb_engine *base, struct iscsi_session *s,
			  struct lb_engine **ret);

/* The open-iscsi engine: the LUN's SCSI disk in the kernel (DEVNODE, as
 * kdisk.h found it and described it in INFO), opened O_DIRECT and
 * exclusively, all I/O on loop's io_uring: reads and writes (FUA as
 * RWF_DSYNC), flush as fdatasync, discard and write zeroes as fallocate. */
int lb_engine_kernel_new(struct lb_loop *loop, const char *devnode,
			 const struct lb_volume_info *info, struct lb_engine **ret, lb_err *err);
/* The same disk for another thread's loop (a ublk queue). */
int lb_engine_kernel_clone(const struct lb_engine *base, struct lb_loop *loop,
			   struct lb_engine **ret);
/* The disk's path, or NULL if e is not the open-iscsi engine. */
const char *lb_engine_kernel_disk(const struct lb_engine *e);

#endif
