/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a frontend (the NBD server, a ublk queue) counts of the requests
 * it served, for `lunbridge list`.  Each struct has one writer, the
 * thread that serves those requests; other threads read it with
 * lb_io_stats_add().  Updates and reads are relaxed atomic loads and
 * stores: no locked instruction on the I/O path, no torn value.
 */
#ifndef LUNBRIDGE_IO_STATS_H
#define LUNBRIDGE_IO_STATS_H

#include <stdint.h>

#include "engine.h"

struct lb_io_stats {
	uint64_t reads, writes, flushes, trims, zeroes;
	uint64_t read_bytes, write_bytes;
	uint64_t errors; /* requests answered with an error */
};

/* A request of op served: bytes count for reads and writes. */
void lb_io_stats_count(struct lb_io_stats *s, enum lb_io_op op, uint64_t bytes);
/* A request answered with an error. */
void lb_io_stats_error(struct lb_io_stats *s);
/* sum += s, from any thread. */
void lb_io_stats_add(struct lb_io_stats *sum, const struct lb_io_stats *s);

#endif
