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

void iscsi_session_conn_failed(struct iscsi_session *s, struct iscsi_conn *c, int res,
			       const char *reason)
{
	uint64_t now = lb_now_ms();

	if (c && c != s->conn)
		return;
	if (reason)
		lb_err_set(&s->err, res, "connection to %s: %s%s%s", s->portal, reason,
			   res < 0 ? ": " : "", res < 0 ? strerror(-res) : "");
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
		s->recovery_start_ms = now;
		s->attempt = 0;
		iscsi_tasks_requeue_all(s);
		s->ping_sent_ms = 0;
		s->tmf = ISCSI_TMF_STATE_NONE;
		s->fence_reset = false;
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
