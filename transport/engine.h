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
 * zeroes; extents for block status) or -errno.
 */
#ifndef LUNBRIDGE_ENGINE_H
#define LUNBRIDGE_ENGINE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lb-err.h"
#include "loop.h"

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
	/* write zeroes may leave a hole that reads zeroes (WRITE SAME with
	 * UNMAP on a LUN with LBPRZ): fast, no block is written */
	bool write_zeroes_unmap;
	/* the LUN is thin and tells which blocks are allocated (READ
	 * CAPACITY(16)'s LBPME: GET LBA STATUS); LB_IO_BLOCK_STATUS works */
	bool block_status;
	uint32_t optimal_granularity; /* bytes; a power of two or 0: not given */
	bool fua;		   /* the FUA bit is honoured */
	bool flush;		   /* SYNCHRONIZE CACHE */
	bool read_only;
	/* how long the engine may try one I/O (its lifetime, retries and
	 * re-issues included; fencing can add to it); 0: not bounded by us */
	uint32_t request_timeout_ms;
	char vendor[9], product[17], serial[256], id[256];
};

enum lb_io_op {
	LB_IO_READ,
	LB_IO_WRITE,
	LB_IO_FLUSH,
	LB_IO_DISCARD,
	LB_IO_WRITE_ZEROES,
	/* which blocks from offset on are allocated: io->iov[0] is an array
	 * of struct lb_extent (its length / sizeof(struct lb_extent) of
	 * them), res the number filled in (>= 1), contiguous from offset,
	 * together at most length bytes (fewer when the LUN said less) */
	LB_IO_BLOCK_STATUS,
};

/* A run of blocks as LB_IO_BLOCK_STATUS reports it. */
#define LB_EXTENT_HOLE 0x1u /* not allocated */
#define LB_EXTENT_ZERO 0x2u /* reads return zeroes */
struct lb_extent {
	uint64_t length; /* bytes, > 0, block aligned */
	uint32_t flags;	 /* LB_EXTENT_*; 0: allocated, data */
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
	case LB_IO_BLOCK_STATUS: /* a question, not a transfer */
		return vi->block_status ? UINT32_MAX - UINT32_MAX % vi->block_size : 0;
	default:
		return vi->max_transfer;
	}
}

struct lb_io;
typedef void (*lb_io_cb)(struct lb_io *io, int res);

/* The engine's own per-I/O state lives in lb_io's priv area: opaque to
 * everyone but the engine that submitted it, sized here and checked by
 * each engine with a _Static_assert (lb_io_priv() below).  A fixed area
 * keeps the frontends' request pools free of engine sizes and the I/O path
 * free of allocations; an engine that composes others (multipath) keeps
 * its paths' lb_io in a pool of its own. */
#define LB_IO_PRIV_SIZE 256

struct lb_io {
	enum lb_io_op op;
	uint32_t flags;
	uint64_t offset;	 /* bytes, block aligned */
	uint32_t length;	 /* bytes, block aligned, <= the op's maximum */
	const struct iovec *iov; /* READ and WRITE */
	unsigned iovcnt;
	lb_io_cb done;
	void *arg;
	union {
		max_align_t align;
		unsigned char bytes[LB_IO_PRIV_SIZE];
	} priv; /* the engine's; see above */
};

/* The engine's state of io: a type the engine asserts fits
 * (LB_IO_PRIV_CHECK(type) beside its definition). */
#define lb_io_priv(io, type) ((type *)(void *)(io)->priv.bytes)
#define LB_IO_PRIV_CHECK(type)                                                                     \
	_Static_assert(sizeof(type) <= LB_IO_PRIV_SIZE && _Alignof(type) <= _Alignof(max_align_t), \
		       #type " does not fit lb_io's priv area")

/* What every engine checks before an I/O reaches the LUN: 0; -EINVAL
 * outside the device, unaligned, longer than a command may carry or an
 * unknown op; -EROFS for a write to a read-only LUN; -EOPNOTSUPP for a
 * discard or write zeroes the LUN lacks, or longer than it takes, and for
 * block status where the LUN does not tell (-EINVAL without room for an
 * extent). */
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
	case LB_IO_BLOCK_STATUS:
		if (io->iovcnt != 1 || io->iov[0].iov_len < sizeof(struct lb_extent))
			return -EINVAL;
		return vi->block_status ? 0 : -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

struct lb_engine;

/* What `lunbridge list` sums over a volume's engines; whatever carries
 * the LUN (a session of ours, the kernel's, several paths) counts here. */
struct lb_engine_stats {
	uint64_t reconnects; /* the carrier was lost and came back */
	uint64_t timeouts;   /* commands that outlived their deadline */
	uint64_t retries;    /* commands sent again */
	unsigned sessions;   /* iSCSI sessions of its own (0: the kernel's) */
};

/* An engine's end of a start or stop: res 0 or -errno. */
typedef void (*lb_engine_cb)(struct lb_engine *e, void *arg, int res);
typedef void (*lb_engine_log_fn)(void *arg, const char *line);
typedef void (*lb_engine_field_fn)(void *arg, const char *key, const char *s, uint64_t n);

/*
 * An engine's operations.  The volume and the frontends reach an engine
 * only through these (and the lb_engine_* wrappers below, which stand in
 * for the optional ones); only its constructor is engine-specific, called
 * where the engine is chosen (attach).  An engine's instance lives on one
 * lb_loop: every call on it, and every completion, is on that loop.
 */
struct lb_engine_ops {
	const char *name; /* "iscsi", "kernel" */
	/* required: start one I/O; -errno if it cannot be queued */
	int (*submit)(struct lb_engine *e, struct lb_io *io);
	/* required: release everything at once (after all I/O completed,
	 * and after stop where the engine has one) */
	void (*free)(struct lb_engine *e);
	/* optional: the same LUN, for another client or another thread's
	 * loop: what base learnt about the LUN, without asking again.  The
	 * clone is not started (start, if the engine has one, brings it up).
	 * Without clone, every client shares the first engine on its loop. */
	int (*clone)(struct lb_engine *base, struct lb_loop *loop, struct lb_engine **ret,
		     lb_err *err);
	/* true: each client on a loop is better served by a clone of its own
	 * (a session each: iSCSI orders commands per session), false: clients
	 * on one loop share an instance and clones are only for other loops */
	bool clone_per_client;
	/* optional: bring a clone up (log its session in); cb once, on the
	 * engine's loop, unless it returns -errno.  Without start an engine
	 * serves from its creation. */
	int (*start)(struct lb_engine *e, lb_engine_cb cb, void *arg);
	/* optional: leave gracefully (log out); cb once unless it returns
	 * -errno (-EALREADY: there is nothing to leave). */
	int (*stop)(struct lb_engine *e, lb_engine_cb cb, void *arg);
	/* required with start and stop: the same, waited for on the
	 * engine's loop with the engine's own deadlines (a thread's loop, or
	 * teardown) */
	int (*start_sync)(struct lb_engine *e, lb_err *err);
	void (*stop_sync)(struct lb_engine *e);
	/* optional: whether I/O can reach the LUN now (false while it
	 * recovers or after it failed); without it, always */
	bool (*ready)(const struct lb_engine *e);
	/* optional: one word for what carries the LUN ("FULL_FEATURE",
	 * "LOGGED_IN", ...), for `lunbridge list` */
	const char *(*state)(const struct lb_engine *e, char *buf, size_t len);
	/* optional: counters for `lunbridge list` */
	void (*stats)(const struct lb_engine *e, struct lb_engine_stats *ret);
	/* optional: what `lunbridge list` shows of the engine's own (the
	 * kernel's disk under it, say): add(arg, key, s, n) per field, a
	 * string where s is not NULL, else the number n */
	void (*describe)(const struct lb_engine *e, lb_engine_field_fn add, void *arg);
	/* optional: where the engine reports what it acts on (a dropped
	 * connection, a timeout, a reconnect): one line each */
	void (*set_log)(struct lb_engine *e, lb_engine_log_fn fn, void *arg);
	/* optional: give up every I/O submitted so far (its issuer has
	 * gone): none is sent again, each completes as usual (-ECANCELED
	 * unless the LUN already answered it), and cb runs once none of them
	 * can still reach the LUN: fenced by a confirmed abort or LUN reset,
	 * or by the end of the session that carried it.  Without cancel the
	 * I/O in flight simply completes, bounded by the engine's own
	 * timeouts (the kernel's SCSI error handling, say). */
	int (*cancel)(struct lb_engine *e, lb_engine_cb cb, void *arg);
	/* optional: the reason the last start failed, for a log line */
	const char *(*error)(const struct lb_engine *e);
};

struct lb_engine {
	const struct lb_engine_ops *ops;
	struct lb_loop *loop; /* where it runs */
	struct lb_volume_info info;
};

static inline int lb_engine_submit(struct lb_engine *e, struct lb_io *io)
{
	return e->ops->submit(e, io);
}

void lb_engine_free(struct lb_engine *e); /* NULL ok */
/* -EOPNOTSUPP without a clone op. */
int lb_engine_clone(struct lb_engine *base, struct lb_loop *loop, struct lb_engine **ret,
		    lb_err *err);
/* Without a start op: cb is not called, 1 is returned (serving already). */
int lb_engine_start(struct lb_engine *e, lb_engine_cb cb, void *arg);
/* Without a stop op: -EALREADY. */
int lb_engine_stop(struct lb_engine *e, lb_engine_cb cb, void *arg);
/* Without a cancel op: -EOPNOTSUPP. */
int lb_engine_cancel(struct lb_engine *e, lb_engine_cb cb, void *arg);
/* start and stop, waited for on the engine's own loop (a thread's). */
int lb_engine_start_sync(struct lb_engine *e, lb_err *err);
void lb_engine_stop_sync(struct lb_engine *e);
bool lb_engine_ready(const struct lb_engine *e);
/* NULL without a state op. */
const char *lb_engine_state(const struct lb_engine *e, char *buf, size_t len);
/* sum += e's counters. */
void lb_engine_add_stats(const struct lb_engine *e, struct lb_engine_stats *sum);
void lb_engine_set_log(struct lb_engine *e, lb_engine_log_fn fn, void *arg);
/* Nothing without a describe op. */
void lb_engine_describe(const struct lb_engine *e, lb_engine_field_fn add, void *arg);
/* "unknown error" without an error op. */
const char *lb_engine_error(const struct lb_engine *e);

/* Each engine's constructor is in its own header, for whoever chooses
 * the engine (attach): initiator/engine-iscsi.h, openiscsi/engine-kernel.h. */

#endif
