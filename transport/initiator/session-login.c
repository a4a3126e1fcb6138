/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connect and login: resolve the portal, connect, run login.c's state
 * machine on the socket's PDUs, follow redirections, and enter the full
 * feature phase.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"
#include "session-internal.h"

static int resolve(struct iscsi_session *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	char port[8];
	int r;

	snprintf(port, sizeof(port), "%u", s->port);
	r = getaddrinfo(s->host, port, &hints, &ai);
	if (r == EAI_NONAME) {
		hints.ai_flags = 0;
		r = getaddrinfo(s->host, port, &hints, &ai);
	}
	if (r != 0 || !ai)
		return lb_err_set(&s->err, EHOSTUNREACH, "cannot resolve portal '%s': %s", s->host,
				  gai_strerror(r));
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	*ret_len = ai->ai_addrlen;
	if (ai->ai_family == AF_INET6)
		snprintf(s->portal, sizeof(s->portal), "[%s]:%u", s->host, s->port);
	else
		snprintf(s->portal, sizeof(s->portal), "%s:%u", s->host, s->port);
	freeaddrinfo(ai);
	return 0;
}

int iscsi_session_start_attempt(struct iscsi_session *s)
{
	struct sockaddr_storage addr;
	socklen_t len = 0;
	int r;

	r = resolve(s, &addr, &len);
	if (r < 0)
		return r;
	r = iscsi_conn_new(s, (struct sockaddr *)&addr, len, &s->conn);
	if (r < 0)
		return r;
	iscsi_session_set_state(s, ISCSI_SESSION_CONNECTING);
	s->attempt_deadline_ms = lb_now_ms() + s->cfg.connect_timeout_ms + s->cfg.login_timeout_ms;
	r = iscsi_conn_connect(s->conn, s->cfg.connect_timeout_ms);
	if (r < 0) {
		iscsi_conn_close(s->conn);
		s->conn = NULL;
		return lb_err_set(&s->err, r, "cannot start connecting: %s", strerror(-r));
	}
	iscsi_session_tick_arm(s);
	return 0;
}

void iscsi_session_login_finished(struct iscsi_session *s, int res)
{
	iscsi_session_cb cb = s->login_cb;

	s->login_cb = NULL;
	if (cb)
		cb(s, s->login_arg, res);
}

static void send_login_request(struct iscsi_session *s)
{
	struct iscsi_txbuf *tx = iscsi_txbuf_new();
	uint8_t *buf = malloc(ISCSI_BHS_LEN + 8192 + 8);
	ssize_t n;
	lb_err err;

	if (!tx || !buf) {
		free(buf);
		iscsi_txbuf_free(tx);
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "out of memory");
		return;
	}
	n = iscsi_login_build_request(s->login, buf, ISCSI_BHS_LEN + 8192 + 8, &err);
	if (n < 0) {
		free(buf);
		iscsi_txbuf_free(tx);
		iscsi_session_conn_failed(s, s->conn, (int)n, err.msg);
		return;
	}
	tx->owned = buf;
	tx->iov[0] = (struct iovec){buf, (size_t)n};
	tx->iovcnt = 1;
	iscsi_conn_queue(s->conn, tx);
}

void iscsi_session_connected(struct iscsi_session *s, struct iscsi_conn *c)
{
	struct iscsi_login_config lc = {
		.initiator_name = s->cfg.initiator_name,
		.initiator_alias = s->cfg.initiator_alias,
		.target_name = s->cfg.target_name,
		.tsih = 0, /* new session, or reinstatement of ours (same ISID) */
		.cid = s->cid,
		.cmdsn = s->cmdsn,
		.chap = s->cfg.chap,
		.chap_algs = s->cfg.chap_algs,
		.want = s->cfg.want,
	};
	int r;

	if (c != s->conn)
		return;
	memcpy(lc.isid, s->isid, sizeof(lc.isid));
	lc.itt = iscsi_session_next_itt(s);
	iscsi_login_free(s->login);
	s->login = NULL;
	r = iscsi_login_new(&lc, &s->login, &s->err);
	if (r < 0) {
		iscsi_session_conn_failed(s, c, r, s->err.msg);
		return;
	}
	iscsi_session_set_state(s, ISCSI_SESSION_LOGGING_IN);
	iscsi_conn_start_rx(c);
	send_login_request(s);
}

static void enter_full_feature(struct iscsi_session *s)
{
	struct iscsi_login_result res;

	(void)iscsi_login_result(s->login, &res);
	s->params = res.params;
	s->tsih = res.tsih;
	s->exp_statsn = res.statsn + 1;
	if (iscsi_sn_window_valid(res.exp_cmdsn, res.max_cmdsn)) {
		s->exp_cmdsn = res.exp_cmdsn;
		s->max_cmdsn = res.max_cmdsn;
	} else {
		s->exp_cmdsn = s->cmdsn;
		s->max_cmdsn = s->cmdsn;
	}
	s->cmdsn = s->exp_cmdsn;
	s->tpgt = res.params.tpgt;
	if (iscsi_conn_set_limits(s->conn, &s->params) < 0) {
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "out of memory");
		return;
	}
	s->ping_sent_ms = 0;
	s->attempt = 0;
	s->redirects = 0;
	iscsi_session_set_state(s, ISCSI_SESSION_FULL_FEATURE);
	if (s->logged_in_once) {
		s->stats.reconnects++;
		iscsi_session_log(s, "session to %s reinstated on %s",
				  s->cfg.target_name ? s->cfg.target_name : "discovery", s->portal);
	}
	s->logged_in_once = true;
	iscsi_session_login_finished(s, 0);
	iscsi_tasks_reinstated(s); /* fence what the old connection carried */
	iscsi_tasks_pump(s);
}

static void follow_redirect(struct iscsi_session *s)
{
	struct iscsi_target_address addr;
	bool temporary;
	int r;

	(void)iscsi_login_redirect(s->login, &addr, &temporary);
	if (++s->redirects > ISCSI_MAX_REDIRECTS) {
		iscsi_session_conn_failed(s, s->conn, -ELOOP, "too many login redirections");
		return;
	}
	iscsi_session_log(s, "login redirected (%s) from %s to %s:%u",
			  temporary ? "temporary" : "permanent", s->portal, addr.host, addr.port);
	iscsi_conn_close(s->conn);
	s->conn = NULL;
	snprintf(s->host, sizeof(s->host), "%s", addr.host);
	s->port = addr.port ? addr.port : ISCSI_DEFAULT_PORT;
	r = iscsi_session_start_attempt(s);
	if (r < 0)
		iscsi_session_conn_failed(s, NULL, r, s->err.msg);
}

void iscsi_session_rx_login(struct iscsi_session *s, struct iscsi_conn *c, const uint8_t *data)
{
	struct iscsi_pdu_view v = {
		.hdr = c->rx.hdr,
		.opcode = c->rx.opcode,
		.data = data,
		.data_len = c->rx.data_len,
	};
	lb_err err;
	int r;

	if (c->rx.opcode != ISCSI_OP_LOGIN_RSP) {
		iscsi_session_conn_failed(s, c, -EPROTO, "unexpected PDU during login");
		return;
	}
	lb_err_clear(&err);
	r = iscsi_login_handle_response(s->login, &v, &err);
	if (r < 0) {
		const char *why = err.msg;

		/* login.c words it as a sentence of its own */
		if (strncmp(why, "login failed: ", 14) == 0)
			why += 14;
		lb_err_set(&s->err, r, "login to %s failed: %s", s->portal, why);
		/* a refusal is final for a first login; a reinstatement keeps
		 * trying until the replacement timeout */
		iscsi_session_conn_failed(s, c, r, NULL);
		return;
	}
	if (r == 0) {
		send_login_request(s);
		return;
	}
	if (iscsi_login_get_state(s->login) == ISCSI_LOGIN_REDIRECTED)
		follow_redirect(s);
	else
		enter_full_feature(s);
}

int iscsi_session_login(struct iscsi_session *s, iscsi_session_cb cb, void *arg)
{
	int r;

	if (s->state != ISCSI_SESSION_IDLE && s->state != ISCSI_SESSION_CLOSED)
		return -EBUSY;
	s->login_cb = cb;
	s->login_arg = arg;
	s->logged_in_once = false;
	lb_err_clear(&s->err);
	r = iscsi_session_start_attempt(s);
	if (r < 0) {
		s->login_cb = NULL;
		iscsi_session_set_state(s, ISCSI_SESSION_FAILED);
		return r;
	}
	return 0;
}
