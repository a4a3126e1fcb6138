/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Session lifecycle: connect, login (login.c's state machine fed from the
 * socket), redirection, the full feature phase's non-SCSI PDUs (NOP,
 * Async Message, Text, Logout, Reject), the tick that drives timeouts,
 * and recovery by session reinstatement (ErrorRecoveryLevel 0).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "serial.h"
#include "session-internal.h"


static const char *const state_names[] = {
	[ISCSI_SESSION_IDLE] = "idle",
	[ISCSI_SESSION_CONNECTING] = "connecting",
	[ISCSI_SESSION_LOGGING_IN] = "logging in",
	[ISCSI_SESSION_FULL_FEATURE] = "logged in",
	[ISCSI_SESSION_RECOVERING] = "recovering",
	[ISCSI_SESSION_LOGGING_OUT] = "logging out",
	[ISCSI_SESSION_CLOSED] = "closed",
	[ISCSI_SESSION_FAILED] = "failed",
};

const char *iscsi_session_state_name(iscsi_session_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

void iscsi_session_config_init(struct iscsi_session_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = ISCSI_DEFAULT_PORT;
	iscsi_params_init(&cfg->want);
	cfg->want.immediate_data = true;
	cfg->want.initial_r2t = false;
	cfg->want.max_recv_dsl = 262144;
	cfg->want.max_burst = 16776192;
	cfg->want.first_burst = 262144;
	cfg->connect_timeout_ms = 10000;
	cfg->login_timeout_ms = 15000;
	cfg->cmd_timeout_ms = 30000;
	cfg->replacement_timeout_ms = 120000;
	cfg->nop_interval_ms = 5000;
	cfg->nop_timeout_ms = 5000;
	cfg->max_tasks = 128;
	cfg->recover = true;
}

void iscsi_session_log(struct iscsi_session *s, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (!s->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->log_fn(s->log_arg, line);
}

void iscsi_session_set_log(struct iscsi_session *s, iscsi_log_fn fn, void *arg)
{
	s->log_fn = fn;
	s->log_arg = arg;
}

uint32_t iscsi_session_next_itt(struct iscsi_session *s)
{
	s->itt_seq = (s->itt_seq + 1) & 0x7fffffffu;
	if (s->itt_seq == 0x7fffffffu) /* ISCSI_SESSION | this would be reserved */
		s->itt_seq = 0;
	return ISCSI_ITT_SESSION | s->itt_seq;
}

static void set_state(struct iscsi_session *s, iscsi_session_state st)
{
	s->state = st;
}

/* ---- the tick ------------------------------------------------------------ */

static void tick_arm(struct iscsi_session *s);
static void session_tick(struct iscsi_session *s, uint64_t now);

static void on_tick(struct lb_op *op, int res, uint32_t flags)
{
	struct iscsi_session *s = container_of(op, struct iscsi_session, tick_op);

	s->ops--;
	if (s->freeing)
		return;
	session_tick(s, lb_now_ms());
	tick_arm(s);
}

static void tick_arm(struct iscsi_session *s)
{
	struct io_uring_sqe *sqe;

	if (s->freeing || s->tick_op.busy)
		return;
	if (s->state == ISCSI_SESSION_IDLE || s->state == ISCSI_SESSION_CLOSED ||
	    s->state == ISCSI_SESSION_FAILED)
		return;
	if (lb_loop_sqe(s->loop, &s->tick_op, &sqe) < 0)
		return; /* re-armed by the next state change */
	s->ops++;
	s->tick_ts.tv_sec = 0;
	s->tick_ts.tv_nsec = ISCSI_TICK_MS * 1000000LL;
	io_uring_prep_timeout(sqe, &s->tick_ts, 0, 0);
}

/* ---- construction -------------------------------------------------------- */

int iscsi_session_new(struct lb_loop *loop, const struct iscsi_session_config *cfg,
		      struct iscsi_session **ret, lb_err *err)
{
	struct iscsi_session *s;
	int r;

	if (!cfg->host || !cfg->host[0] || strlen(cfg->host) >= sizeof(s->host))
		return lb_err_set(err, EINVAL, "no portal address");
	if (!cfg->initiator_name || !cfg->initiator_name[0])
		return lb_err_set(err, EINVAL, "no initiator name");
	if (cfg->max_tasks == 0 || cfg->max_tasks > ISCSI_MAX_TASKS)
		return lb_err_set(err, EINVAL, "queue depth %u is not within 1..%u", cfg->max_tasks,
				  ISCSI_MAX_TASKS);
	if (cfg->chap) {
		r = iscsi_chap_check_creds(cfg->chap, err);
		if (r < 0)
			return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return lb_err_set(err, ENOMEM, "out of memory");
	s->loop = loop;
	s->cfg = *cfg;
	snprintf(s->host, sizeof(s->host), "%s", cfg->host);
	s->port = cfg->port;
	s->tpgt = -1;
	s->state = ISCSI_SESSION_IDLE;
	iscsi_text_seq_init(&s->text_seq, 1u << 20);
	lb_op_init(&s->tick_op, on_tick);
	/* ISID type 0x80 (random, RFC 7143 §11.12.5): fixed for the session's
	 * life, so that a reconnect reinstates it */
	r = iscsi_random_bytes(s->isid, sizeof(s->isid));
	if (r < 0) {
		free(s);
		return lb_err_set(err, r, "no random ISID");
	}
	s->isid[0] = (uint8_t)(0x80 | (s->isid[0] & 0x3f));
	r = iscsi_random_bytes(&s->cmdsn, sizeof(s->cmdsn));
	if (r < 0)
		s->cmdsn = 1;
	r = iscsi_tasks_init(s);
	if (r < 0) {
		free(s);
		return lb_err_set(err, r, "out of memory");
	}
	*ret = s;
	return 0;
}

void iscsi_session_free(struct iscsi_session *s)
{
	if (!s)
		return;
	s->freeing = true;
	if (s->conn) {
		iscsi_conn_close(s->conn);
		s->conn = NULL;
	}
	iscsi_tasks_fail_all(s, -ESHUTDOWN);
	if (s->tick_op.busy)
		(void)lb_loop_cancel(s->loop, &s->tick_op);
	/* let the cancelled SQEs complete: they point into s */
	for (int i = 0; i < 100 && s->ops > 0; i++)
		(void)lb_loop_run_once(s->loop, 10);
	iscsi_login_free(s->login);
	iscsi_text_seq_free(&s->text_seq);
	iscsi_tasks_free(s);
	free(s);
}

/* ---- connect and login --------------------------------------------------- */

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

static int start_attempt(struct iscsi_session *s)
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
	set_state(s, ISCSI_SESSION_CONNECTING);
	s->attempt_deadline_ms = lb_now_ms() + s->cfg.connect_timeout_ms + s->cfg.login_timeout_ms;
	r = iscsi_conn_connect(s->conn, s->cfg.connect_timeout_ms);
	if (r < 0) {
		iscsi_conn_close(s->conn);
		s->conn = NULL;
		return lb_err_set(&s->err, r, "cannot start connecting: %s", strerror(-r));
	}
	tick_arm(s);
	return 0;
}

static void login_finished(struct iscsi_session *s, int res)
{
	iscsi_session_cb cb = s->login_cb;

	s->login_cb = NULL;
	if (cb)
		cb(s, s->login_arg, res);
}

/* Give up: fail everything and tell whoever waits. */
static void session_fail(struct iscsi_session *s, int res)
{
	if (s->conn) {
		iscsi_conn_close(s->conn);
		s->conn = NULL;
	}
	set_state(s, ISCSI_SESSION_FAILED);
	iscsi_tasks_fail_all(s, res == -ETIMEDOUT ? -EIO : res);
	if (s->text_active) {
		s->text_active = false;
		if (s->text_cb)
			s->text_cb(s, s->text_arg, res);
	}
	login_finished(s, res);
	if (s->logout_cb) {
		iscsi_session_cb cb = s->logout_cb;

		s->logout_cb = NULL;
		cb(s, s->logout_arg, res);
	}
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
	set_state(s, ISCSI_SESSION_LOGGING_IN);
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
	set_state(s, ISCSI_SESSION_FULL_FEATURE);
	if (s->logged_in_once) {
		s->stats.reconnects++;
		iscsi_session_log(s, "session to %s reinstated on %s",
				  s->cfg.target_name ? s->cfg.target_name : "discovery", s->portal);
	}
	s->logged_in_once = true;
	login_finished(s, 0);
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
	r = start_attempt(s);
	if (r < 0)
		iscsi_session_conn_failed(s, NULL, r, s->err.msg);
}

static void rx_login(struct iscsi_session *s, struct iscsi_conn *c, const uint8_t *data)
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
	r = start_attempt(s);
	if (r < 0) {
		s->login_cb = NULL;
		set_state(s, ISCSI_SESSION_FAILED);
		return r;
	}
	return 0;
}

/* ---- connection loss and recovery ---------------------------------------- */

static uint32_t backoff_ms(unsigned attempt)
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
		set_state(s, ISCSI_SESSION_CLOSED);
		if (s->logout_cb) {
			iscsi_session_cb cb = s->logout_cb;

			s->logout_cb = NULL;
			cb(s, s->logout_arg, 0);
		}
		return;
	case ISCSI_SESSION_CONNECTING:
	case ISCSI_SESSION_LOGGING_IN:
		if (!s->logged_in_once) {
			session_fail(s, res);
			return;
		}
		break;
	case ISCSI_SESSION_FULL_FEATURE:
		if (!s->cfg.recover || s->cfg.replacement_timeout_ms == 0) {
			session_fail(s, -EIO);
			return;
		}
		iscsi_session_log(s, "%s; recovering", lb_err_msg(&s->err, res));
		s->recovery_start_ms = now;
		s->attempt = 0;
		iscsi_tasks_requeue_all(s);
		s->ping_sent_ms = 0;
		s->tmf = ISCSI_TMF_STATE_NONE;
		if (s->text_active) { /* discovery does not survive */
			session_fail(s, res);
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
	set_state(s, ISCSI_SESSION_RECOVERING);
	/* back to the configured portal after a redirection */
	snprintf(s->host, sizeof(s->host), "%s", s->cfg.host);
	s->port = s->cfg.port;
	s->next_attempt_ms = now + backoff_ms(s->attempt++);
	tick_arm(s);
}

/* ---- full feature phase: PDUs that are not SCSI -------------------------- */

void iscsi_session_update_statsn(struct iscsi_session *s, uint32_t statsn)
{
	if (iscsi_sn_ge(statsn, s->exp_statsn))
		s->exp_statsn = statsn + 1;
}

void iscsi_session_update_window(struct iscsi_session *s, uint32_t exp_cmdsn, uint32_t max_cmdsn)
{
	if (!iscsi_sn_window_valid(exp_cmdsn, max_cmdsn))
		return;
	if (iscsi_sn_gt(exp_cmdsn, s->exp_cmdsn))
		s->exp_cmdsn = exp_cmdsn;
	if (iscsi_sn_gt(max_cmdsn, s->max_cmdsn))
		s->max_cmdsn = max_cmdsn;
}

int iscsi_session_send_small(struct iscsi_session *s, const union iscsi_hdr *bhs, const void *data,
			     size_t len)
{
	struct iscsi_txbuf *tx;
	struct iovec iov;
	lb_err err;
	int r;

	if (!s->conn)
		return -ENOTCONN;
	tx = iscsi_txbuf_new();
	if (!tx)
		return -ENOMEM;
	if (len) {
		tx->owned = malloc(len);
		if (!tx->owned) {
			iscsi_txbuf_free(tx);
			return -ENOMEM;
		}
		memcpy(tx->owned, data, len);
	}
	iov = (struct iovec){tx->owned, len};
	r = iscsi_txbuf_frame(tx, bhs, &iov, len ? 1 : 0, &s->conn->limits, &err);
	if (r < 0) {
		iscsi_txbuf_free(tx);
		return r;
	}
	iscsi_conn_queue(s->conn, tx);
	return 0;
}

static void rx_nop_in(struct iscsi_session *s, const union iscsi_hdr *h, const uint8_t *data,
		      uint32_t len)
{
	uint32_t itt = be32toh(h->nop_in.itt), ttt = be32toh(h->nop_in.ttt);

	iscsi_session_update_window(s, be32toh(h->nop_in.exp_cmdsn), be32toh(h->nop_in.max_cmdsn));
	if (itt != ISCSI_RESERVED_TAG) {
		/* the answer to our ping */
		if (itt != s->ping_itt || !s->ping_sent_ms) {
			iscsi_session_conn_failed(s, s->conn, -EPROTO,
						  "NOP-In answers a ping we did not send");
			return;
		}
		iscsi_session_update_statsn(s, be32toh(h->nop_in.statsn));
		s->ping_sent_ms = 0;
		return;
	}
	if (ttt == ISCSI_RESERVED_TAG)
		return; /* a plain update of the window */
	/* the target pings us: answer with its TTT and its data */
	union iscsi_hdr out;

	iscsi_hdr_init(&out, ISCSI_OP_NOP_OUT | ISCSI_OP_IMMEDIATE, ISCSI_FLAG_FINAL);
	memcpy(out.nop_out.lun, h->nop_in.lun, 8);
	out.nop_out.itt = htobe32(ISCSI_RESERVED_TAG);
	out.nop_out.ttt = htobe32(ttt);
	out.nop_out.cmdsn = htobe32(s->cmdsn);
	out.nop_out.exp_statsn = htobe32(s->exp_statsn);
	if (len > s->conn->limits.max_send_dsl)
		len = s->conn->limits.max_send_dsl;
	(void)iscsi_session_send_small(s, &out, data, len);
}

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
	set_state(s, ISCSI_SESSION_LOGGING_OUT);
	s->logout_deadline_ms = lb_now_ms() + 10000;
	if (iscsi_session_send_small(s, &out, NULL, 0) < 0)
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "cannot send Logout");
}

static void rx_async(struct iscsi_session *s, const union iscsi_hdr *h, const uint8_t *data,
		     uint32_t len)
{
	uint8_t event = h->async.async_event;

	iscsi_session_update_statsn(s, be32toh(h->async.statsn));
	iscsi_session_update_window(s, be32toh(h->async.exp_cmdsn), be32toh(h->async.max_cmdsn));
	switch (event) {
	case ISCSI_ASYNC_SCSI_EVENT: {
		const uint8_t *sense;
		size_t slen;
		struct iscsi_sense sd;
		char text[200] = "no sense data";

		if (iscsi_sense_from_segment(data, len, &sense, &slen) == 0 && sense &&
		    iscsi_sense_parse(sense, slen, &sd) == 0)
			iscsi_sense_describe(&sd, text, sizeof(text));
		iscsi_session_log(s, "target reports a SCSI event: %s", text);
		break;
	}
	case ISCSI_ASYNC_LOGOUT_REQUEST:
		/* the target wants this connection gone: drop it and let
		 * recovery reinstate the session (ERL 0) */
		iscsi_session_conn_failed(s, s->conn, 0, "target requested logout");
		break;
	case ISCSI_ASYNC_DROP_CONNECTION:
	case ISCSI_ASYNC_DROP_ALL_CONNECTIONS:
		iscsi_session_conn_failed(s, s->conn, 0, "target is dropping the connection");
		break;
	case ISCSI_ASYNC_RENEGOTIATE:
		iscsi_session_log(s, "target asks for parameter renegotiation; keeping the "
				     "current parameters");
		break;
	default:
		iscsi_session_log(s, "ignoring asynchronous event %u", event);
		break;
	}
}

static void send_text(struct iscsi_session *s, uint32_t ttt, const void *data, size_t len)
{
	union iscsi_hdr out;

	iscsi_hdr_init(&out, ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL);
	out.text_req.itt = htobe32(s->text_itt);
	out.text_req.ttt = htobe32(ttt);
	out.text_req.cmdsn = htobe32(s->cmdsn);
	s->cmdsn++;
	out.text_req.exp_statsn = htobe32(s->exp_statsn);
	if (iscsi_session_send_small(s, &out, data, len) < 0)
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "cannot send Text Request");
}

static void rx_text(struct iscsi_session *s, const union iscsi_hdr *h, const uint8_t *data,
		    uint32_t len)
{
	uint32_t ttt = be32toh(h->text_rsp.ttt);
	bool final = h->text_rsp.flags & ISCSI_FLAG_FINAL;
	bool more = h->text_rsp.flags & ISCSI_TEXT_FLAG_CONTINUE;
	lb_err err;
	int r;

	if (!s->text_active || be32toh(h->text_rsp.itt) != s->text_itt) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "unexpected Text Response");
		return;
	}
	if (final && more) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "Text Response with both F and C");
		return;
	}
	iscsi_session_update_statsn(s, be32toh(h->text_rsp.statsn));
	iscsi_session_update_window(s, be32toh(h->text_rsp.exp_cmdsn),
				    be32toh(h->text_rsp.max_cmdsn));
	r = iscsi_text_seq_append(&s->text_seq, data, len, more, &err);
	if (r < 0) {
		iscsi_session_conn_failed(s, s->conn, r, err.msg);
		return;
	}
	if (!final) {
		if (ttt == ISCSI_RESERVED_TAG) {
			iscsi_session_conn_failed(s, s->conn, -EPROTO,
						  "Text Response continues without a target tag");
			return;
		}
		send_text(s, ttt, NULL, 0);
		return;
	}
	s->text_active = false;
	if (s->text_cb)
		s->text_cb(s, s->text_arg, 0);
}

int iscsi_session_text(struct iscsi_session *s, const char *text, size_t len, iscsi_session_cb cb,
		       void *arg)
{
	if (s->state != ISCSI_SESSION_FULL_FEATURE || !s->conn)
		return -ENOTCONN;
	if (s->text_active)
		return -EBUSY;
	if (len > s->conn->limits.max_send_dsl)
		return -EMSGSIZE;
	iscsi_text_seq_reset(&s->text_seq);
	s->text_active = true;
	s->text_cb = cb;
	s->text_arg = arg;
	s->text_itt = iscsi_session_next_itt(s);
	s->text_deadline_ms = lb_now_ms() + (s->cfg.cmd_timeout_ms ? s->cfg.cmd_timeout_ms : 30000);
	send_text(s, ISCSI_RESERVED_TAG, text, len);
	return 0;
}

const char *iscsi_session_text_result(const struct iscsi_session *s, size_t *ret_len)
{
	*ret_len = s->text_seq.len;
	return s->text_seq.buf ? s->text_seq.buf : "";
}

static void rx_logout(struct iscsi_session *s, const union iscsi_hdr *h)
{
	if (be32toh(h->logout_rsp.itt) != s->logout_itt || s->state != ISCSI_SESSION_LOGGING_OUT) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "unexpected Logout Response");
		return;
	}
	if (h->logout_rsp.response != ISCSI_LOGOUT_RSP_OK)
		iscsi_session_log(s, "logout answered with response %u", h->logout_rsp.response);
	iscsi_conn_close(s->conn);
	s->conn = NULL;
	set_state(s, ISCSI_SESSION_CLOSED);
	if (s->logout_cb) {
		iscsi_session_cb cb = s->logout_cb;

		s->logout_cb = NULL;
		cb(s, s->logout_arg, 0);
	}
}

static void rx_reject(struct iscsi_session *s, const union iscsi_hdr *h, const uint8_t *data,
		      uint32_t len)
{
	union iscsi_hdr rejected;
	uint32_t itt;

	if (len < ISCSI_BHS_LEN) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO,
					  "Reject without the rejected PDU's header");
		return;
	}

	iscsi_session_update_statsn(s, be32toh(h->reject.statsn));
	iscsi_session_update_window(s, be32toh(h->reject.exp_cmdsn), be32toh(h->reject.max_cmdsn));
	memcpy(rejected.raw, data, ISCSI_BHS_LEN); /* pdu.c checked len >= 48 */
	itt = be32toh(rejected.bhs.itt);
	iscsi_session_log(s, "target rejected a %s PDU (reason 0x%02x)",
			  iscsi_opcode_name(iscsi_hdr_opcode(&rejected)), h->reject.reason);
	if (itt == s->ping_itt && s->ping_sent_ms) {
		s->ping_sent_ms = 0;
		return;
	}
	if (s->text_active && itt == s->text_itt) {
		s->text_active = false;
		lb_err_set(&s->err, EPROTO, "target rejected the Text Request");
		if (s->text_cb)
			s->text_cb(s, s->text_arg, -EPROTO);
		return;
	}
	if (!(itt & ISCSI_ITT_SESSION) && itt != ISCSI_RESERVED_TAG) {
		iscsi_task_rx_reject(s, &rejected, h->reject.reason);
		return;
	}
	if (h->reject.reason == ISCSI_REJECT_PROTOCOL_ERROR)
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "target reports a protocol error");
}

int iscsi_session_rx_dest(struct iscsi_session *s, struct iscsi_conn *c)
{
	if (s->state == ISCSI_SESSION_FULL_FEATURE && c->rx.opcode == ISCSI_OP_DATA_IN)
		return iscsi_task_data_in_dest(s, c);
	return 0;
}

void iscsi_session_rx_pdu(struct iscsi_session *s, struct iscsi_conn *c, const uint8_t *data)
{
	const union iscsi_hdr *h = &c->rx.hdr;
	uint32_t len = c->rx.data_len;

	if (c != s->conn)
		return;
	if (s->state == ISCSI_SESSION_LOGGING_IN) {
		rx_login(s, c, data);
		return;
	}
	switch (c->rx.opcode) {
	case ISCSI_OP_SCSI_RSP:
		iscsi_task_rx_scsi_rsp(s, h, data, len);
		break;
	case ISCSI_OP_DATA_IN:
		iscsi_task_rx_data_in(s, h);
		break;
	case ISCSI_OP_R2T:
		iscsi_task_rx_r2t(s, h);
		break;
	case ISCSI_OP_NOP_IN:
		rx_nop_in(s, h, data, len);
		break;
	case ISCSI_OP_TMF_RSP:
		iscsi_task_rx_tmf_rsp(s, h);
		break;
	case ISCSI_OP_ASYNC_MSG:
		rx_async(s, h, data, len);
		break;
	case ISCSI_OP_TEXT_RSP:
		rx_text(s, h, data, len);
		break;
	case ISCSI_OP_LOGOUT_RSP:
		rx_logout(s, h);
		break;
	case ISCSI_OP_REJECT:
		rx_reject(s, h, data, len);
		break;
	default:
		iscsi_session_conn_failed(s, c, -EPROTO, "unexpected PDU in full feature phase");
		return;
	}
	if (s->conn == c && s->state == ISCSI_SESSION_FULL_FEATURE)
		iscsi_tasks_pump(s);
}

/* ---- logout -------------------------------------------------------------- */

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
		set_state(s, ISCSI_SESSION_CLOSED);
		login_finished(s, -ESHUTDOWN);
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

/* ---- the tick ------------------------------------------------------------ */

static void session_tick(struct iscsi_session *s, uint64_t now)
{
	switch (s->state) {
	case ISCSI_SESSION_CONNECTING:
	case ISCSI_SESSION_LOGGING_IN:
		if (now >= s->attempt_deadline_ms)
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT,
						  s->state == ISCSI_SESSION_CONNECTING
							  ? "connect timed out"
							  : "login timed out");
		else if (s->logged_in_once &&
			 now - s->recovery_start_ms >= s->cfg.replacement_timeout_ms)
			goto replacement_timeout;
		break;
	case ISCSI_SESSION_RECOVERING:
		if (now - s->recovery_start_ms >= s->cfg.replacement_timeout_ms)
			goto replacement_timeout;
		if (now >= s->next_attempt_ms) {
			int r = start_attempt(s);

			if (r < 0) {
				set_state(s, ISCSI_SESSION_RECOVERING);
				s->next_attempt_ms = now + backoff_ms(s->attempt++);
			}
		}
		break;
	case ISCSI_SESSION_FULL_FEATURE:
		if (s->ping_sent_ms && now - s->ping_sent_ms >= s->cfg.nop_timeout_ms) {
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT,
						  "no answer to NOP-Out ping");
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
		break;
	case ISCSI_SESSION_LOGGING_OUT:
		if (now >= s->logout_deadline_ms)
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT, "logout timed out");
		break;
	default:
		break;
	}
	return;
replacement_timeout:
	lb_err_set(&s->err, ETIMEDOUT, "session to %s could not be reinstated within %u s: %s",
		   s->portal, s->cfg.replacement_timeout_ms / 1000,
		   s->err.msg[0] ? s->err.msg : "no reason");
	iscsi_session_log(s, "%s", s->err.msg);
	session_fail(s, -EIO);
}

/* ---- accessors and synchronous helpers ------------------------------------ */

iscsi_session_state iscsi_session_get_state(const struct iscsi_session *s)
{
	return s->state;
}

const char *iscsi_session_error(const struct iscsi_session *s)
{
	return s->err.msg[0] ? s->err.msg : "no error";
}

const struct iscsi_params *iscsi_session_params(const struct iscsi_session *s)
{
	return &s->params;
}

void iscsi_session_get_stats(const struct iscsi_session *s, struct iscsi_session_stats *ret)
{
	*ret = s->stats;
}

int32_t iscsi_session_tpgt(const struct iscsi_session *s)
{
	return s->tpgt;
}

const char *iscsi_session_portal(const struct iscsi_session *s)
{
	return s->portal;
}

int iscsi_session_wait(struct iscsi_session *s, const bool *done, uint32_t timeout_ms)
{
	uint64_t end = lb_now_ms() + timeout_ms;

	while (!*done) {
		uint64_t now = lb_now_ms();
		int r;

		if (now >= end)
			return -ETIMEDOUT;
		r = lb_loop_run_once(s->loop, (int)(end - now < 1000 ? end - now : 1000));
		if (r < 0 && r != -EINTR && r != -ETIME)
			return r;
	}
	return 0;
}

struct sync_wait {
	bool done;
	int res;
};

static void sync_cb(struct iscsi_session *s, void *arg, int res)
{
	struct sync_wait *w = arg;

	w->done = true;
	w->res = res;
}

int iscsi_session_login_sync(struct iscsi_session *s, lb_err *err)
{
	struct sync_wait w = {0};
	int r;

	r = iscsi_session_login(s, sync_cb, &w);
	if (r < 0)
		return lb_err_set(err, r, "%s", lb_err_msg(&s->err, r));
	/* each attempt is bounded by the connect and login timeouts */
	r = iscsi_session_wait(s, &w.done,
			       (s->cfg.connect_timeout_ms + s->cfg.login_timeout_ms) *
					       (ISCSI_MAX_REDIRECTS + 1) +
				       1000);
	if (r < 0)
		return lb_err_set(err, r, "login to %s timed out", s->portal);
	if (w.res < 0)
		return lb_err_set(err, w.res, "%s", lb_err_msg(&s->err, w.res));
	return 0;
}

int iscsi_session_logout_sync(struct iscsi_session *s)
{
	struct sync_wait w = {0};
	int r;

	r = iscsi_session_logout(s, sync_cb, &w);
	if (r < 0)
		return r;
	r = iscsi_session_wait(s, &w.done, 15000);
	return r < 0 ? r : w.res;
}

/* Run the loop until w is done, with no deadline of our own: the
 * session's timeouts (command, text, NOP, replacement) end every wait, and
 * returning earlier would leave the session pointing at the caller's stack. */
static int wait_done(struct iscsi_session *s, struct sync_wait *w)
{
	int r = iscsi_session_wait(s, &w->done, UINT32_MAX);

	return r < 0 ? r : w->res;
}

int iscsi_session_text_sync(struct iscsi_session *s, const char *text, size_t len)
{
	struct sync_wait w = {0};
	int r;

	r = iscsi_session_text(s, text, len, sync_cb, &w);
	if (r < 0)
		return r;
	return wait_done(s, &w);
}

static void sync_cmd_cb(struct iscsi_cmd *cmd, int res)
{
	struct sync_wait *w = cmd->arg;

	w->done = true;
	w->res = res;
}

int iscsi_session_cmd_sync(struct iscsi_session *s, struct iscsi_cmd *cmd)
{
	struct sync_wait w = {0};
	int r;

	cmd->done = sync_cmd_cb;
	cmd->arg = &w;
	r = iscsi_session_submit(s, cmd);
	if (r < 0)
		return r;
	return wait_done(s, &w);
}
