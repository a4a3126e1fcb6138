/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "ublk-queue.h"


enum tag_state {
	TAG_IDLE,  /* not fetched yet */
	TAG_FETCH, /* the kernel owns it: FETCH or COMMIT_AND_FETCH in flight */
	TAG_SERVE, /* the engine has it */
	TAG_DONE,  /* given back (device stopping) */
};

struct tag {
	struct lb_ublk_queue *q;
	struct lb_op op;
	struct lb_io io;
	struct iovec iov;
	uint8_t *buf;
	uint16_t tag;
	enum tag_state st;
	struct lb_ublk_req req;
	uint64_t done; /* bytes of req served */
};

struct lb_ublk_queue {
	struct lb_ublk_queue_config cfg;
	pthread_t thread;
	struct lb_loop loop;
	bool loop_up;
	int fd; /* /dev/ublkcN, the device's */
	const struct lb_ublk_io_desc *iods;
	size_t iods_len;
	uint8_t *bufs;
	size_t bufs_len;
	struct lb_engine *e;
	struct tag *tags;
	unsigned active;   /* tags not DONE */
	unsigned serving;  /* tags with engine I/O in flight */
	bool cancelling;   /* the engine was told to give them up */
	bool logged_error; /* one line for an unexpected command error */
	struct lb_io_stats n; /* written by the queue's thread only */
	/* startup handshake */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;
	int start_res;
	lb_err start_err;
};

static void qlog(struct lb_ublk_queue *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void qlog(struct lb_ublk_queue *q, const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "queue %u: ", q->cfg.q_id);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	q->cfg.ops->log(q->cfg.ops->arg, line);
}

static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

/* ---- commands to the driver ---- */

static void tag_cmd_done(struct lb_op *op, int res, uint32_t cqe_flags);

static int tag_send(struct tag *t, unsigned nr, int32_t result)
{
	struct lb_ublk_queue *q = t->q;
	struct io_uring_sqe *sqe;
	struct lb_ublk_io_cmd *cmd;
	int r = lb_loop_sqe(&q->loop, &t->op, &sqe);

	if (r < 0)
		return r;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->fd;
	sqe->cmd_op = lb_ublk_io_op(nr, q->cfg.encoded);
	io_uring_sqe_set_data(sqe, &t->op);
	cmd = (struct lb_ublk_io_cmd *)sqe->cmd;
	cmd->q_id = q->cfg.q_id;
	cmd->tag = t->tag;
	cmd->result = result;
	cmd->addr = (uint64_t)(uintptr_t)t->buf;
	t->st = TAG_FETCH;
	return 0;
}

static void tag_retire(struct tag *t)
{
	if (t->st != TAG_DONE) {
		t->st = TAG_DONE;
		t->q->active--;
	}
}

/* Answer the kernel: bytes or -errno, and take the tag's next request. */
static void tag_commit(struct tag *t, int res)
{
	struct lb_ublk_queue *q = t->q;
	int r;

	if (res < 0)
		lb_io_stats_error(&q->n);
	r = tag_send(t, LB_UBLK_IO_COMMIT_AND_FETCH_REQ, res);
	if (r < 0) {
		/* nothing we can do but leave the request to the kernel's timeout */
		qlog(q, "cannot commit tag %u: %s", t->tag, strerror(-r));
		tag_retire(t);
	}
}

/* ---- serving a request ---- */

static void tag_next(struct tag *t);

static void tag_io_done(struct lb_io *io, int res)
{
	struct tag *t = container_of(io, struct tag, io);

	t->q->serving--;
	if (res < 0) {
		tag_commit(t, res);
		return;
	}
	if (t->req.op == LB_IO_READ || t->req.op == LB_IO_WRITE) {
		/* a short transfer: go on from where it stopped; none is an error */
		if (res == 0 && io->length) {
			tag_commit(t, -EIO);
			return;
		}
		t->done += (uint32_t)res < io->length ? (uint32_t)res : io->length;
	} else {
		t->done += io->length;
	}
	if (t->done < t->req.length) {
		tag_next(t);
		return;
	}
	lb_io_stats_count(&t->q->n, t->req.op, t->req.length);
	tag_commit(t, t->req.op == LB_IO_READ || t->req.op == LB_IO_WRITE ? (int)t->req.length
									   : 0);
}

/* Submit the next piece of the tag's request. */
static void tag_next(struct tag *t)
{
	struct lb_ublk_queue *q = t->q;
	uint64_t left = t->req.length - t->done, max = lb_io_op_max(&q->e->info, t->req.op);
	int r;

	max -= max % q->cfg.lim.block_size;
	if (max == 0)
		max = q->cfg.lim.block_size;
	memset(&t->io, 0, sizeof(t->io));
	t->io.op = t->req.op;
	t->io.flags = t->req.flags;
	t->io.offset = t->req.offset + t->done;
	t->io.length = (uint32_t)(left < max ? left : max);
	t->io.done = tag_io_done;
	if (t->req.op == LB_IO_READ || t->req.op == LB_IO_WRITE) {
		t->iov.iov_base = t->buf + t->done;
		t->iov.iov_len = t->io.length;
		t->io.iov = &t->iov;
		t->io.iovcnt = 1;
	}
	q->serving++;
	r = lb_engine_submit(q->e, &t->io);
	if (r < 0) {
		q->serving--;
		tag_commit(t, r);
	}
}

static void tag_serve(struct tag *t)
{
	struct lb_ublk_queue *q = t->q;
	struct lb_ublk_io_desc iod;
	int r;

	memcpy(&iod, &q->iods[t->tag], sizeof(iod)); /* the kernel's memory: once */
	r = lb_ublk_iod_decode(&iod, &q->cfg.lim, &t->req);
	if (r < 0) {
		tag_commit(t, r);
		return;
	}
	if (t->req.nop) {
		lb_io_stats_count(&q->n, t->req.op, 0);
		tag_commit(t, 0);
		return;
	}
	t->st = TAG_SERVE;
	t->done = 0;
	tag_next(t); /* a flush: one command of length 0 */
}

static void tag_cmd_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct tag *t = container_of(op, struct tag, op);
	struct lb_ublk_queue *q = t->q;

	(void)cqe_flags;
	if (res == LB_UBLK_IO_RES_OK) {
		tag_serve(t);
		return;
	}
	if (res != -ENODEV && !q->logged_error) {
		q->logged_error = true;
		qlog(q, "the driver refused a command for tag %u: %s", t->tag, strerror(-res));
	}
	tag_retire(t);
}

/* ---- the thread ---- */

static int queue_setup(struct lb_ublk_queue *q, lb_err *err)
{
	const struct lb_ublk_queue_config *c = &q->cfg;
	size_t max_area = page_round(LB_UBLK_MAX_QUEUE_DEPTH * sizeof(struct lb_ublk_io_desc));
	unsigned entries = 64;
	void *p;
	int r;

	while (entries < 2u * c->depth + 64u)
		entries *= 2;
	r = lb_loop_init(&q->loop, entries, 0);
	if (r < 0)
		return lb_err_set(err, -r, "io_uring: %s", strerror(-r));
	q->loop_up = true;
	q->iods_len = page_round(c->depth * sizeof(struct lb_ublk_io_desc));
	p = mmap(NULL, q->iods_len, PROT_READ, MAP_SHARED | MAP_POPULATE, q->fd,
		 (off_t)(LB_UBLK_CMD_BUF_OFFSET + c->q_id * max_area));
	if (p == MAP_FAILED)
		return lb_err_set(err, errno, "cannot map the request descriptors: %m");
	q->iods = p;
	q->bufs_len = (size_t)c->depth * c->lim.buf_bytes;
	p = mmap(NULL, q->bufs_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return lb_err_set(err, errno, "cannot allocate %zu bytes of buffers: %m", q->bufs_len);
	q->bufs = p;
	q->tags = calloc(c->depth, sizeof(*q->tags));
	if (!q->tags)
		return lb_err_set(err, ENOMEM, "out of memory");
	r = c->ops->open(c->ops->arg, c->q_id, &q->loop, &q->e, err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < c->depth; i++) {
		struct tag *t = &q->tags[i];

		t->q = q;
		t->tag = (uint16_t)i;
		t->buf = q->bufs + (size_t)i * c->lim.buf_bytes;
		lb_op_init(&t->op, tag_cmd_done);
		r = tag_send(t, LB_UBLK_IO_FETCH_REQ, 0);
		if (r < 0)
			return lb_err_set(err, -r, "cannot fetch tag %u: %s", i, strerror(-r));
		q->active++;
	}
	r = io_uring_submit(&q->loop.ring);
	if (r < 0)
		return lb_err_set(err, -r, "cannot submit the fetches: %s", strerror(-r));
	return 0;
}

static void queue_release(struct lb_ublk_queue *q)
{
	if (q->e)
		q->cfg.ops->close(q->cfg.ops->arg, q->cfg.q_id, &q->loop, q->e);
	q->e = NULL;
	if (q->loop_up)
		lb_loop_exit(&q->loop);
	q->loop_up = false;
	if (q->iods)
		munmap((void *)q->iods, q->iods_len);
	q->iods = NULL;
	if (q->bufs)
		munmap(q->bufs, q->bufs_len);
	q->bufs = NULL;
	free(q->tags);
	q->tags = NULL;
}

static void queue_cancelled(struct lb_engine *e, void *arg, int res)
{
	qlog(arg, "the requests it gave up are fenced: none can reach the LUN any more");
}

/* The volume's stop is bounded: past cancel_at, what the engine still has
 * is cancelled and fenced; each tag is answered once its I/O has ended. */
static void queue_check_cancel(struct lb_ublk_queue *q)
{
	const struct lb_ublk_engine_ops *ops = q->cfg.ops;
	uint64_t at;
	int r;

	if (q->cancelling || !q->serving || !q->e || !ops->cancel_at)
		return;
	at = ops->cancel_at(ops->arg);
	if (!at || lb_now_ms() < at)
		return;
	q->cancelling = true;
	qlog(q, "%u requests still in the engine as the device stops: cancelling and fencing them",
	     q->serving);
	r = lb_engine_cancel(q->e, queue_cancelled, q);
	if (r < 0 && r != -EOPNOTSUPP)
		qlog(q, "cannot cancel its requests: %s", strerror(-r));
}

static void *queue_thread(void *arg)
{
	struct lb_ublk_queue *q = arg;
	lb_err err = {{0}};
	int r = queue_setup(q, &err);

	pthread_mutex_lock(&q->lock);
	q->started = true;
	q->start_res = r;
	q->start_err = err;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	if (r < 0)
		q->active = 0; /* nothing was started that we could wait for */

	/* serve until STOP_DEV gives every tag back and the engine is idle;
	 * with requests in the engine, wake each second for the stop's
	 * cancel deadline, else sleep until the kernel or the engine has
	 * something (an idle queue wakes for its session's ping only) */
	while (q->active || q->serving) {
		r = lb_loop_run_once(&q->loop, q->serving ? 1000 : -1);
		if (r < 0 && r != -EINTR && r != -ETIME) {
			qlog(q, "event loop failed: %s", strerror(-r));
			break;
		}
		queue_check_cancel(q);
	}
	queue_release(q);
	return NULL;
}

int lb_ublk_queue_start(const struct lb_ublk_queue_config *cfg, struct lb_ublk_queue **ret,
			lb_err *err)
{
	struct lb_ublk_queue *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return lb_err_set(err, ENOMEM, "out of memory");
	q->cfg = *cfg;
	q->fd = cfg->char_fd;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	r = pthread_create(&q->thread, NULL, queue_thread, q);
	if (r != 0) {
		free(q);
		return lb_err_set(err, r, "cannot start the thread of queue %u: %s", cfg->q_id,
				  strerror(r));
	}
	pthread_mutex_lock(&q->lock);
	while (!q->started)
		pthread_cond_wait(&q->cond, &q->lock);
	r = q->start_res;
	pthread_mutex_unlock(&q->lock);
	if (r < 0) {
		*err = q->start_err;
		lb_ublk_queue_join(q);
		return r;
	}
	*ret = q;
	return 0;
}

void lb_ublk_queue_join(struct lb_ublk_queue *q)
{
	if (!q)
		return;
	pthread_join(q->thread, NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}

void lb_ublk_queue_add_stats(const struct lb_ublk_queue *q, struct lb_io_stats *sum)
{
	lb_io_stats_add(sum, &q->n);
}
