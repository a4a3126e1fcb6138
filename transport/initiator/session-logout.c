/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logout: the Logout Request once no command is left, its response, and
 * stopping a session that is not logged in.  Also the logout a target asks
 * for (Async Message, AsyncEvent 1): sent once the commands in flight have
 * finished or its deadline comes, while the session stays in the full
 * feature phase (a lost connection meanwhile is an ordinary recovery), and
 * followed by a new login after Time2Wait.
 */
#include <errno.h>

#include "session-internal.h"

/* How long a Logout Response may take. */
#define LOGOUT_TIMEOUT_MS 10000

static void fill_logout(struct iscsi_session *s, union iscsi_hdr *out)
{
	s->logout_itt = iscsi_session_next_itt(s);
	iscsi_hdr_init(out, ISCSI_OP_LOGOUT_REQ | ISCSI_OP_IMMEDIATE,
		       ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_SESSION);
	out->logout_req.itt = htobe32(s->logout_itt);
	out->logout_req.cid = htobe16(s->cid);
	out->logout_req.cmdsn = htobe32(s->cmdsn);
	out->logout_req.exp_statsn = htobe32(s->exp_statsn);
}

/* The target asked for a logout: send it (close the session) now. */
static void send_async_logout(struct iscsi_session *s, uint64_t now)
{
	union iscsi_hdr out;

	fill_logout(s, &out);
	s->async_logout_sent = true;
	s->logout_deadline_ms = now + LOGOUT_TIMEOUT_MS;
	if (s->active)
		iscsi_session_log(s,
				  "logging out as the target asked, %u commands still in "
				  "flight (they go again on the next session)",
				  s->active);
	if (iscsi_session_send_small(s, &out, NULL, 0) < 0)
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "cannot send Logout");
}

static void send_logout(struct iscsi_session *s)
{
	union iscsi_hdr out;

	fill_logout(s, &out);
	iscsi_session_set_state(s, ISCSI_SESSION_LOGGING_OUT);
	s->logout_deadline_ms = lb_now_ms() + LOGOUT_TIMEOUT_MS;
	if (iscsi_session_send_small(s, &out, NULL, 0) < 0)
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "cannot send Logout");
}

/* The Logout Response to a logout the target asked for: the session is
 * over at the target; log in again (same ISID, TSIH 0) after Time2Wait.
 * At ErrorRecoveryLevel 0 the response's Time2Wait is to be ignored when
 * it succeeded (RFC 7143 §11.15.2); it is honoured anyway when longer than
 * the negotiated DefaultTime2Wait, which is the least we wait. */
static void rx_async_logout_rsp(struct iscsi_session *s, const union iscsi_hdr *h)
{
	uint32_t delay = s->time2wait_ms, rsp_wait = be16toh(h->logout_rsp.time2wait) * 1000u;

	if (rsp_wait > delay)
		delay = rsp_wait;
	if (h->logout_rsp.response != ISCSI_LOGOUT_RSP_OK)
		iscsi_session_log(s, "logout answered with response %u", h->logout_rsp.response);
	iscsi_session_reconnect_after(s, delay, "logged out as the target asked");
}

void iscsi_session_rx_logout(struct iscsi_session *s, const union iscsi_hdr *h)
{
	if (s->async_logout_sent && s->state == ISCSI_SESSION_FULL_FEATURE &&
	    be32toh(h->logout_rsp.itt) == s->logout_itt) {
		rx_async_logout_rsp(s, h);
		return;
	}
	if (be32toh(h->logout_rsp.itt) != s->logout_itt || s->state != ISCSI_SESSION_LOGGING_OUT) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "unexpected Logout Response");
		return;
	}
	if (h->logout_rsp.response != ISCSI_LOGOUT_RSP_OK)
		iscsi_session_log(s, "logout answered with response %u", h->logout_rsp.response);
	iscsi_conn_close(s->conn);
	s->conn = NULL;
	iscsi_session_set_state(s, ISCSI_SESSION_CLOSED);
	if (s->logout_cb) {
		iscsi_session_cb cb = s->logout_cb;

		s->logout_cb = NULL;
		cb(s, s->logout_arg, 0);
	}
}

int iscsi_session_logout(struct iscsi_session *s, iscsi_session_cb cb, void *arg)
{
	switch (s->state) {
	case ISCSI_SESSION_FULL_FEATURE:
		s->logout_cb = cb;
		s->logout_arg = arg;
		s->logout_wanted = true;
		iscsi_tasks_pump(s);
		iscsi_session_tick_arm(s); /* the logout's deadline runs now */
		return 0;
	case ISCSI_SESSION_RECOVERING:
	case ISCSI_SESSION_CONNECTING:
	case ISCSI_SESSION_LOGGING_IN:
		/* nothing to log out of: stop trying */
		if (s->conn) {
			iscsi_conn_close(s->conn);
			s->conn = NULL;
		}
		iscsi_tasks_fail_all(s, -ESHUTDOWN);
		iscsi_session_set_state(s, ISCSI_SESSION_CLOSED);
		iscsi_session_login_finished(s, -ESHUTDOWN);
		if (cb)
			cb(s, arg, 0);
		return 0;
	default:
		if (cb)
			cb(s, arg, 0);
		return 0;
	}
}

void iscsi_session_maybe_logout(struct iscsi_session *s)
{
	if (s->async_logout && s->state == ISCSI_SESSION_FULL_FEATURE && s->conn) {
		uint64_t now = lb_now_ms();

		/* Checked on every PDU received, the NOP-In answers to our
		 * idle pings included: that is the clock of both deadlines. */
		if (!s->async_logout_sent && (s->active == 0 || now >= s->async_logout_by_ms))
			send_async_logout(s, now);
		else if (s->async_logout_sent && now >= s->logout_deadline_ms)
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT, "logout timed out");
		return;
	}
	if (s->logout_wanted && s->state == ISCSI_SESSION_FULL_FEATURE && s->active == 0 &&
	    !s->pending_head && !s->text_active) {
		s->logout_wanted = false;
		send_logout(s);
	}
}
