/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "loop.h"

int lb_loop_init(struct lb_loop *l, unsigned entries, unsigned flags)
{
	struct io_uring_params p;
	int r;

	memset(l, 0, sizeof(*l));
	/* one ring per thread, only that thread submits: completions run when
	 * it asks for them, without interrupting it (6.1 and later) */
	memset(&p, 0, sizeof(p));
	p.flags = flags | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	r = io_uring_queue_init_params(entries, &l->ring, &p);
	if (r == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = flags;
		r = io_uring_queue_init_params(entries, &l->ring, &p);
	}
	if (r < 0)
		return r;
	l->sqe128 = flags & IORING_SETUP_SQE128;
	return 0;
}

void lb_loop_exit(struct lb_loop *l)
{
	if (l->ring.ring_fd > 0)
		io_uring_queue_exit(&l->ring);
	l->ring.ring_fd = -1;
}

/* An SQE, submitting what is queued first when the SQ is full. */
static int get_sqe(struct lb_loop *l, struct io_uring_sqe **ret)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		int r = io_uring_submit(&l->ring);
		if (r < 0)
			return r;
		sqe = io_uring_get_sqe(&l->ring);
		if (!sqe)
			return -EBUSY;
	}
	*ret = sqe;
	return 0;
}

int lb_loop_sqe(struct lb_loop *l, struct lb_op *op, struct io_uring_sqe **ret)
{
	struct io_uring_sqe *sqe;
	int r = get_sqe(l, &sqe);

	if (r < 0)
		return r;
	io_uring_sqe_set_data(sqe, op);
	op->busy = true;
	l->inflight++;
	*ret = sqe;
	return 0;
}

static unsigned lb_loop_reap(struct lb_loop *l)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (io_uring_peek_cqe(&l->ring, &cqe) == 0) {
		struct lb_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		uint32_t flags = cqe->flags;

		io_uring_cqe_seen(&l->ring, cqe);
		n++;
		if (!op) /* a cancel request's own completion */
			continue;
		if (!(flags & IORING_CQE_F_MORE)) {
			op->busy = false;
			l->inflight--;
		}
		op->cb(op, res, flags);
	}
	return n;
}

int lb_loop_run_once(struct lb_loop *l, int timeout_ms)
{
	struct io_uring_cqe *cqe;
	unsigned n;
	int r;

	n = lb_loop_reap(l);
	if (n) {
		r = io_uring_submit(&l->ring);
		return r < 0 ? r : (int)n;
	}
	if (timeout_ms == 0) {
		r = io_uring_submit(&l->ring);
		return r < 0 ? r : (int)lb_loop_reap(l);
	}
	if (timeout_ms < 0) {
		r = io_uring_submit_and_wait(&l->ring, 1);
		if (r < 0 && r != -EINTR)
			return r;
	} else {
		struct __kernel_timespec ts = lb_ms_timespec((uint64_t)timeout_ms);
		r = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
		if (r < 0 && r != -ETIME && r != -EINTR)
			return r;
	}
	return (int)lb_loop_reap(l);
}

int lb_loop_cancel(struct lb_loop *l, struct lb_op *op)
{
	struct io_uring_sqe *sqe;
	int r;

	if (!op->busy)
		return 0;
	r = get_sqe(l, &sqe);
	if (r < 0)
		return r;
	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data(sqe, NULL);
	return 0;
}

uint64_t lb_now_ms(void)
{
	struct timespec ts;

	/* the coarse clock (a tick, a few ms) is ample for timeouts and costs
	 * no TSC read: it is called for every command and PDU */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
