/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine a client is given: its channel's (or the first) engine,
 * behind the volume's fence hold (fence-hold.h).  Every request is
 * tracked while in flight; a write that overlaps a write of a client
 * whose requests are being fenced waits until that one has ended, then
 * goes in order.  The client's io is lent to the real engine as it is;
 * only its done and arg are borrowed until it completes.
 */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "volume-internal.h"

struct hold_io {
	struct lb_fence_req fr; /* first: the pool links through it */
	struct lb_channel *ch;	/* whose shim it came through */
	struct lb_io *io;
	lb_io_cb done;
	void *arg;
};

static struct hold_io *hold_get(struct lb_volume *v)
{
	struct hold_io *h = v->hold_pool;

	if (h)
		v->hold_pool = (struct hold_io *)h->fr.next;
	else
		h = malloc(sizeof(*h));
	return h;
}

static void hold_put(struct lb_volume *v, struct hold_io *h)
{
	h->fr.next = (struct lb_fence_req *)v->hold_pool;
	v->hold_pool = h;
}

static void hold_io_done(struct lb_io *io, int res);

/* Hand h's io to the real engine: 0, or -errno with h no longer tracked. */
static int hold_forward(struct hold_io *h)
{
	struct lb_volume *v = h->ch->v;
	int r;

	h->io->done = hold_io_done;
	h->io->arg = h;
	r = lb_engine_submit(h->ch->target, h->io);
	if (r < 0) {
		h->io->done = h->done;
		h->io->arg = h->arg;
		if (h->ch->shared)
			h->ch->inflight--;
		lb_fence_hold_done(&v->hold, &h->fr);
		hold_put(v, h);
	}
	return r;
}

void volume_hold_release(struct lb_volume *v)
{
	struct lb_fence_req *fr;

	while ((fr = lb_fence_hold_next(&v->hold))) {
		struct hold_io *h = container_of(fr, struct hold_io, fr);
		struct lb_io *io = h->io;
		lb_io_cb done = h->done;
		int r = hold_forward(h);

		if (r < 0)
			done(io, r); /* the client waits for its answer */
	}
}

static void hold_io_done(struct lb_io *io, int res)
{
	struct hold_io *h = io->arg;
	struct lb_volume *v = h->ch->v;
	struct lb_channel *ch = h->ch;
	bool fenced = h->fr.owner->fencing;
	lb_io_cb done = h->done;

	io->done = done;
	io->arg = h->arg;
	lb_fence_hold_done(&v->hold, &h->fr);
	hold_put(v, h);
	if (ch->shared && --ch->inflight == 0 && ch->fo.fencing) {
		/* the last request of a client that left has ended */
		ch->fo.fencing = false;
		lb_volume_log(v, "session %u: the requests of the client that left have ended",
			      ch->id);
	}
	if (fenced) /* a copy that may have landed has ended */
		volume_hold_release(v);
	done(io, res);
}

static int hold_submit(struct lb_engine *e, struct lb_io *io)
{
	struct lb_channel *ch = container_of(e, struct lb_channel, shim);
	struct lb_volume *v = ch->v;
	struct hold_io *h = hold_get(v);

	if (!h)
		return -ENOMEM;
	*h = (struct hold_io){
		.fr = {.owner = &ch->fo,
		       .start = io->offset,
		       .end = io->offset + io->length,
		       .write = io->op == LB_IO_WRITE || io->op == LB_IO_WRITE_ZEROES ||
				io->op == LB_IO_DISCARD},
		.ch = ch,
		.io = io,
		.done = io->done,
		.arg = io->arg,
	};
	if (ch->shared)
		ch->inflight++; /* in flight or held: both end in hold_io_done() */
	if (!lb_fence_hold_admit(&v->hold, &h->fr)) {
		if (v->hold.n_held == 1)
			lb_volume_log(v,
				      "session %u: a write waits until the requests of a client "
				      "that left are fenced",
				      ch->id);
		return 0; /* volume_hold_release() submits it */
	}
	return hold_forward(h);
}

static void hold_free(struct lb_engine *e)
{
	(void)e; /* part of its channel */
}

/* What else a client may ask of its engine is the real one's. */
static bool hold_ready(const struct lb_engine *e)
{
	return lb_engine_ready(container_of(e, struct lb_channel, shim)->target);
}

static void hold_stats(const struct lb_engine *e, struct lb_engine_stats *ret)
{
	lb_engine_add_stats(container_of(e, struct lb_channel, shim)->target, ret);
}

static const struct lb_engine_ops hold_ops = {
	.name = "volume",
	.submit = hold_submit,
	.free = hold_free,
	.ready = hold_ready,
	.stats = hold_stats,
};

struct lb_engine *volume_hold_engine(struct lb_channel *ch, struct lb_engine *target)
{
	ch->target = target;
	ch->shim.ops = &hold_ops;
	ch->shim.loop = target->loop;
	ch->shim.info = target->info;
	return &ch->shim;
}

void volume_hold_free(struct lb_volume *v)
{
	while (v->hold_pool) {
		struct hold_io *h = v->hold_pool;

		v->hold_pool = (struct hold_io *)h->fr.next;
		free(h);
	}
}
