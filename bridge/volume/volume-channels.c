/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume's channels: its engines, the first one and, where the engine
 * wants one per client (a session each), one per NBD connection, up to
 * the volume's session limit; a client beyond it gets a shared channel:
 * the first engine behind a fence owner of its own.  A channel lives
 * until its engine has stopped (logged out) and no client holds it; the
 * main loop frees it then.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "volume-internal.h"

static void channel_log(void *arg, const char *line)
{
	struct lb_channel *ch = arg;

	lb_volume_log(ch->v, "session %u: %s", ch->id, line);
}

struct lb_channel *volume_channel_new(struct lb_volume *v, struct lb_engine *e)
{
	struct lb_channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->v = v;
	ch->e = e;
	ch->id = v->next_channel_id++;
	ch->next = v->channels;
	v->channels = ch;
	lb_engine_set_log(e, channel_log, ch);
	return ch;
}

static void channel_stopped(struct lb_engine *e, void *arg, int res)
{
	struct lb_channel *ch = arg;

	assert(ch->st == CH_LOGOUT);
	ch->st = CH_DEAD;
}

/* Stop the channel's engine (log out), or just drop it if there is
 * nothing to stop. */
static void channel_retire(struct lb_channel *ch)
{
	ch->st = CH_LOGOUT;
	if (lb_engine_stop(ch->e, channel_stopped, ch) < 0)
		ch->st = CH_DEAD;
}

static void channel_started(struct lb_engine *e, void *arg, int res)
{
	struct lb_channel *ch = arg;
	struct lb_volume *v = ch->v;

	assert(ch->st == CH_LOGIN);
	if (!ch->open) { /* the client left while the engine started */
		if (res == 0)
			channel_retire(ch);
		else
			ch->st = CH_DEAD;
		return;
	}
	if (res == 0) {
		ch->st = CH_READY;
		ch->ready(ch->arg, volume_hold_engine(ch, ch->e));
		return;
	}
	/* serve the client on the first engine rather than not at all; the
	 * channel stays (dead) until the client lets it go */
	ch->st = CH_DEAD;
	lb_volume_log(v, "session %u for a new connection failed (%s): it shares session 0", ch->id,
		      lb_engine_error(ch->e));
	ch->ready(ch->arg, &v->primary->shim);
}

/* Clones with a session of their own, alive or logging in or out. */
static unsigned clones_alive(const struct lb_volume *v)
{
	unsigned n = 0;

	for (const struct lb_channel *ch = v->channels; ch; ch = ch->next)
		n += ch != v->primary && !ch->shared && ch->st != CH_DEAD;
	return n;
}

/* Remember the most clones alive at once (NAME.json: isid_slots). */
static void note_peak(struct lb_volume *v)
{
	unsigned n = clones_alive(v);

	if (n + 1 > v->clones_peak) { /* + the one being opened */
		v->clones_peak = n + 1;
		volume_state_save(v);
	}
}

/* The most sessions the volume may have, its first included. */
static unsigned session_limit(const struct lb_volume *v)
{
	unsigned max = v->cfg->max_sessions ? v->cfg->max_sessions : LB_VOLUME_MAX_SESSIONS;

	return max > v->cfg->queues + 1 ? max : v->cfg->queues + 1; /* a session per queue */
}

/* A client on the first engine, its requests tracked as its own (or on
 * the first channel itself if even that cannot be had). */
static struct lb_channel *channel_shared(struct lb_volume *v,
					 void (*ready)(void *arg, struct lb_engine *e), void *arg)
{
	struct lb_channel *ch = calloc(1, sizeof(*ch));

	if (!ch) {
		ready(arg, &v->primary->shim);
		return NULL;
	}
	ch->v = v;
	ch->id = v->primary->id;
	ch->shared = true;
	ch->open = true;
	ch->st = CH_READY;
	ch->next = v->channels;
	v->channels = ch;
	ready(arg, volume_hold_engine(ch, v->primary->e));
	return ch;
}

int lb_volume_channel_open(struct lb_volume *v, void (*ready)(void *arg, struct lb_engine *e),
			   void *arg, struct lb_channel **ret)
{
	struct lb_engine *first = &v->primary->shim, *e;
	struct lb_channel *ch;
	lb_err err = {{0}};
	int r;

	*ret = NULL;
	if (v->stop)
		return -ESHUTDOWN;
	if (!v->primary->e->ops->clone_per_client) { /* one engine serves every client */
		ready(arg, first);
		return 0;
	}
	if (clones_alive(v) + 1 >= session_limit(v)) {
		if (!v->limit_said)
			lb_volume_log(v,
				      "%u sessions (the limit, --max-sessions): a new connection "
				      "shares session %u",
				      session_limit(v), v->primary->id);
		v->limit_said = true;
		*ret = channel_shared(v, ready, arg);
		return 0;
	}
	r = lb_engine_clone(v->primary->e, v->loop, &e, &err);
	if (r < 0) {
		lb_volume_log(v, "cannot start a session for a new connection: %s", err.msg);
		*ret = channel_shared(v, ready, arg);
		return 0;
	}
	ch = volume_channel_new(v, e);
	if (!ch) {
		lb_engine_free(e);
		*ret = channel_shared(v, ready, arg);
		return 0;
	}
	note_peak(v);
	ch->open = true;
	ch->ready = ready;
	ch->arg = arg;
	ch->st = CH_LOGIN;
	r = lb_engine_start(e, channel_started, ch);
	if (r > 0) { /* serving already */
		ch->st = CH_READY;
		ready(arg, volume_hold_engine(ch, e));
	} else if (r < 0) {
		ch->st = CH_DEAD;
		ch->open = false;
		ready(arg, first);
		return 0;
	}
	*ret = ch;
	return 0;
}

void lb_volume_channel_close(struct lb_channel *ch)
{
	if (!ch)
		return;
	assert(ch->open && ch != ch->v->primary);
	ch->open = false;
	if (ch->shared) /* nothing in flight (the NBD server waits for that) */
		ch->st = CH_DEAD;
	else if (ch->st == CH_READY)
		channel_retire(ch);
	/* CH_LOGIN: channel_started() retires it; CH_DEAD: reaped */
}

static void channel_cancelled(struct lb_engine *e, void *arg, int res)
{
	struct lb_channel *ch = arg;

	/* its client left, or the volume's stop gave its requests up */
	lb_volume_log(ch->v,
		      ch->v->cancelled ? "session %u: the requests it gave up are fenced: none "
					 "can reach the LUN any more"
				       : "session %u: the requests of the client that left are "
					 "fenced: none can reach the LUN any more",
		      ch->id);
	ch->fo.fencing = false;
	volume_hold_release(ch->v); /* the writes that waited for it go */
}

/* Have ch's engine give up and fence what it carries; until the fence
 * confirms, newer writes over its writes wait. */
static void channel_cancel(struct lb_channel *ch)
{
	int r;

	ch->fo.fencing = true;
	r = lb_engine_cancel(ch->e, channel_cancelled, ch);
	if (r == -EBUSY)
		return; /* one under way: its end releases the writes */
	if (r < 0)
		ch->fo.fencing = false;
	if (r < 0 && r != -EOPNOTSUPP)
		lb_volume_log(ch->v, "session %u: cannot cancel its requests: %s", ch->id,
			      strerror(-r));
}

void lb_volume_channel_cancel(struct lb_channel *ch)
{
	if (!ch || ch->st != CH_READY)
		return;
	if (ch->shared) {
		/* the first session carries other clients' requests too: its
		 * requests are not aborted, they run to their end, each
		 * answered or fenced by the initiator (volume_hold_done) */
		if (!ch->inflight)
			return;
		lb_volume_log(ch->v,
			      "session %u: a client sharing it left with %u requests in flight: "
			      "newer writes over theirs wait until they have ended",
			      ch->id, ch->inflight);
		ch->fo.fencing = true;
		return;
	}
	lb_volume_log(ch->v, "session %u: its client left with requests in flight: aborting them",
		      ch->id);
	channel_cancel(ch);
}

void volume_channels_cancel_all(struct lb_volume *v)
{
	for (struct lb_channel *ch = v->channels; ch; ch = ch->next)
		if (ch->st == CH_READY && !ch->shared && !ch->fo.fencing)
			channel_cancel(ch); /* the first's covers the shared ones */
}

void volume_channels_retire(struct lb_volume *v)
{
	for (struct lb_channel *ch = v->channels; ch; ch = ch->next)
		if (ch != v->primary && !ch->shared && ch->st == CH_READY)
			channel_retire(ch);
}

static void channel_free(struct lb_channel *ch)
{
	if (ch->e)
		lb_engine_free(ch->e);
	free(ch);
}

void volume_channels_reap(struct lb_volume *v)
{
	struct lb_channel **p = &v->channels;

	while (*p) {
		struct lb_channel *ch = *p;

		if (ch->st != CH_DEAD || ch->open || ch == v->primary) {
			p = &ch->next;
			continue;
		}
		*p = ch->next;
		channel_free(ch);
	}
}

bool volume_channels_gone(struct lb_volume *v)
{
	for (struct lb_channel *ch = v->channels; ch; ch = ch->next)
		if (ch != v->primary)
			return false;
	return true;
}

void volume_channels_stats(const struct lb_volume *v, struct lb_engine_stats *sum)
{
	for (const struct lb_channel *ch = v->channels; ch; ch = ch->next) {
		struct lb_engine_stats st = {0};

		if (ch->st == CH_DEAD || ch->shared) /* the first's counts them */
			continue;
		lb_engine_add_stats(ch->e, &st);
		sum->reconnects += st.reconnects;
		sum->timeouts += st.timeouts;
		sum->retries += st.retries;
		if (ch->st == CH_READY)
			sum->sessions += st.sessions;
	}
}

void volume_channels_free(struct lb_volume *v)
{
	while (v->channels) {
		struct lb_channel *ch = v->channels;

		v->channels = ch->next;
		channel_free(ch);
	}
	volume_hold_free(v);
}

/* The sweep's channels are ids first..end-1 (the reaping frees them). */
struct sweep {
	struct lb_volume *v;
	unsigned first, end;
};

static bool sweep_done(void *arg)
{
	const struct sweep *sw = arg;

	for (const struct lb_channel *ch = sw->v->channels; ch; ch = ch->next)
		if (ch->id >= sw->first && ch->id < sw->end &&
		    (ch->st == CH_LOGIN || ch->st == CH_LOGOUT))
			return false;
	return true;
}

void volume_channels_sweep(struct lb_volume *v, unsigned n)
{
	struct sweep sw = {.v = v, .first = v->next_channel_id};
	lb_err err = {{0}};

	if (!n || !v->primary->e->ops->clone_per_client)
		return;
	if (n > 63) /* ISID slots */
		n = 63;
	lb_volume_log(v,
		      "a bridge of this volume before had %u more sessions: logging in and out "
		      "with their ISIDs to end them and their commands on the target",
		      n);
	for (unsigned i = 0; i < n; i++) {
		struct lb_engine *e;
		struct lb_channel *ch;
		int r;

		if (lb_engine_clone(v->primary->e, v->loop, &e, &err) < 0) {
			lb_volume_log(v, "cannot sweep the sessions left: %s", err.msg);
			break;
		}
		ch = volume_channel_new(v, e);
		if (!ch) {
			lb_engine_free(e);
			break;
		}
		/* held by no client: channel_started() logs it out once in */
		ch->st = CH_LOGIN;
		r = lb_engine_start(e, channel_started, ch);
		if (r < 0)
			ch->st = CH_DEAD;
		else if (r > 0)
			channel_retire(ch);
	}
	sw.end = v->next_channel_id;
	if (!lb_volume_run_until(v, sweep_done, &sw, LB_VOLUME_SWEEP_TIMEOUT_MS))
		lb_volume_log(v,
			      "the sessions left by a bridge before did not all log in and out "
			      "within %u s",
			      LB_VOLUME_SWEEP_TIMEOUT_MS / 1000);
}
