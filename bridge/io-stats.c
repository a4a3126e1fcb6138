/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io-stats.h"

/* The one writer's increment. */
static void bump(uint64_t *x, uint64_t n)
{
	__atomic_store_n(x, __atomic_load_n(x, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *x)
{
	return __atomic_load_n(x, __ATOMIC_RELAXED);
}

void lb_io_stats_count(struct lb_io_stats *s, enum lb_io_op op, uint64_t bytes)
{
	switch (op) {
	case LB_IO_READ:
		bump(&s->reads, 1);
		bump(&s->read_bytes, bytes);
		break;
	case LB_IO_WRITE:
		bump(&s->writes, 1);
		bump(&s->write_bytes, bytes);
		break;
	case LB_IO_FLUSH:
		bump(&s->flushes, 1);
		break;
	case LB_IO_DISCARD:
		bump(&s->trims, 1);
		break;
	case LB_IO_WRITE_ZEROES:
		bump(&s->zeroes, 1);
		break;
	case LB_IO_BLOCK_STATUS: /* moves no data */
		break;
	}
}

void lb_io_stats_error(struct lb_io_stats *s)
{
	bump(&s->errors, 1);
}

void lb_io_stats_add(struct lb_io_stats *sum, const struct lb_io_stats *s)
{
	sum->reads += get(&s->reads);
	sum->writes += get(&s->writes);
	sum->flushes += get(&s->flushes);
	sum->trims += get(&s->trims);
	sum->zeroes += get(&s->zeroes);
	sum->read_bytes += get(&s->read_bytes);
	sum->write_bytes += get(&s->write_bytes);
	sum->errors += get(&s->errors);
}
