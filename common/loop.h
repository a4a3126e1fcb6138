/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One io_uring per thread, shared by everything that thread drives: the
 * iSCSI connections of its sessions, an NBD server's sockets, a ublk
 * queue.  Each SQE's user_data points to an lb_op embedded in its owner;
 * the loop calls op->cb(op, res, cqe_flags) with res = bytes or -errno.
 * The owner keeps the lb_op (and every buffer the SQE names) alive until
 * that callback has run.
 */
#ifndef LUNBRIDGE_LOOP_H
#define LUNBRIDGE_LOOP_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

struct lb_op;
typedef void (*lb_op_cb)(struct lb_op *op, int res, uint32_t cqe_flags);

struct lb_op {
	lb_op_cb cb;
	bool busy; /* an SQE for this op is in flight */
};

struct lb_loop {
	struct io_uring ring;
	unsigned inflight; /* SQEs submitted or queued, not yet completed */
	bool sqe128;
};

static inline void lb_op_init(struct lb_op *op, lb_op_cb cb)
{
	op->cb = cb;
	op->busy = false;
}

/* entries: SQ size; flags: IORING_SETUP_* (SQE128 for ublk commands). */
int lb_loop_init(struct lb_loop *l, unsigned entries, unsigned flags);
void lb_loop_exit(struct lb_loop *l);

/* An SQE whose completion goes to op (op->busy is set).  Submits pending
 * SQEs first when the SQ is full; -EBUSY if it is still full. */
int lb_loop_sqe(struct lb_loop *l, struct lb_op *op, struct io_uring_sqe **ret);

/* Submit what is queued, wait up to timeout_ms (-1: until something
 * completes, 0: do not wait) and run every available completion.
 * Returns the number of completions run, or -errno. */
int lb_loop_run_once(struct lb_loop *l, int timeout_ms);

/* Cancel the in-flight SQE of op (its callback still runs, usually with
 * -ECANCELED).  A no-op when op is not busy. */
int lb_loop_cancel(struct lb_loop *l, struct lb_op *op);

/* CLOCK_MONOTONIC_COARSE in milliseconds (a tick's resolution). */
uint64_t lb_now_ms(void);

/* ms as the timespec an io_uring timeout takes. */
static inline struct __kernel_timespec lb_ms_timespec(uint64_t ms)
{
	return (struct __kernel_timespec){.tv_sec = (long long)(ms / 1000),
					  .tv_nsec = (long long)(ms % 1000) * 1000000LL};
}

#endif
