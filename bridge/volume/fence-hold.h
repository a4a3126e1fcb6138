/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes held behind a fence.  When a client leaves with writes in flight
 * its channel's requests are cancelled and fenced (lb_volume_channel_cancel);
 * until the fence confirms, a copy of such a write may still be on its way
 * to the LUN.  A newer write, zeroing or discard from another client that
 * overlaps one of them waits here (in order) until that write has ended,
 * so that the old copy can never land over it.  FLUSH and READ pass.
 *
 * No engine and no loop: the volume tracks its clients' requests here and
 * submits what lb_fence_hold_next() gives back.
 */
#ifndef LUNBRIDGE_FENCE_HOLD_H
#define LUNBRIDGE_FENCE_HOLD_H

#include <stdbool.h>
#include <stdint.h>

/* Whose requests: one per channel. */
struct lb_fence_owner {
	bool fencing; /* its requests are being cancelled and fenced */
};

/* One request of a client, in flight or held. */
struct lb_fence_req {
	struct lb_fence_req *prev, *next;
	struct lb_fence_owner *owner;
	uint64_t start, end; /* bytes, [start, end) */
	bool write;	     /* WRITE, WRITE_ZEROES or DISCARD: changes the range */
	bool held;
};

struct lb_fence_hold {
	struct lb_fence_req *inflight;	       /* submitted, not yet completed */
	struct lb_fence_req *held, *held_tail; /* in arrival order */
	unsigned n_held;
};

/* r arrives: true if it may be submitted now (it is counted in flight),
 * false if it is held (lb_fence_hold_next() gives it back later). */
bool lb_fence_hold_admit(struct lb_fence_hold *h, struct lb_fence_req *r);
/* r (in flight) completed. */
void lb_fence_hold_done(struct lb_fence_hold *h, struct lb_fence_req *r);
/* The first held request that may go now (no earlier held one overlaps
 * it and no fenced write in flight does), moved in flight; NULL: none.
 * Call after lb_fence_hold_done() of a fenced owner's request and when
 * an owner's fence ends (fencing set false), until it gives NULL. */
struct lb_fence_req *lb_fence_hold_next(struct lb_fence_hold *h);

#endif
