/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD server's payload buffer pool: READ and WRITE buffers by
 * power-of-two size (4 KiB to 32 MiB), kept for the next request up to
 * BUFCACHE_PER_BUCKET a size and BUFCACHE_MAX_BYTES in all.  Once no
 * request has held a buffer for BUFCACHE_IDLE_MS, the pool frees them and
 * has malloc give the memory back to the kernel: an idle volume returns
 * to its fresh size after a copy.  The timer is one-shot, armed when the
 * last buffer comes back, so an idle volume never wakes for it twice.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "macro.h"
#include "nbd-server-internal.h"

#define BUFCACHE_MIN_SHIFT 12
#define BUFCACHE_MAX_BYTES (128u << 20)

static unsigned buf_shift(uint32_t len)
{
	unsigned s = BUFCACHE_MIN_SHIFT;

	while ((1u << s) < len)
		s++;
	return s;
}

void *nbd_buf_pool_get(struct nbd_buf_pool *pool, uint32_t len)
{
	unsigned s = buf_shift(len);
	void *p;

	pool->idle = false;
	if (s <= BUFCACHE_MAX_SHIFT && pool->n[s]) {
		pool->bytes -= 1u << s;
		return pool->cache[s][--pool->n[s]];
	}
	if (posix_memalign(&p, 4096, (size_t)1 << s) != 0)
		return NULL;
	return p;
}

void nbd_buf_pool_put(struct nbd_buf_pool *pool, void *p, uint32_t len)
{
	unsigned s = buf_shift(len);

	if (!p)
		return;
	if (s <= BUFCACHE_MAX_SHIFT && pool->n[s] < BUFCACHE_PER_BUCKET &&
	    pool->bytes + (1u << s) <= BUFCACHE_MAX_BYTES) {
		pool->cache[s][pool->n[s]++] = p;
		pool->bytes += 1u << s;
		return;
	}
	free(p);
}

void nbd_buf_pool_clear(struct nbd_buf_pool *pool)
{
	for (unsigned s = 0; s <= BUFCACHE_MAX_SHIFT; s++) {
		for (unsigned i = 0; i < pool->n[s]; i++)
			free(pool->cache[s][i]);
		pool->n[s] = 0;
	}
	pool->bytes = 0;
}

static void trim_arm(struct nbd_buf_pool *pool, uint64_t ms)
{
	struct io_uring_sqe *sqe;

	if (lb_loop_sqe(pool->loop, &pool->trim_op, &sqe) < 0)
		return; /* kept until the next time the pool goes idle */
	pool->trim_ts = lb_ms_timespec(ms);
	io_uring_prep_timeout(sqe, &pool->trim_ts, 0, 0);
}

static void trim_done(struct lb_op *op, int res, uint32_t flags)
{
	struct nbd_buf_pool *pool = container_of(op, struct nbd_buf_pool, trim_op);
	uint64_t quiet = lb_now_ms() - pool->idle_since_ms;

	if (res == -ECANCELED || !pool->idle)
		return; /* stopping, or busy again: re-armed when idle */
	if (quiet < BUFCACHE_IDLE_MS) {
		trim_arm(pool, BUFCACHE_IDLE_MS - quiet); /* busy and idle again meanwhile */
		return;
	}
	nbd_buf_pool_clear(pool);
	malloc_trim(0);
}

void nbd_buf_pool_init(struct nbd_buf_pool *pool, struct lb_loop *loop)
{
	pool->loop = loop;
	lb_op_init(&pool->trim_op, trim_done);
}

void nbd_buf_pool_idle(struct nbd_buf_pool *pool)
{
	pool->idle = true;
	pool->idle_since_ms = lb_now_ms();
	if (pool->bytes && pool->loop && !pool->trim_op.busy)
		trim_arm(pool, BUFCACHE_IDLE_MS);
}

void nbd_buf_pool_stop(struct nbd_buf_pool *pool)
{
	pool->idle = false;
	if (pool->trim_op.busy)
		(void)lb_loop_cancel(pool->loop, &pool->trim_op);
}
