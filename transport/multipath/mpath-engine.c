/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The multipath engine: its operations, and each I/O down a path. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpath-internal.h"

static const struct lb_engine_ops mpath_ops;

void mp_log(struct mpath *m, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	if (!m->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->log_fn(m->log_arg, line);
}

void lb_mpath_config_init(struct lb_mpath_config *cfg)
{
	*cfg = (struct lb_mpath_config){
		.policy = LB_MPATH_FAILOVER,
		.failback_ms = 0,
		.no_path_timeout_ms = LB_MPATH_NO_PATH_TIMEOUT_MS,
		.check_interval_ms = LB_MPATH_CHECK_INTERVAL_MS,
		.path_fail_ms = LB_MPATH_PATH_FAIL_MS,
	};
}

static const char *const policy_names[] = {
	[LB_MPATH_FAILOVER] = "failover",
	[LB_MPATH_ROUND_ROBIN] = "round-robin",
	[LB_MPATH_QUEUE_LENGTH] = "queue-length",
};

int lb_mpath_policy_parse(const char *s, enum lb_mpath_policy *ret)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (strcmp(s, policy_names[i]) == 0) {
			*ret = (enum lb_mpath_policy)i;
			return 0;
		}
	return -EINVAL;
}

const char *lb_mpath_policy_name(enum lb_mpath_policy p)
{
	return (unsigned)p < sizeof(policy_names) / sizeof(policy_names[0]) ? policy_names[p]
									    : "unknown";
}

int lb_mpath_failback_parse(const char *s, uint32_t *ret_ms)
{
	char *end;
	unsigned long v;

	if (strcmp(s, "immediate") == 0) {
		*ret_ms = 0;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 86400)
		return -EINVAL;
	*ret_ms = (uint32_t)v * 1000u;
	return 0;
}

bool mp_path_usable(const struct mp_path *p)
{
	return p->up && !p->cancelling && mp_alua_rank(p->alua) >= 0;
}

static int pick(struct mpath *m, uint64_t now)
{
	struct mp_choice c[LB_ENGINE_ISCSI_PATHS];

	for (size_t i = 0; i < m->n; i++) {
		const struct mp_path *p = &m->paths[i];
		int rank = mp_alua_rank(p->alua);

		c[i] = (struct mp_choice){
			.usable = mp_path_usable(p),
			.rank = (uint8_t)(rank < 0 ? 0 : rank),
			.settling = m->cfg.failback_ms && now - p->up_since_ms < m->cfg.failback_ms,
			.inflight = p->inflight,
		};
	}
	return mp_select(c, m->n, m->cfg.policy, &m->cursor);
}

static void queue_push(struct mpath *m, struct mp_io *q)
{
	q->next = NULL;
	if (m->queue_tail)
		m->queue_tail->next = q;
	else
		m->queue_head = q;
	m->queue_tail = q;
	m->queued++;
}

static struct mp_io *queue_pop(struct mpath *m)
{
	struct mp_io *q = m->queue_head;

	if (!q)
		return NULL;
	m->queue_head = q->next;
	if (!m->queue_head)
		m->queue_tail = NULL;
	m->queued--;
	return q;
}

/* Whether a failed request may go again on another path: the path, not
 * the LU, failed it.  The session completes a command only once no copy
 * of it can still reach the LUN (answered, aborted, reset, or its session
 * reinstated), so what comes back here is fenced on that path already. */
static bool path_error(const struct mpath *m, const struct mp_path *p, int res)
{
	if (m->user_cancel || m->freeing)
		return false;
	switch (res) {
	case -EHOSTUNREACH: /* ALUA: not through this port now */
	case -ETIMEDOUT:
	case -ENOTCONN:
	case -ECONNRESET:
	case -EPIPE:
		return true;
	case -ECANCELED: /* fenced by us: the path was failed */
		return p->cancelling || p->fence_needed;
	case -EIO: /* the session's replacement timeout fails I/O fast */
		return !lb_engine_ready(p->e);
	default:
		return false;
	}
}

static void child_end(struct lb_io *cio, int res)
{
	struct mp_child *child = (struct mp_child *)cio;
	struct mp_path *p = child->path;
	struct mpath *m = p->m;
	struct lb_io *io = child->parent;
	struct mp_io *q = lb_io_priv(io, struct mp_io);
	uint64_t now = lb_now_ms();
	uint64_t limit = (uint64_t)m->e.info.request_timeout_ms + m->cfg.no_path_timeout_ms;
	int r;

	p->inflight--;
	free(child);
	if (res >= 0) {
		if (io->op == LB_IO_READ)
			p->counts->reads++;
		else if (io->op == LB_IO_WRITE)
			p->counts->writes++;
		io->done(io, res);
		return;
	}
	p->counts->errors++;
	if (!path_error(m, p, res) ||
	    (m->e.info.request_timeout_ms && now - q->start_ms >= limit)) {
		io->done(io, res);
		return;
	}
	mp_path_failed_io(p, res);
	/* fenced on p (above): another path may carry it without a copy
	 * landing after it */
	p->counts->moved++;
	m->moved++;
	r = mp_dispatch(m, io);
	if (r < 0)
		io->done(io, r);
}

static void child_done(struct lb_io *cio, int res)
{
	struct mp_path *p = ((struct mp_child *)cio)->path;

	child_end(cio, res);
	if (p->cancel_ended && !p->inflight)
		mp_path_cancel_end(p);
}

int mp_dispatch(struct mpath *m, struct lb_io *io)
{
	struct mp_io *q = lb_io_priv(io, struct mp_io);
	uint64_t now = lb_now_ms();

	mp_paths_up(m, now);
	for (size_t tries = 0; tries < m->n; tries++) {
		int i = pick(m, now), r;
		struct mp_child *child;
		struct mp_path *p;

		if (i < 0)
			break;
		p = &m->paths[i];
		child = malloc(sizeof(*child));
		if (!child)
			return -ENOMEM;
		child->io = (struct lb_io){
			.op = io->op,
			.flags = io->flags,
			.offset = io->offset,
			.length = io->length,
			.iov = io->iov,
			.iovcnt = io->iovcnt,
			.done = child_done,
		};
		child->parent = io;
		child->path = p;
		p->inflight++;
		r = lb_engine_submit(p->e, &child->io);
		if (r == 0)
			return 0;
		p->inflight--;
		free(child);
		if (r != -ECANCELED && r != -ENOTCONN && r != -ESHUTDOWN && r != -EIO)
			return r; /* the request itself (engine.h's checks) */
		/* the path refused it without sending: it is not usable */
		mp_path_failed_io(p, r);
	}
	if (m->no_path_expired)
		return -EIO;
	if (!m->no_path_since_ms) {
		m->no_path_since_ms = now;
		mp_log(m, "no path can carry I/O now: queueing it for up to %u s",
		       m->cfg.no_path_timeout_ms / 1000);
	}
	queue_push(m, q);
	return 0;
}

void mp_kick(struct mpath *m, uint64_t now)
{
	struct mp_io *q;

	if (pick(m, now) >= 0) {
		if (m->no_path_since_ms || m->no_path_expired)
			mp_log(m, "a path serves again after %llu ms without one",
			       (unsigned long long)(now - m->no_path_since_ms));
		m->no_path_since_ms = 0;
		m->no_path_expired = false;
		for (unsigned n = m->queued; n > 0 && pick(m, now) >= 0; n--) {
			int r;

			q = queue_pop(m);
			r = mp_dispatch(m, q->io);
			if (r < 0)
				q->io->done(q->io, r);
		}
		return;
	}
	if (!m->no_path_since_ms || m->no_path_expired ||
	    now - m->no_path_since_ms < m->cfg.no_path_timeout_ms)
		return;
	/* queued requests are on no path: nothing to fence before failing */
	m->no_path_expired = true;
	mp_log(m,
	       "no path for %u s (the no-path timeout): failing %u queued requests and new "
	       "I/O until a path returns",
	       m->cfg.no_path_timeout_ms / 1000, m->queued);
	while ((q = queue_pop(m)))
		q->io->done(q->io, -EIO);
}

static int mp_submit(struct lb_engine *e, struct lb_io *io)
{
	struct mpath *m = (struct mpath *)e;
	struct mp_io *q = lb_io_priv(io, struct mp_io);
	int r = lb_io_check(&e->info, io);

	if (r < 0)
		return r;
	if (m->user_cancel)
		return -ECANCELED;
	q->io = io;
	q->start_ms = lb_now_ms();
	return mp_dispatch(m, io);
}

static void mp_free(struct lb_engine *e)
{
	struct mpath *m = (struct mpath *)e;
	struct mp_io *q;

	m->freeing = true;
	mp_tick_stop(m);
	while ((q = queue_pop(m)))
		q->io->done(q->io, -ESHUTDOWN);
	/* the paths' sessions end their commands (children) as they go */
	for (size_t i = 0; i < m->n; i++) {
		mp_path_reinstate_reap(&m->paths[i], true);
		lb_engine_free(m->paths[i].e);
	}
	if (m->shared && atomic_fetch_sub(&m->shared->refs, 1) == 1)
		free(m->shared);
	free(m->paths);
	free(m);
}

static struct mpath *mpath_alloc(struct lb_loop *loop, const struct lb_mpath_config *cfg, size_t n,
				 struct mp_shared *shared)
{
	struct mpath *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->paths = calloc(n, sizeof(*m->paths));
	if (shared) {
		atomic_fetch_add(&shared->refs, 1);
	} else {
		shared = calloc(1, sizeof(*shared));
		if (shared)
			atomic_store(&shared->refs, 1);
	}
	m->shared = shared;
	if (!m->paths || !shared) {
		if (shared && atomic_fetch_sub(&shared->refs, 1) == 1)
			free(shared);
		free(m->paths);
		free(m);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		m->paths[i].counts = &shared->path[i];
	m->e.ops = &mpath_ops;
	m->e.loop = loop;
	m->cfg = *cfg;
	m->n = n;
	lb_op_init(&m->tick_op, NULL);
	return m;
}

static int mp_clone(struct lb_engine *base, struct lb_loop *loop, struct lb_engine **ret,
		    lb_err *err)
{
	const struct mpath *b = (const struct mpath *)base;
	struct mpath *m = mpath_alloc(loop, &b->cfg, b->n, b->shared);
	int r = 0;

	if (!m)
		return lb_err_set(err, ENOMEM, "out of memory");
	m->e.info = b->e.info;
	for (size_t i = 0; i < b->n; i++) {
		struct mp_path *p = &m->paths[i];
		const struct mp_path *bp = &b->paths[i];

		*p = (struct mp_path){
			.m = m,
			.counts = bp->counts,
			.index = bp->index,
			.lun = bp->lun,
			/* what the first sessions learnt, until read again */
			.alua_read = bp->alua_read,
			.tpgs = bp->tpgs,
			.has_group = bp->has_group,
			.group = bp->group,
			.rel_port = bp->rel_port,
			.alua = bp->alua,
		};
		memcpy(p->portal, bp->portal, sizeof(p->portal));
		memcpy(p->target, bp->target, sizeof(p->target));
		memcpy(p->iface, bp->iface, sizeof(p->iface));
		if (r == 0)
			r = lb_engine_clone(bp->e, loop, &p->e, err);
		if (r == 0)
			(void)lb_engine_iscsi_set_path(p->e, p->index, mp_path_on_alua_event, p);
	}
	if (r < 0) {
		mp_free(&m->e);
		return r;
	}
	*ret = &m->e;
	return 0;
}

/* ---- start, stop, cancel: over every path, one callback ------------------ */

static void all_done(struct mpath *m)
{
	lb_engine_cb cb = m->cb;

	if (--m->pending > 0 || !cb)
		return;
	m->cb = NULL;
	cb(&m->e, m->cb_arg, m->pending_res);
}

static void path_started(struct lb_engine *pe, void *arg, int res)
{
	struct mp_path *p = arg;
	struct mpath *m = p->m;

	(void)pe;
	p->starting = false;
	if (res == 0) {
		p->started = true;
		p->up = true;
		p->up_since_ms = lb_now_ms();
		m->pending_res = 0; /* one path up is enough to serve */
		mp_alua_read(p);
	} else {
		snprintf(p->why, sizeof(p->why), "login: %s", lb_engine_error(p->e));
		p->down_since_ms = lb_now_ms();
		mp_log(m, "path %d (%s): down: %s", p->index + 1, p->portal, p->why);
	}
	all_done(m);
}

static int mp_start(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	struct mpath *m = (struct mpath *)e;

	if (m->cb)
		return -EBUSY;
	m->cb = cb;
	m->cb_arg = arg;
	m->stopped = false;
	m->pending = 1; /* ours, until every path is asked */
	m->pending_res = -EHOSTUNREACH;
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *p = &m->paths[i];
		int r;

		mp_path_set_log(p);
		m->pending++;
		p->starting = true;
		r = lb_engine_start(p->e, path_started, p);
		if (r == 1) { /* serving already */
			p->starting = false;
			path_started(p->e, p, 0);
		} else if (r < 0) {
			p->starting = false;
			path_started(p->e, p, r);
		}
	}
	mp_tick_arm(m);
	all_done(m);
	return 0;
}

static int mp_start_sync(struct lb_engine *e, lb_err *err)
{
	struct mpath *m = (struct mpath *)e;
	int res = -EHOSTUNREACH;

	m->stopped = false;
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *p = &m->paths[i];
		lb_err perr = {{0}};
		int r;

		mp_path_set_log(p);
		r = lb_engine_start_sync(p->e, &perr);
		if (r < 0) {
			snprintf(p->why, sizeof(p->why), "login: %s", lb_err_msg(&perr, r));
			p->down_since_ms = lb_now_ms();
			if (res < 0)
				lb_err_set(err, -r, "path %d (%s): %s", p->index + 1, p->portal,
					   p->why);
			continue;
		}
		res = 0;
		p->started = true;
		p->up = true;
		p->up_since_ms = lb_now_ms();
		mp_alua_read(p);
	}
	if (res < 0)
		return res;
	mp_tick_arm(m);
	return 0;
}

static void path_stopped(struct lb_engine *pe, void *arg, int res)
{
	struct mp_path *p = arg;

	(void)pe;
	(void)res;
	p->up = false;
	p->started = false;
	all_done(p->m);
}

static int mp_stop(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	struct mpath *m = (struct mpath *)e;
	bool any = false;

	if (m->cb)
		return -EBUSY;
	m->cb = cb;
	m->cb_arg = arg;
	m->pending = 1;
	m->pending_res = 0;
	mp_tick_cancel(m); /* on the loop: not waited for here */
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *p = &m->paths[i];

		m->pending++;
		if (lb_engine_stop(p->e, path_stopped, p) < 0)
			m->pending--;
		else
			any = true;
	}
	if (!any) {
		m->cb = NULL;
		return -EALREADY;
	}
	all_done(m);
	return 0;
}

static void mp_stop_sync(struct lb_engine *e)
{
	struct mpath *m = (struct mpath *)e;

	mp_tick_stop(m); /* waited for: stop_sync runs the loop itself */
	for (size_t i = 0; i < m->n; i++)
		lb_engine_stop_sync(m->paths[i].e);
}

static void path_cancelled(struct lb_engine *pe, void *arg, int res)
{
	struct mpath *m = arg;
	lb_engine_cb cb = m->cancel_cb;

	(void)pe;
	(void)res;
	if (--m->cancel_pending > 0 || !cb)
		return;
	/* user_cancel stays set until here: until then no request that a
	 * path fences comes back to be sent again elsewhere */
	m->cancel_cb = NULL;
	m->user_cancel = false; /* as a session: only new I/O meanwhile is refused */
	cb(&m->e, m->cancel_arg, 0);
}

/* The issuer has gone: queued requests end now (they are on no path),
 * each path fences what it carries. */
static int mp_cancel(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	struct mpath *m = (struct mpath *)e;
	struct mp_io *q;

	if (m->cancel_cb)
		return -EBUSY;
	m->user_cancel = true;
	m->cancel_cb = cb;
	m->cancel_arg = arg;
	m->cancel_pending = 1;
	while ((q = queue_pop(m)))
		q->io->done(q->io, -ECANCELED);
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *p = &m->paths[i];
		int r;

		m->cancel_pending++;
		r = lb_engine_cancel(p->e, path_cancelled, m);
		if (r == -EBUSY && p->cancelling)
			/* a failover's cancel is under way on p: this one ends
			 * with it (mp_cancel_path_done), and what it carries is
			 * not sent again meanwhile (user_cancel) */
			p->user_wait = true;
		else if (r < 0)
			m->cancel_pending--;
	}
	path_cancelled(NULL, m, 0);
	return 0;
}

void mp_cancel_path_done(struct mpath *m)
{
	path_cancelled(NULL, m, 0);
}

/* ---- what `lunbridge list` shows --------------------------------------- */

static unsigned paths_up(const struct mpath *m)
{
	unsigned up = 0;

	for (size_t i = 0; i < m->n; i++)
		up += m->paths[i].up;
	return up;
}

static bool mp_ready(const struct lb_engine *e)
{
	return paths_up((const struct mpath *)e) > 0;
}

static const char *mp_state(const struct lb_engine *e, char *buf, size_t len)
{
	const struct mpath *m = (const struct mpath *)e;

	snprintf(buf, len, "%u/%zu paths", paths_up(m), m->n);
	return buf;
}

static void mp_stats(const struct lb_engine *e, struct lb_engine_stats *ret)
{
	const struct mpath *m = (const struct mpath *)e;

	for (size_t i = 0; i < m->n; i++)
		lb_engine_add_stats(m->paths[i].e, ret);
	ret->retries += m->moved;
}

static void mp_describe(const struct lb_engine *e, lb_engine_field_fn add, void *arg)
{
	const struct mpath *m = (const struct mpath *)e;
	char key[48], st[64];

	add(arg, "path_policy", lb_mpath_policy_name(m->cfg.policy), 0);
	add(arg, "paths", NULL, m->n);
	add(arg, "paths_up", NULL, paths_up(m));
	add(arg, "queued", NULL, m->queued);
	for (size_t i = 0; i < m->n; i++) {
		const struct mp_path *p = &m->paths[i];
		const char *sess = lb_engine_state(p->e, st, sizeof(st));

#define PATH_STR(name, s)                                                                          \
	do {                                                                                       \
		snprintf(key, sizeof(key), "path%zu_%s", i + 1, name);                             \
		add(arg, key, (s) ? (s) : "", 0);                                                  \
	} while (0)
#define PATH_NUM(name, v)                                                                          \
	do {                                                                                       \
		snprintf(key, sizeof(key), "path%zu_%s", i + 1, name);                             \
		add(arg, key, NULL, (v));                                                          \
	} while (0)
		PATH_STR("portal", p->portal);
		PATH_STR("target", p->target);
		PATH_NUM("lun", p->lun);
		PATH_STR("iface", p->iface);
		PATH_STR("state", p->up ? (mp_path_usable(p) ? "up" : "up, not used") : "down");
		PATH_STR("alua", p->tpgs ? scsi_alua_state_name(p->alua) : "none (one group)");
		if (p->has_group)
			PATH_NUM("group", p->group);
		PATH_STR("session", sess);
		PATH_NUM("reads", atomic_load(&p->counts->reads));
		PATH_NUM("writes", atomic_load(&p->counts->writes));
		PATH_NUM("errors", atomic_load(&p->counts->errors));
		PATH_NUM("moved", atomic_load(&p->counts->moved));
		if (p->why[0])
			PATH_STR("last_failure", p->why);
#undef PATH_STR
#undef PATH_NUM
	}
}

static void mp_set_log(struct lb_engine *e, lb_engine_log_fn fn, void *arg)
{
	struct mpath *m = (struct mpath *)e;

	m->log_fn = fn;
	m->log_arg = arg;
	for (size_t i = 0; i < m->n; i++)
		mp_path_set_log(&m->paths[i]);
}

static const char *mp_error(const struct lb_engine *e)
{
	const struct mpath *m = (const struct mpath *)e;

	for (size_t i = 0; i < m->n; i++)
		if (m->paths[i].why[0])
			return m->paths[i].why;
	return lb_engine_error(m->paths[0].e);
}

static const struct lb_engine_ops mpath_ops = {
	.name = "multipath",
	.submit = mp_submit,
	.free = mp_free,
	.clone = mp_clone,
	.clone_per_client = true,
	.start = mp_start,
	.stop = mp_stop,
	.start_sync = mp_start_sync,
	.stop_sync = mp_stop_sync,
	.ready = mp_ready,
	.state = mp_state,
	.stats = mp_stats,
	.describe = mp_describe,
	.set_log = mp_set_log,
	.cancel = mp_cancel,
	.error = mp_error,
};

int lb_engine_multipath_new(struct lb_loop *loop, const struct lb_mpath_config *cfg,
			    struct lb_engine *const *paths, const struct lb_mpath_path_desc *desc,
			    size_t n, struct lb_engine **ret, lb_err *err)
{
	const struct lb_volume_info *first;
	struct mpath *m;

	if (n == 0 || n > LB_ENGINE_ISCSI_PATHS)
		return lb_err_set(err, EINVAL, "a volume has 1 to %d paths, not %zu",
				  LB_ENGINE_ISCSI_PATHS, n);
	first = &paths[0]->info;
	if (n > 1 && !first->id[0])
		return lb_err_set(err, EINVAL,
				  "path 1 (%s): LUN %u reports no designator (VPD 0x83): its "
				  "paths cannot be matched",
				  desc[0].portal, desc[0].lun);
	/* one device only where every path reaches the same LU */
	for (size_t i = 1; i < n; i++)
		if (strcmp(paths[i]->info.id, first->id) != 0)
			return lb_err_set(err, EINVAL,
					  "path %zu (%s, LUN %u) reaches LU '%s', path 1 (%s, LUN "
					  "%u) reaches '%s': not joining them",
					  i + 1, desc[i].portal, desc[i].lun,
					  paths[i]->info.id[0] ? paths[i]->info.id : "(none)",
					  desc[0].portal, desc[0].lun, first->id);
	m = mpath_alloc(loop, cfg, n, NULL);
	if (!m)
		return lb_err_set(err, ENOMEM, "out of memory");
	m->e.info = *first;
	for (size_t i = 0; i < n; i++) {
		struct mp_path *p = &m->paths[i];
		const struct lb_volume_info *vi = &paths[i]->info;

		/* what every path can carry */
		if (vi->max_transfer < m->e.info.max_transfer)
			m->e.info.max_transfer = vi->max_transfer;
		/* block status goes down any path: only where each can */
		m->e.info.block_status &= vi->block_status;
		m->e.info.write_zeroes_unmap &= vi->write_zeroes_unmap;
		p->m = m;
		p->index = (int)i;
		p->e = paths[i];
		p->lun = desc[i].lun;
		snprintf(p->portal, sizeof(p->portal), "%s", desc[i].portal ? desc[i].portal : "");
		snprintf(p->target, sizeof(p->target), "%s", desc[i].target ? desc[i].target : "");
		snprintf(p->iface, sizeof(p->iface), "%s", desc[i].iface ? desc[i].iface : "");
		(void)lb_engine_iscsi_set_path(p->e, (int)i, mp_path_on_alua_event, p);
		p->started = true;
		p->up = lb_engine_ready(p->e);
		p->up_since_ms = lb_now_ms();
		p->alua = SCSI_ALUA_OPTIMIZED;
		mp_alua_read(p);
	}
	/* the states before the first I/O: the reads run on loop */
	for (int i = 0; i < 1000; i++) {
		bool busy = false;

		for (size_t k = 0; k < n; k++)
			busy |= m->paths[k].probe.busy;
		if (!busy)
			break;
		(void)lb_loop_run_once(loop, 10);
	}
	mp_tick_arm(m);
	*ret = &m->e;
	return 0;
}
