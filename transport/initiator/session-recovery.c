/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connection loss and recovery: a failed connection closes, and the
 * session either gives up (first login, recovery off, discovery) or is
 * reinstated on a new connection (ErrorRecoveryLevel 0) with backoff, for
 * as long as it takes; past the replacement timeout I/O fails fast
 * meanwhile (session-tick.c).  The commands that were on the connection
 * are in doubt until the new login fences them (task.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "session-internal.h"

/* Give up: fail everything and tell whoever waits. */
void iscsi_session_fail(struct iscsi_session *s, int res)
{
	if (s->conn) {
		iscsi_conn_close(s->conn);
		s->conn = NULL;
	}
	iscsi_session_set_state(s, ISCSI_SESSION_FAILED);
	iscsi_tasks_fail_all(s, res == -ETIMEDOUT ? -EIO : res);
	if (s->text_active) {
		s->text_active = false;
		if (s->text_cb)
			s->text_cb(s, s->text_arg, res);
	}
	iscsi_session_login_finished(s, res);
	if (s->logout_cb) {
		iscsi_session_cb cb = s->logout_cb;

		s->logout_cb = NULL;
		cb(s, s->logout_arg, res);
	}
}

uint32_t iscsi_session_backoff_ms(unsigned attempt)
{
	static const uint32_t steps[] = {200, 1000, 2000, 4000, 8000};

	return steps[attempt < 5 ? attempt : 4];
}

/* The connection that carried the session is gone: its commands are in
 * doubt (requeued, to be fenced by the next login), recovery starts. */
static void begin_recovery(struct iscsi_session *s, uint64_t now)
{
	s->recovery_start_ms = now;
	s->attempt = 0;
	iscsi_tasks_requeue_all(s);
	s->ping_sent_ms = 0;
	s->tmf = ISCSI_TMF_STATE_NONE;
	s->fence_reset = false;
	iscsi_task_reset_done(s, -ENOTCONN);
}

void iscsi_session_conn_failed(struct iscsi_session *s, struct iscsi_conn *c, int res,
			       const char *reason)
{
	uint64_t now = lb_now_ms();

	if (c && c != s->conn)
		return;
	s->link_silent = false; /* the ping's timeout sets it again */
	if (reason) {
		/* reason may be s->err's own text (conn.c passes it on) */
		char why[sizeof(s->err.msg)];

		snprintf(why, sizeof(why), "%s", reason);
		lb_err_set(&s->err, res, "connection to %s: %s%s%s", s->portal, why,
			   res < 0 ? ": " : "", res < 0 ? strerror(-res) : "");
	}
	if (s->conn) {
		iscsi_conn_close(s->conn);
		s->conn = NULL;
	}
	switch (s->state) {
	case ISCSI_SESSION_LOGGING_OUT:
		iscsi_session_set_state(s, ISCSI_SESSION_CLOSED);
		if (s->logout_cb) {
			iscsi_session_cb cb = s->logout_cb;

			s->logout_cb = NULL;
			cb(s, s->logout_arg, 0);
		}
		return;
	case ISCSI_SESSION_CONNECTING:
	case ISCSI_SESSION_LOGGING_IN:
		if (!s->logged_in_once) {
			iscsi_session_fail(s, res);
			return;
		}
		break;
	case ISCSI_SESSION_FULL_FEATURE:
		if (!s->cfg.recover || s->cfg.replacement_timeout_ms == 0) {
			iscsi_session_fail(s, -EIO);
			return;
		}
		iscsi_session_log(s, "%s; recovering", lb_err_msg(&s->err, res));
		begin_recovery(s, now);
		if (s->text_active) { /* discovery does not survive */
			iscsi_session_fail(s, res);
			return;
		}
		break;
	case ISCSI_SESSION_RECOVERING:
	default:
		break;
	}
	if (s->state != ISCSI_SESSION_FULL_FEATURE && s->state != ISCSI_SESSION_CONNECTING &&
	    s->state != ISCSI_SESSION_LOGGING_IN && s->state != ISCSI_SESSION_RECOVERING)
		return;
	if (s->state != ISCSI_SESSION_FULL_FEATURE)
		iscsi_session_log(s, "reconnect attempt %u failed: %s", s->attempt,
				  lb_err_msg(&s->err, res));
	iscsi_session_set_state(s, ISCSI_SESSION_RECOVERING);
	/* back to the configured portal after a redirection */
	snprintf(s->host, sizeof(s->host), "%s", s->cfg.host);
	s->port = s->cfg.port;
	s->next_attempt_ms = now + iscsi_session_backoff_ms(s->attempt++);
	iscsi_session_tick_arm(s);
}

/* A reconnect no sooner than delay_ms (Time2Wait, a logout the target
 * asked for).  From
 * the full feature phase (or a logout the target asked for) this starts a
 * recovery as iscsi_session_conn_failed() does; during a login it
 * schedules the next attempt (a first login is bounded by its caller). */
void iscsi_session_reconnect_after(struct iscsi_session *s, uint32_t delay_ms, const char *reason)
{
	uint64_t now = lb_now_ms();

	if (reason)
		iscsi_session_log(s, "%s; reconnecting in %u.%u s", reason, delay_ms / 1000,
				  delay_ms % 1000 / 100);
	if (s->conn) {
		iscsi_conn_close(s->conn);
		s->conn = NULL;
	}
	if (s->state == ISCSI_SESSION_FULL_FEATURE || s->state == ISCSI_SESSION_LOGGING_OUT) {
		if (!s->cfg.recover || s->cfg.replacement_timeout_ms == 0 || s->text_active) {
			iscsi_session_fail(s, -EIO);
			return;
		}
		begin_recovery(s, now);
	} else if (!s->logged_in_once) {
		s->recovery_start_ms = now; /* the replacement timeout is not a first login's */
	}
	iscsi_session_set_state(s, ISCSI_SESSION_RECOVERING);
	s->next_attempt_ms = now + delay_ms;
	iscsi_session_tick_arm(s);
}
