/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD server's payload buffer pool: READ and WRITE buffers by
 * power-of-two size (4 KiB to 32 MiB), kept for the next request up to
 * BUFCACHE_PER_BUCKET a size and BUFCACHE_MAX_BYTES in all.
 */
#include <stdlib.h>

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
