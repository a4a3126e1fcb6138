/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A multipath volume's paths over time: the tick (each second) that sees
 * a path's session go and come back, fences a lost path's I/O and moves
 * it, sends TEST UNIT READY down idle paths, and reads the ALUA states.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mpath-internal.h"

/* ---- log lines of a path's own engine ----------------------------------- */

static void path_log(void *arg, const char *line)
{
	struct mp_path *p = arg;

	mp_log(p->m, "path %d (%s): %s", p->index + 1, p->portal, line);
}

void mp_path_set_log(struct mp_path *p)
{
	lb_engine_set_log(p->e, p->m->log_fn ? path_log : NULL, p);
}

static void path_down(struct mp_path *p, uint64_t now, const char *why)
{
	if (!p->up)
		return;
	p->up = false;
	p->down_since_ms = now;
	if (why != p->why)
		snprintf(p->why, sizeof(p->why), "%s", why);
	mp_log(p->m, "path %d (%s): down: %s", p->index + 1, p->portal, why);
}

void mp_path_failed_io(struct mp_path *p, int res)
{
	if (res == -EHOSTUNREACH) {
		/* NOT READY 04/0A-0C: this port cannot serve the LU now; until
		 * the port groups are read again it is taken as transitioning
		 * (no I/O, and the tick reads again) */
		snprintf(p->why, sizeof(p->why), "ALUA: the port cannot serve the LU now");
		if (p->alua != SCSI_ALUA_TRANSITIONING)
			mp_log(p->m,
			       "path %d (%s): the target says this port cannot serve the LU now "
			       "(ALUA); reading the port groups again",
			       p->index + 1, p->portal);
		p->alua = SCSI_ALUA_TRANSITIONING;
		mp_alua_read(p);
		return;
	}
	snprintf(p->why, sizeof(p->why), "I/O: %s", strerror(-res));
	if (!lb_engine_ready(p->e))
		path_down(p, lb_now_ms(), p->why);
}

/* ---- ALUA: INQUIRY (TPGS), VPD 0x83 (the port's group), RTPG ----------- */

static void probe_send(struct mp_path *p, struct mp_probe *pr, int cdb_len, uint32_t len,
		       iscsi_cmd_cb done);

static void alua_apply(struct mpath *m, const struct scsi_alua_group *g, size_t n)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *q = &m->paths[i];
		const struct scsi_alua_group *grp = NULL;

		if (!q->tpgs)
			continue;
		if (q->has_group)
			grp = scsi_alua_group_find(g, n, q->group);
		if (!grp && q->rel_port)
			grp = scsi_alua_group_of_port(g, n, q->rel_port);
		if (!grp || grp->state == q->alua)
			continue;
		mp_log(m, "path %d (%s): ALUA state %s -> %s (port group %u)", q->index + 1,
		       q->portal, scsi_alua_state_name(q->alua), scsi_alua_state_name(grp->state),
		       grp->id);
		q->alua = grp->state;
	}
}

static void alua_step(struct mp_path *p);

static void alua_done(struct iscsi_cmd *cmd, int res)
{
	struct mp_path *p = cmd->arg;
	struct mp_probe *pr = &p->probe;
	struct mpath *m = p->m;
	size_t len = res > 0 ? (size_t)res : 0;

	pr->busy = false;
	if (res == -ESHUTDOWN || m->freeing)
		return;
	if (res < 0) {
		/* the path's trouble shows in the tick; try again there */
		p->alua_again = p->alua_again || p->alua == SCSI_ALUA_TRANSITIONING;
		return;
	}
	switch (p->step) {
	case MP_ALUA_INQUIRY: {
		int t = scsi_inquiry_tpgs(pr->buf, len);

		p->alua_read = true;
		p->tpgs = t > 0;
		if (!p->tpgs) {
			/* no port groups: every path is one group */
			p->alua = SCSI_ALUA_OPTIMIZED;
			break;
		}
		p->step = MP_ALUA_VPD;
		alua_step(p);
		return;
	}
	case MP_ALUA_VPD: {
		struct scsi_alua_port port;

		if (scsi_vpd_alua_port_parse(pr->buf, len, &port) == 0) {
			p->has_group = port.has_group;
			p->group = port.group;
			p->rel_port = port.has_rel_port ? port.rel_port : 0;
		}
		p->step = MP_ALUA_RTPG;
		alua_step(p);
		return;
	}
	case MP_ALUA_RTPG: {
		struct scsi_alua_group g[16];
		size_t n, need;

		if (scsi_rtpg_parse(pr->buf, len, g, 16, &n, &need) < 0) {
			mp_log(m, "path %d (%s): bad REPORT TARGET PORT GROUPS data (%zu bytes)",
			       p->index + 1, p->portal, len);
			break;
		}
		alua_apply(m, g, n);
		break;
	}
	}
	if (p->alua_again) {
		p->alua_again = false;
		mp_alua_read(p);
		return;
	}
	mp_kick(m, lb_now_ms());
}

static void alua_step(struct mp_path *p)
{
	struct mp_probe *pr = &p->probe;

	switch (p->step) {
	case MP_ALUA_INQUIRY:
		probe_send(p, pr, scsi_cdb_inquiry(pr->cmd.cdb, false, 0, 96), 96, alua_done);
		return;
	case MP_ALUA_VPD:
		probe_send(p, pr, scsi_cdb_inquiry(pr->cmd.cdb, true, 0x83, sizeof(pr->buf)),
			   sizeof(pr->buf), alua_done);
		return;
	case MP_ALUA_RTPG:
		probe_send(p, pr, scsi_cdb_report_tpgs(pr->cmd.cdb, sizeof(pr->buf)),
			   sizeof(pr->buf), alua_done);
		return;
	}
}

void mp_alua_read(struct mp_path *p)
{
	if (p->probe.busy) {
		p->alua_again = true;
		return;
	}
	if (!p->up || p->m->freeing)
		return;
	p->step = !p->alua_read ? MP_ALUA_INQUIRY : p->tpgs ? MP_ALUA_RTPG : MP_ALUA_INQUIRY;
	alua_step(p);
}

void mp_path_on_alua_event(void *arg)
{
	struct mp_path *p = arg;

	mp_log(p->m, "path %d (%s): asymmetric access state changed; reading the port groups",
	       p->index + 1, p->portal);
	mp_alua_read(p);
}

/* One command of ours on p's session (cdb filled by the caller). */
static void probe_send(struct mp_path *p, struct mp_probe *pr, int cdb_len, uint32_t len,
		       iscsi_cmd_cb done)
{
	struct iscsi_session *s = lb_engine_iscsi_session(p->e);
	struct iscsi_cmd *c = &pr->cmd;
	uint8_t cdb[ISCSI_CDB_MAX];

	if (!s || cdb_len <= 0)
		return;
	memcpy(cdb, c->cdb, sizeof(cdb));
	memset(c, 0, sizeof(*c));
	memcpy(c->cdb, cdb, sizeof(cdb));
	c->cdb_len = (uint8_t)cdb_len;
	c->lun = p->lun;
	c->quiet = true;
	c->path_failfast = true;
	/* a check must not outlive the next one */
	c->lifetime_ms = p->m->cfg.check_interval_ms;
	if (len) {
		pr->iov = (struct iovec){pr->buf, len};
		c->iov = &pr->iov;
		c->iovcnt = 1;
		c->length = len;
		c->dir = ISCSI_DIR_READ;
	}
	c->done = done;
	c->arg = p;
	if (iscsi_session_submit(s, c) == 0)
		pr->busy = true;
}

/* ---- the checker --------------------------------------------------------- */

static void tur_done(struct iscsi_cmd *cmd, int res)
{
	struct mp_path *p = cmd->arg;
	struct mpath *m = p->m;
	uint64_t now = lb_now_ms();

	p->tur.busy = false;
	if (res == -ESHUTDOWN || m->freeing)
		return;
	if (res >= 0 || res == -EHOSTUNREACH) {
		/* it answers: a standby port answers too, and says so */
		if (p->check_failed && lb_engine_ready(p->e)) {
			p->check_failed = false;
			p->up = true;
			p->up_since_ms = now;
			mp_log(m, "path %d (%s): up (it answers TEST UNIT READY)", p->index + 1,
			       p->portal);
		}
		if (res == -EHOSTUNREACH || (p->tpgs && mp_alua_rank(p->alua) < 0))
			mp_alua_read(p);
		mp_kick(m, now);
		return;
	}
	if (p->up) {
		char why[96];

		snprintf(why, sizeof(why), "TEST UNIT READY failed: %s", strerror(-res));
		p->check_failed = true;
		path_down(p, now, why);
	}
}

static void tur_send(struct mp_path *p, uint64_t now)
{
	if (p->tur.busy)
		return;
	p->checked_ms = now;
	probe_send(p, &p->tur, scsi_cdb_test_unit_ready(p->tur.cmd.cdb), 0, tur_done);
}

/* ---- fencing a lost path's I/O ------------------------------------------ */

static void fence_done(struct iscsi_session *s, void *arg, int res)
{
	struct mp_path *p = arg;
	struct iscsi_session *mine;

	(void)s;
	p->fencing = false;
	if (p->m->freeing)
		return; /* p->e may be freed already */
	mine = lb_engine_iscsi_session(p->e);
	if (res < 0) {
		mp_log(p->m, "path %d (%s): the LUN reset that fences it failed: %s; trying again",
		       p->index + 1, p->portal, strerror(-res));
		return;
	}
	p->fence_needed = false;
	mp_log(p->m,
	       "path %d (%s): LUN %u reset through another path: what this path left in "
	       "doubt cannot land any more; sending it again elsewhere",
	       p->index + 1, p->portal, p->lun);
	/* its cancelled commands complete (-ECANCELED) and go again */
	if (mine)
		(void)iscsi_session_fenced_elsewhere(mine, p->lun);
}

/* ---- ending a lost path's session through another path ---------------- */

static void fence_try(struct mpath *m, struct mp_path *p);

static void reinstate_end(struct mp_path *p)
{
	p->reinstating = false;
	p->reinstate_done = true;
	if (!p->m->freeing)
		fence_try(p->m, p); /* the LUN reset now */
}

static void reinstate_logged_out(struct iscsi_session *s, void *arg, int res)
{
	(void)s;
	(void)res; /* the session has ended whatever the logout's fate */
	reinstate_end(arg);
}

static void reinstate_logged_in(struct iscsi_session *s, void *arg, int res)
{
	struct mp_path *p = arg;

	if (p->m->freeing)
		return;
	if (res < 0) {
		mp_log(p->m,
		       "path %d (%s): could not end its session on the target through another "
		       "portal: %s; the LUN reset alone fences it",
		       p->index + 1, p->portal, iscsi_session_error(s));
		reinstate_end(p);
		return;
	}
	/* the target has ended the old session before it answered this
	 * login: its connection there is closed, and a command still on its
	 * way (a stalled link, a switch holding it) cannot land any more */
	mp_log(p->m,
	       "path %d (%s): its session ended on the target (reinstated through another "
	       "portal of its portal group)",
	       p->index + 1, p->portal);
	if (iscsi_session_logout(s, reinstate_logged_out, p) < 0)
		reinstate_end(p);
}

/* The path through which p's session can be reinstated: up, serving, to
 * p's target in p's target portal group (RFC 7143 §6.3.5: the session is
 * the initiator, the ISID and the portal group); NULL when none is. */
static struct mp_path *reinstate_via(struct mpath *m, struct mp_path *p, int32_t tpgt)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *q = &m->paths[i];
		struct iscsi_session *s = lb_engine_iscsi_session(q->e);

		if (q != p && q->up && s && lb_engine_ready(q->e) && tpgt >= 0 &&
		    iscsi_session_tpgt(s) == tpgt && strcmp(q->target, p->target) == 0)
			return q;
	}
	return NULL;
}

/* End p's session on the target before anything it left in doubt goes
 * elsewhere: a LUN reset aborts only what the target has received, while
 * the end of the session also drops what is still on its way.  True while
 * that is under way; false when done or not possible (then the reset
 * alone fences, as Linux's SCSI error handling would). */
static bool reinstate_try(struct mpath *m, struct mp_path *p)
{
	struct iscsi_session *mine = lb_engine_iscsi_session(p->e), *via;
	struct iscsi_session_config c, vc;
	struct mp_path *q;
	lb_err err = {{0}};

	if (p->reinstating)
		return true;
	if (p->reinstate_done)
		return false;
	q = mine ? reinstate_via(m, p, iscsi_session_tpgt(mine)) : NULL;
	if (!q) {
		p->reinstate_done = true;
		mp_log(m,
		       "path %d (%s): no other path serves its target portal group: its "
		       "session cannot be ended on the target; the LUN reset alone fences it",
		       p->index + 1, p->portal);
		return false;
	}
	via = lb_engine_iscsi_session(q->e);
	iscsi_session_get_config(mine, &c);
	iscsi_session_get_config(via, &vc);
	c.host = vc.host;
	c.port = vc.port;
	c.bind_netdev = vc.bind_netdev;
	c.bind_addr = vc.bind_addr;
	c.recover = false;
	c.replacement_timeout_ms = 0;
	c.nop_interval_ms = 0;
	mp_path_reinstate_reap(p, true);
	if (iscsi_session_new(m->e.loop, &c, &p->reinstate_s, &err) < 0) {
		mp_log(m, "path %d (%s): cannot end its session through path %d: %s", p->index + 1,
		       p->portal, q->index + 1, err.msg);
		p->reinstate_done = true;
		return false;
	}
	mp_log(m,
	       "path %d (%s): ending its session on the target: logging in with its ISID "
	       "through path %d (%s)",
	       p->index + 1, p->portal, q->index + 1, q->portal);
	p->reinstating = true; /* before: the login may call back at once */
	if (iscsi_session_login(p->reinstate_s, reinstate_logged_in, p) < 0) {
		mp_log(m, "path %d (%s): the login through path %d did not start: %s", p->index + 1,
		       p->portal, q->index + 1, iscsi_session_error(p->reinstate_s));
		p->reinstating = false;
		p->reinstate_done = true;
		return false;
	}
	return p->reinstating;
}

void mp_path_reinstate_reap(struct mp_path *p, bool all)
{
	iscsi_session_state st;

	if (!p->reinstate_s || (p->reinstating && !all))
		return;
	st = iscsi_session_get_state(p->reinstate_s);
	if (!all && st != ISCSI_SESSION_CLOSED && st != ISCSI_SESSION_FAILED &&
	    st != ISCSI_SESSION_IDLE)
		return;
	iscsi_session_free(p->reinstate_s);
	p->reinstate_s = NULL;
}

/* ---- fencing a lost path's I/O ------------------------------------------ */

/* Fence p's commands in doubt: its session ended through a path of its
 * portal group where one serves, then a LOGICAL UNIT RESET through a path
 * that serves; without one they wait for p's own reinstatement. */
static void fence_try(struct mpath *m, struct mp_path *p)
{
	if (p->fencing || !p->fence_needed)
		return;
	if (reinstate_try(m, p) || p->fencing)
		return; /* (a login that failed at once may have reset already) */
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *q = &m->paths[i];
		struct iscsi_session *s = lb_engine_iscsi_session(q->e);

		if (q == p || !q->up || !s || !lb_engine_ready(q->e))
			continue;
		if (iscsi_session_reset_lun(s, q->lun, fence_done, p) == 0) {
			p->fencing = true;
			mp_log(m,
			       "path %d (%s): resetting LUN %u through path %d to fence the "
			       "requests in doubt on the lost path",
			       p->index + 1, p->portal, q->lun, q->index + 1);
			return;
		}
	}
}

static void path_cancelled(struct lb_engine *pe, void *arg, int res)
{
	struct mp_path *p = arg;

	(void)pe;
	(void)res;
	p->cancel_ended = true;
	/* the session calls back as soon as its queue is empty, before it
	 * completes the commands it swept off it: they still go elsewhere,
	 * and the last of them ends the cancel (child_done) */
	if (!p->inflight)
		mp_path_cancel_end(p);
}

void mp_path_cancel_end(struct mp_path *p)
{
	/* everything it carried is fenced and has gone elsewhere (or, its
	 * issuer gone, ended) */
	p->cancel_ended = false;
	p->cancelling = false;
	p->fence_needed = false;
	if (p->user_wait) {
		p->user_wait = false;
		mp_cancel_path_done(p->m);
	}
	mp_kick(p->m, lb_now_ms());
}

/* p's session lost its connection to an unanswered ping, not a close */
static bool path_silent(const struct mp_path *p)
{
	const struct iscsi_session *s = lb_engine_iscsi_session(p->e);

	return s && iscsi_session_link_silent(s);
}

/* p lost its session and still holds requests: stop it from sending them
 * again, fence what is in doubt, and let them go to another path. */
static void path_fail(struct mpath *m, struct mp_path *p, uint64_t now)
{
	int r;

	mp_log(m,
	       "path %d (%s): down for %llu ms%s with %u requests on it: fencing them before "
	       "they go to another path",
	       p->index + 1, p->portal, (unsigned long long)(now - p->down_since_ms),
	       path_silent(p) ? ", its link silent (a ping unanswered)" : "", p->inflight);
	p->cancelling = true;
	r = lb_engine_cancel(p->e, path_cancelled, p);
	if (r == -EBUSY) {
		/* the issuer's cancel is under way on p: nothing of it goes
		 * elsewhere, but what it left in doubt still wants a reset
		 * through another path to end */
		p->cancelling = false;
		p->fence_needed = true;
		p->reinstate_done = false;
		fence_try(m, p);
		return;
	}
	if (r < 0) {
		p->cancelling = false;
		return;
	}
	p->fence_needed = true;
	p->reinstate_done = false;
	fence_try(m, p);
}

/* ---- the tick ------------------------------------------------------------ */

static void path_relogged(struct lb_engine *pe, void *arg, int res)
{
	struct mp_path *p = arg;

	(void)pe;
	p->starting = false;
	if (res < 0) {
		snprintf(p->why, sizeof(p->why), "login: %s", lb_engine_error(p->e));
		return;
	}
	p->started = true; /* the next tick finds it ready and up */
}

/* p, down, is up again once its session serves and nothing of its own
 * failover is under way or failed its check. */
static void path_up(struct mpath *m, struct mp_path *p, bool ready, uint64_t now)
{
	if (p->up || !ready || p->cancelling || p->check_failed)
		return;
	p->up = true;
	p->up_since_ms = now;
	p->why[0] = '\0';
	mp_log(m, "path %d (%s): up%s", p->index + 1, p->portal,
	       m->cfg.failback_ms ? "; used again after the failback delay" : "");
	mp_alua_read(p);
}

void mp_paths_up(struct mpath *m, uint64_t now)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mp_path *p = &m->paths[i];

		if (!p->up && p->started)
			path_up(m, p, lb_engine_ready(p->e), now);
	}
}

static void path_tick(struct mpath *m, struct mp_path *p, uint64_t now)
{
	bool ready = p->started && lb_engine_ready(p->e);

	if (p->up && !ready) {
		char st[64];
		const char *s = lb_engine_state(p->e, st, sizeof(st));

		path_down(p, now, s ? s : "not serving");
	} else {
		path_up(m, p, ready, now);
	}
	/* failed after the delay that lets a quick reconnect through, or at
	 * once when the link went silent (the ping's timeout has waited
	 * already, and a reconnect to a silent link is not quick) */
	if (!p->up && p->inflight && !p->cancelling && !p->fence_needed &&
	    (now - p->down_since_ms >= m->cfg.path_fail_ms || path_silent(p)))
		path_fail(m, p, now);
	fence_try(m, p);
	mp_path_reinstate_reap(p, false);
	/* a path whose first login failed: log in again at the checker's pace */
	if (!p->started && !p->starting && now - p->checked_ms >= m->cfg.check_interval_ms) {
		p->checked_ms = now;
		p->starting = true;
		if (lb_engine_start(p->e, path_relogged, p) < 0)
			p->starting = false;
	}
	if (!ready)
		return;
	/* idle paths (or down by a check) are tested; a busy one shows its
	 * health in its I/O and the session's own NOP-Out pings */
	if ((p->inflight == 0 || p->check_failed) &&
	    now - p->checked_ms >= m->cfg.check_interval_ms)
		tur_send(p, now);
	/* a transition is watched each tick, as Linux's ALUA handler polls */
	if (p->up && p->tpgs && (p->alua == SCSI_ALUA_TRANSITIONING || p->alua_again)) {
		p->alua_again = false;
		mp_alua_read(p);
	}
}

static void on_tick(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct mpath *m = (struct mpath *)((char *)op - offsetof(struct mpath, tick_op));
	uint64_t now = lb_now_ms();

	(void)res;
	(void)cqe_flags;
	if (m->freeing || m->stopped)
		return;
	for (size_t i = 0; i < m->n; i++)
		path_tick(m, &m->paths[i], now);
	mp_kick(m, now);
	mp_tick_arm(m);
}

void mp_tick_arm(struct mpath *m)
{
	struct io_uring_sqe *sqe;

	if (m->freeing || m->stopped || m->tick_op.busy)
		return;
	lb_op_init(&m->tick_op, on_tick);
	if (lb_loop_sqe(m->e.loop, &m->tick_op, &sqe) < 0)
		return;
	m->tick_ts = lb_ms_timespec(MP_TICK_MS);
	io_uring_prep_timeout(sqe, &m->tick_ts, 0, 0);
}

void mp_tick_cancel(struct mpath *m)
{
	m->stopped = true;
	if (m->tick_op.busy)
		(void)lb_loop_cancel(m->e.loop, &m->tick_op);
}

void mp_tick_stop(struct mpath *m)
{
	bool was = m->freeing;

	m->stopped = true;
	m->freeing = true;
	if (m->tick_op.busy)
		(void)lb_loop_cancel(m->e.loop, &m->tick_op);
	/* the cancelled timeout completes into m */
	for (int i = 0; i < 100 && m->tick_op.busy; i++)
		(void)lb_loop_run_once(m->e.loop, 10);
	m->freeing = was;
}
