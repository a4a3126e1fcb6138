/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logout: the Logout Request once no command is left, its response, and
 * stopping a session that is not logged in.
 */
#include <errno.h>

#include "session-internal.h"

static void send_logout(struct iscsi_session *s)
{
	union iscsi_hdr out;

	s->logout_itt = iscsi_session_next_itt(s);
	iscsi_hdr_init(&out, ISCSI_OP_LOGOUT_REQ | ISCSI_OP_IMMEDIATE,
		       ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_SESSION);
	out.logout_req.itt = htobe32(s->logout_itt);
	out.logout_req.cid = htobe16(s->cid);
	out.logout_req.cmdsn = htobe32(s->cmdsn);
	out.logout_req.exp_statsn = htobe32(s->exp_statsn);
	iscsi_session_set_state(s, ISCSI_SESSION_LOGGING_OUT);
	s->logout_deadline_ms = lb_now_ms() + 10000;
	if (iscsi_session_send_small(s, &out, NULL, 0) < 0)
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "cannot send Logout");
}

void iscsi_session_rx_logout(struct iscsi_session *s, const union iscsi_hdr *h)
{
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
	if (s->logout_wanted && s->state == ISCSI_SESSION_FULL_FEATURE && s->active == 0 &&
	    !s->pending_head && !s->text_active) {
		s->logout_wanted = false;
		send_logout(s);
	}
}
