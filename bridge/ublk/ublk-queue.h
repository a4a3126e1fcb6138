/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One ublk hardware queue: a thread with its own io_uring that carries
 * the queue's FETCH and COMMIT_AND_FETCH commands on /dev/ublkcN and the
 * socket I/O of the queue's own iSCSI session, so a request goes from the
 * block layer to the wire and back without crossing threads.
 *
 * Each tag is a small state machine:
 *   FETCH (the kernel owns the tag) -> SERVE (the engine has it, split at
 *   the LUN's limits when larger) -> COMMIT_AND_FETCH -> FETCH ...
 * until STOP_DEV gives every tag back with -ENODEV (DONE).  The thread
 * ends when every tag is DONE and no engine I/O is left, logs its session
 * out and closes the character device.  A bounded stop (ops->cancel_at)
 * cancels what the engine still has through its fence: each such request
 * is answered to the kernel (-ECANCELED, an I/O error) only once no copy
 * of it can reach the LUN, never before (the kernel could re-issue it).
 */
#ifndef LUNBRIDGE_UBLK_QUEUE_H
#define LUNBRIDGE_UBLK_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "io-stats.h"
#include "lb-err.h"
#include "loop.h"
#include "ublk-iod.h"

/* The engine a queue serves with: made on (and run by) the queue's loop,
 * on the queue's thread.  close logs out and frees. */
struct lb_ublk_engine_ops {
	int (*open)(void *arg, unsigned q, struct lb_loop *loop, struct lb_engine **ret, lb_err *err);
	void (*close)(void *arg, unsigned q, struct lb_loop *loop, struct lb_engine *e);
	void (*log)(void *arg, const char *line); /* thread-safe */
	/* optional, thread-safe: when the requests the engine still has are
	 * to be given up (cancelled and fenced), in lb_now_ms(); 0: not (yet) */
	uint64_t (*cancel_at)(void *arg);
	void *arg;
};

struct lb_ublk_queue_config {
	int char_fd; /* /dev/ublkcN, opened once for all queues (the driver
		      * allows one open); the queue does not close it */
	uint32_t dev_id;
	uint16_t q_id;
	uint16_t depth;
	bool encoded; /* ioctl-encoded I/O opcodes */
	struct lb_ublk_limits lim;
	const struct lb_ublk_engine_ops *ops;
};

struct lb_ublk_queue;

/* Start the queue's thread and wait until it has fetched every tag (0),
 * or failed (-errno, err set; the thread is gone). */
int lb_ublk_queue_start(const struct lb_ublk_queue_config *cfg, struct lb_ublk_queue **ret,
			lb_err *err);
/* Wait for the thread to end (after STOP_DEV) and free the queue. */
void lb_ublk_queue_join(struct lb_ublk_queue *q);
/* sum += the queue's counters so far (any thread). */
void lb_ublk_queue_add_stats(const struct lb_ublk_queue *q, struct lb_io_stats *sum);

#endif
