/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tick: every 100 ms while the session has work, it times out the
 * connect, the login, the logout, the Text Request and the commands
 * (task-management.c) and the lifetimes of queued commands, starts the
 * reconnect attempts of recovery, makes I/O fail fast at the replacement
 * timeout (the attempts go on), and sends the NOP-Out ping that checks an
 * idle connection.
 *
 * A quiet session (logged in, nothing queued, in flight or under way) has
 * only the ping to wait for: its timer sleeps until the connection has
 * been idle for the ping interval, so an idle volume wakes once per
 * interval (5 s), not ten times a second.  Whatever ends the quiet (a
 * command, a PDU, a state change, a text or logout request) calls
 * iscsi_session_tick_arm(), which cuts a quiet sleep short.
 */
#include <errno.h>
#include <stdio.h>

#include "macro.h"
#include "session-internal.h"

static void send_ping(struct iscsi_session *s, uint64_t now)
{
	union iscsi_hdr out;

	s->ping_itt = iscsi_session_next_itt(s);
	iscsi_hdr_init(&out, ISCSI_OP_NOP_OUT | ISCSI_OP_IMMEDIATE, ISCSI_FLAG_FINAL);
	out.nop_out.itt = htobe32(s->ping_itt);
	out.nop_out.ttt = htobe32(ISCSI_RESERVED_TAG);
	out.nop_out.cmdsn = htobe32(s->cmdsn);
	out.nop_out.exp_statsn = htobe32(s->exp_statsn);
	if (iscsi_session_send_small(s, &out, NULL, 0) == 0)
		s->ping_sent_ms = now;
}

/* The replacement timeout has passed: as open-iscsi does, what waits for
 * the session fails and new I/O fails at once, but the session keeps
 * logging in.  Commands in doubt stay until a login fences them. */
static void replacement_timeout(struct iscsi_session *s)
{
	char why[sizeof(s->err.msg)];

	if (s->replacement_expired)
		return;
	s->replacement_expired = true;
	snprintf(why, sizeof(why), "%s", s->err.msg[0] ? s->err.msg : "no reason");
	iscsi_session_log(s,
			  "session to %s could not be reinstated within %u s (%s); failing I/O "
			  "until it logs in again (%u commands in doubt wait for that)",
			  s->portal, s->cfg.replacement_timeout_ms / 1000, why, s->in_doubt);
	iscsi_tasks_fail_unsent(s, -EIO);
}

static void session_tick(struct iscsi_session *s, uint64_t now)
{
	if (s->logged_in_once && s->state != ISCSI_SESSION_FULL_FEATURE &&
	    s->state != ISCSI_SESSION_LOGGING_OUT) {
		if (now - s->recovery_start_ms >= s->cfg.replacement_timeout_ms)
			replacement_timeout(s);
		iscsi_tasks_expire(s, now);
	}
	switch (s->state) {
	case ISCSI_SESSION_CONNECTING:
	case ISCSI_SESSION_LOGGING_IN:
		if (now >= s->attempt_deadline_ms)
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT,
						  s->state == ISCSI_SESSION_CONNECTING
							  ? "connect timed out"
							  : "login timed out");
		break;
	case ISCSI_SESSION_RECOVERING:
		if (now >= s->next_attempt_ms) {
			int r = iscsi_session_start_attempt(s);

			if (r < 0) {
				iscsi_session_set_state(s, ISCSI_SESSION_RECOVERING);
				s->next_attempt_ms = now + iscsi_session_backoff_ms(s->attempt++);
			}
		}
		break;
	case ISCSI_SESSION_FULL_FEATURE:
		if (s->ping_sent_ms && now - s->ping_sent_ms >= s->cfg.nop_timeout_ms) {
			char why[96];

			snprintf(why, sizeof(why), "no answer to NOP-Out ping within %u ms",
				 s->cfg.nop_timeout_ms);
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT, why);
			s->link_silent = true;
			break;
		}
		if (s->text_active && now >= s->text_deadline_ms) {
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT,
						  "no answer to the Text Request");
			break;
		}
		if (s->cfg.nop_interval_ms && !s->ping_sent_ms && s->conn &&
		    now - s->conn->last_rx_ms >= s->cfg.nop_interval_ms)
			send_ping(s, now);
		iscsi_tasks_tick(s, now);
		if (s->state == ISCSI_SESSION_FULL_FEATURE) {
			iscsi_tasks_expire(s, now);
			iscsi_tasks_pump(s); /* a backoff may have ended */
		}
		break;
	case ISCSI_SESSION_LOGGING_OUT:
		if (now >= s->logout_deadline_ms)
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT, "logout timed out");
		break;
	default:
		break;
	}
}

/* Nothing for the tick to watch but the ping: the next, or the answer to
 * the one that is out. */
static bool session_quiet(const struct iscsi_session *s)
{
	return s->state == ISCSI_SESSION_FULL_FEATURE && s->conn && !s->active &&
	       !s->pending_head && s->tmf == ISCSI_TMF_STATE_NONE && !s->in_doubt &&
	       !s->text_active && !s->async_logout && !s->logout_wanted && !s->cancel_cb;
}

static void on_tick(struct lb_op *op, int res, uint32_t flags)
{
	struct iscsi_session *s = container_of(op, struct iscsi_session, tick_op);

	s->ops--;
	s->tick_cutting = false;
	if (s->freeing)
		return;
	session_tick(s, lb_now_ms());
	iscsi_session_tick_arm(s);
}

void iscsi_session_tick_arm(struct iscsi_session *s)
{
	struct io_uring_sqe *sqe;
	uint64_t ms = ISCSI_TICK_MS, now, due;
	bool quiet;

	if (s->freeing)
		return;
	if (s->state == ISCSI_SESSION_IDLE || s->state == ISCSI_SESSION_CLOSED ||
	    s->state == ISCSI_SESSION_FAILED)
		return;
	quiet = session_quiet(s);
	if (s->tick_op.busy) {
		/* work began during a quiet sleep: wake now, the tick re-arms
		 * at its own pace (on_tick runs on the cancellation too); or
		 * the ping it sleeps for was answered: re-arm for the next
		 * ping now (in this wake-up) rather than wake at the
		 * answered ping's deadline only to sleep again */
		if (s->tick_quiet && (!quiet || (s->tick_for_answer && !s->ping_sent_ms)) &&
		    !s->tick_cutting && lb_loop_cancel(s->loop, &s->tick_op) == 0)
			s->tick_cutting = true;
		return;
	}
	if (quiet) {
		s->tick_quiet = true;
		if (!s->cfg.nop_interval_ms)
			return; /* no ping: nothing to wake for */
		now = lb_now_ms();
		/* a ping out: its deadline (the answer wakes no timer), else
		 * when the connection will have been idle for the interval */
		due = s->ping_sent_ms ? s->ping_sent_ms + s->cfg.nop_timeout_ms
				      : s->conn->last_rx_ms + s->cfg.nop_interval_ms;
		if (due > now + ISCSI_TICK_MS)
			ms = due - now;
	}
	if (lb_loop_sqe(s->loop, &s->tick_op, &sqe) < 0)
		return; /* re-armed by the next state change */
	s->tick_quiet = quiet;
	s->tick_for_answer = quiet && s->ping_sent_ms;
	s->ops++;
	s->tick_ts = lb_ms_timespec(ms);
	io_uring_prep_timeout(sqe, &s->tick_ts, 0, 0);
}

void iscsi_session_tick_init(struct iscsi_session *s)
{
	lb_op_init(&s->tick_op, on_tick);
}
