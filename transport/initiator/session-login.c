/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connect and login: find the portal, connect, run login.c's state
 * machine on the socket's PDUs, follow redirections, retry a busy target,
 * and enter the full feature phase.
 *
 * Where an attempt goes.  Every fresh attempt (the first login, each
 * reconnect) starts at home: the configured portal, or the portal a
 * permanent redirection (0102) named, which RFC 7143 §11.13.5 says to use
 * from then on.  A temporary redirection (0101) is followed for this
 * attempt only.  The redirections of one attempt are counted from zero and
 * remembered as a path, so that a loop fails with the portals named.  A
 * moved home that cannot even be connected to is given up for the
 * configured portal at the next attempt (which may redirect again).
 *
 * Name resolution.  The configured portal is resolved once, at the first
 * login, in its caller's context: a host name may block there, once.  Every
 * reconnect reuses that address, so nothing blocks the loop later.  A
 * redirection names a numeric address (resolved with AI_NUMERICHOST, which
 * never blocks) or a host name, which is looked up only during the first
 * login; during a reconnect such an attempt fails and the next one starts
 * at home again.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"
#include "session-internal.h"

/* First login: how often a busy target (0301 service unavailable, 0302 out
 * of resources) is asked again, within the login timeout. */
#define LOGIN_BUSY_RETRIES 4

/* host:port as the log and errors show it, [v6]:port for IPv6. */
static void format_portal(char *buf, size_t cap, const char *host, uint16_t port)
{
	if (strchr(host, ':') && host[0] != '[')
		snprintf(buf, cap, "[%s]:%u", host, port);
	else
		snprintf(buf, cap, "%s:%u", host, port);
}

/* A numeric address never blocks; a name is looked up only when may_block
 * (the first login, in its caller's context). */
static int resolve(struct iscsi_session *s, const char *host, uint16_t port, bool may_block,
		   struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	char service[8];
	int r;

	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &ai);
	if (r == EAI_NONAME) {
		if (!may_block)
			return lb_err_set(&s->err, EHOSTUNREACH,
					  "portal '%s' is a host name, which is looked up only at "
					  "the first login",
					  host);
		hints.ai_flags = 0;
		r = getaddrinfo(host, service, &hints, &ai);
	}
	if (r != 0 || !ai) {
		if (ai)
			freeaddrinfo(ai);
		return lb_err_set(&s->err, EHOSTUNREACH, "cannot resolve portal '%s': %s", host,
				  r ? gai_strerror(r) : "no address");
	}
	if (ai->ai_addrlen > sizeof(*ret)) {
		freeaddrinfo(ai);
		return lb_err_set(&s->err, EAFNOSUPPORT, "portal '%s': unsupported address", host);
	}
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	*ret_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int iscsi_session_resolve_home(struct iscsi_session *s)
{
	int r;

	if (s->home_resolved)
		return 0;
	r = resolve(s, s->cfg.host, s->cfg.port, !s->logged_in_once, &s->cfg_addr, &s->cfg_addrlen);
	if (r < 0)
		return r;
	snprintf(s->home_host, sizeof(s->home_host), "%s", s->cfg.host);
	s->home_port = s->cfg.port;
	memcpy(&s->home_addr, &s->cfg_addr, s->cfg_addrlen);
	s->home_addrlen = s->cfg_addrlen;
	s->home_moved = false;
	s->home_resolved = true;
	return 0;
}

int iscsi_redirect_path_add(char *path, size_t cap, const char *portal)
{
	size_t plen = strlen(portal), len = strlen(path);
	const char *p = path;
	int r = 0;

	/* the path is "A -> B -> C": look for portal as a whole element */
	while (*p) {
		const char *end = strstr(p, " -> ");
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == plen && !memcmp(p, portal, n)) {
			r = -ELOOP;
			break;
		}
		if (!end)
			break;
		p = end + 4;
	}
	if (len + (len ? 4 : 0) + plen + 1 > cap)
		return -EMSGSIZE;
	snprintf(path + len, cap - len, "%s%s", len ? " -> " : "", portal);
	return r;
}

/* Connect to host:port at addr (state CONNECTING, tick armed). */
static int connect_to(struct iscsi_session *s, const char *host, uint16_t port,
		      const struct sockaddr_storage *addr, socklen_t len)
{
	int r;

	snprintf(s->host, sizeof(s->host), "%s", host);
	s->port = port;
	format_portal(s->portal, sizeof(s->portal), host, port);
	r = iscsi_conn_new(s, (const struct sockaddr *)addr, len, &s->conn);
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

int iscsi_session_start_attempt(struct iscsi_session *s)
{
	uint64_t now = lb_now_ms();
	int r;

	/* ErrorRecoveryLevel 0 reconnects no sooner than Time2Wait after the
	 * connection was lost (RFC 7143 §6.1.2, DefaultTime2Wait; a target's
	 * "will drop" Async Message names its own). */
	if (s->state == ISCSI_SESSION_RECOVERING && s->logged_in_once && s->time2wait_ms &&
	    now < s->recovery_start_ms + s->time2wait_ms) {
		s->next_attempt_ms = s->recovery_start_ms + s->time2wait_ms;
		iscsi_session_log(s, "waiting Time2Wait (%u s) before reconnecting",
				  s->time2wait_ms / 1000);
		return 0;
	}
	r = iscsi_session_resolve_home(s);
	if (r < 0)
		return r;
	/* a permanent redirection that cannot be reached is given up: the
	 * configured portal decides again */
	if (s->home_moved && s->attempt_from_moved_home && !s->attempt_connected) {
		char configured[300];

		format_portal(configured, sizeof(configured), s->cfg.host, s->cfg.port);
		iscsi_session_log(s,
				  "%s, where the target moved permanently, cannot be reached; "
				  "going back to %s",
				  s->portal, configured);
		snprintf(s->home_host, sizeof(s->home_host), "%s", s->cfg.host);
		s->home_port = s->cfg.port;
		memcpy(&s->home_addr, &s->cfg_addr, s->cfg_addrlen);
		s->home_addrlen = s->cfg_addrlen;
		s->home_moved = false;
	}
	s->redirects = 0;
	s->attempt_connected = false;
	s->attempt_from_moved_home = s->home_moved;
	format_portal(s->redirect_path, sizeof(s->redirect_path), s->home_host, s->home_port);
	return connect_to(s, s->home_host, s->home_port, &s->home_addr, s->home_addrlen);
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
	if (s->redirects == 0)
		s->attempt_connected = true;
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
	s->link_silent = false;
	if (iscsi_conn_set_limits(s->conn, &s->params) < 0) {
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "out of memory");
		return;
	}
	/* A reinstatement in another portal group is a new I_T nexus: the
	 * target did not end the old session's tasks by reinstating it.  A
	 * target that leaves the TPGT out once tells us nothing. */
	s->nexus_changed = s->logged_in_once && s->prev_tpgt >= 0 && res.params.tpgt >= 0 &&
			   s->prev_tpgt != res.params.tpgt;
	if (s->nexus_changed)
		iscsi_session_log(s, "target portal group changed from %d to %d: a new I_T nexus",
				  s->prev_tpgt, res.params.tpgt);
	if (res.params.tpgt >= 0)
		s->prev_tpgt = res.params.tpgt;
	s->time2wait_ms = res.params.default_time2wait * 1000;
	s->async_logout = false;
	s->async_logout_sent = false;
	s->ping_sent_ms = 0;
	s->attempt = 0;
	s->redirects = 0;
	s->login_busy_retries = 0;
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

/* The current attempt cannot go on (s->err says why): for a first login
 * that is final, a reconnect goes on from home after a backoff. */
static void attempt_failed(struct iscsi_session *s, int r)
{
	iscsi_session_conn_failed(s, s->conn, r, NULL);
}

static void follow_redirect(struct iscsi_session *s)
{
	struct iscsi_target_address addr;
	struct sockaddr_storage ss;
	char to[300], from[300];
	socklen_t len = 0;
	bool temporary;
	uint16_t port;
	int r;

	(void)iscsi_login_redirect(s->login, &addr, &temporary);
	port = addr.port ? addr.port : ISCSI_DEFAULT_PORT;
	format_portal(to, sizeof(to), addr.host, port);
	snprintf(from, sizeof(from), "%s", s->portal);
	iscsi_session_log(s, "login to %s redirected to %s (%s)", from, to,
			  temporary ? "temporarily" : "permanently");
	r = iscsi_redirect_path_add(s->redirect_path, sizeof(s->redirect_path), to);
	if (r == -ELOOP) {
		lb_err_set(&s->err, ELOOP, "login redirection loop: %s", s->redirect_path);
		attempt_failed(s, -ELOOP);
		return;
	}
	if (r < 0 || ++s->redirects > ISCSI_MAX_REDIRECTS) {
		lb_err_set(&s->err, ELOOP, "too many login redirections (over %d): %s%s",
			   ISCSI_MAX_REDIRECTS, s->redirect_path, r < 0 ? " ..." : "");
		attempt_failed(s, -ELOOP);
		return;
	}
	r = resolve(s, addr.host, port, !s->logged_in_once, &ss, &len);
	if (r < 0) {
		char why[sizeof(s->err.msg)];

		snprintf(why, sizeof(why), "%s", s->err.msg); /* not into itself */
		lb_err_set(&s->err, -r, "login to %s redirected to %s: %s", from, to, why);
		attempt_failed(s, r);
		return;
	}
	if (!temporary) {
		/* RFC 7143 §11.13.5: use the new address from now on */
		snprintf(s->home_host, sizeof(s->home_host), "%s", addr.host);
		s->home_port = port;
		memcpy(&s->home_addr, &ss, len);
		s->home_addrlen = len;
		s->home_moved = true;
	}
	iscsi_conn_close(s->conn);
	s->conn = NULL;
	r = connect_to(s, addr.host, port, &ss, len);
	if (r < 0) /* s->err says why; passing it as the reason would format it into itself */
		iscsi_session_conn_failed(s, NULL, r, NULL);
}

/* 0301 service unavailable, 0302 out of resources: the target cannot take
 * us now.  As iscsid does, ask again after a backoff: a first login within
 * its login timeout and LOGIN_BUSY_RETRIES, a reconnect as any other
 * (until the replacement timeout).  s->err has the refusal. */
static void login_busy(struct iscsi_session *s)
{
	uint32_t delay = iscsi_session_backoff_ms(s->attempt);
	char line[sizeof(s->err.msg) + 16];

	if (!s->logged_in_once) {
		if (s->login_busy_retries >= LOGIN_BUSY_RETRIES ||
		    lb_now_ms() + delay > s->first_attempt_ms + s->cfg.login_timeout_ms) {
			char why[sizeof(s->err.msg)];

			snprintf(why, sizeof(why), "%s", s->err.msg); /* not into itself */
			lb_err_set(&s->err, EAGAIN, "%s, still after %u retries", why,
				   s->login_busy_retries);
			attempt_failed(s, -EAGAIN);
			return;
		}
		s->login_busy_retries++;
	}
	s->attempt++;
	snprintf(line, sizeof(line), "%s: target busy", s->err.msg);
	iscsi_session_reconnect_after(s, delay, line);
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
		if (r == -EAGAIN) {
			login_busy(s);
			return;
		}
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

	/* FAILED too: a multipath volume logs a path's session in again
	 * after its first login failed (a reinstatement, if it ever was in) */
	if (s->state != ISCSI_SESSION_IDLE && s->state != ISCSI_SESSION_CLOSED &&
	    s->state != ISCSI_SESSION_FAILED)
		return -EBUSY;
	s->login_cb = cb;
	s->login_arg = arg;
	s->logged_in_once = false;
	s->attempt = 0;
	s->login_busy_retries = 0;
	s->first_attempt_ms = lb_now_ms();
	lb_err_clear(&s->err);
	r = iscsi_session_start_attempt(s);
	if (r < 0) {
		s->login_cb = NULL;
		iscsi_session_set_state(s, ISCSI_SESSION_FAILED);
		return r;
	}
	return 0;
}
