/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An iSCSI session: construction and freeing, its state, the log, the
 * accessors, and the synchronous helpers that run the loop until a
 * callback comes.  The phases live beside it: session-login.c (connect,
 * login, redirection), session-full-feature.c (the PDUs that are not
 * SCSI: NOP, Async Message, Text, Reject), session-logout.c,
 * session-recovery.c (connection loss, reinstatement) and session-tick.c
 * (timeouts and the NOP-Out ping); SCSI commands are task.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	cfg->request_timeout_ms = 120000;
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

void iscsi_session_set_event(struct iscsi_session *s, iscsi_event_fn fn, void *arg)
{
	s->event_fn = fn;
	s->event_arg = arg;
}

bool iscsi_session_replacement_expired(const struct iscsi_session *s)
{
	return s->replacement_expired;
}

unsigned iscsi_session_in_doubt(const struct iscsi_session *s)
{
	return s->in_doubt;
}

void iscsi_isid_for(const char *key, uint8_t slot, uint8_t isid[6])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const char *p = key; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ull;
	}
	isid[0] = (uint8_t)(0x80 | ((h >> 32) & 0x3f));
	isid[1] = (uint8_t)(h >> 24);
	isid[2] = (uint8_t)(h >> 16);
	isid[3] = (uint8_t)(h >> 8);
	isid[4] = (uint8_t)h;
	isid[5] = slot;
}

uint32_t iscsi_session_next_itt(struct iscsi_session *s)
{
	s->itt_seq = (s->itt_seq + 1) & 0x7fffffffu;
	if (s->itt_seq == 0x7fffffffu) /* ISCSI_SESSION | this would be reserved */
		s->itt_seq = 0;
	return ISCSI_ITT_SESSION | s->itt_seq;
}

void iscsi_session_set_state(struct iscsi_session *s, iscsi_session_state st)
{
	s->state = st;
	iscsi_session_tick_arm(s);
}

/* ---- construction -------------------------------------------------------- */

int iscsi_session_new(struct lb_loop *loop, const struct iscsi_session_config *cfg,
		      struct iscsi_session **ret, lb_err *err)
{
	struct iscsi_session *s;
	int r;

	if (!cfg->host || !cfg->host[0] || strlen(cfg->host) >= sizeof(s->host))
		return lb_err_set(err, EINVAL, "no portal address");
	if (cfg->bind_addr && cfg->bind_addr[0]) {
		struct sockaddr_storage ss;
		socklen_t len;

		r = iscsi_conn_source_addr(cfg->bind_addr, &ss, &len);
		if (r < 0)
			return lb_err_set(err, -r,
					  "source address '%s' is not a numeric IP address",
					  cfg->bind_addr);
	}
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
	snprintf(s->home_host, sizeof(s->home_host), "%s", cfg->host);
	s->home_port = cfg->port;
	s->tpgt = -1;
	s->prev_tpgt = -1;
	s->time2wait_ms = 2000; /* DefaultTime2Wait's default, until a login says */
	s->state = ISCSI_SESSION_IDLE;
	iscsi_text_seq_init(&s->text_seq, 1u << 20);
	iscsi_session_tick_init(s);
	/* ISID type 0x80 (random, RFC 7143 §11.12.5): fixed for the session's
	 * life, so that a reconnect reinstates it; the caller's, if given */
	if (cfg->isid_set) {
		memcpy(s->isid, cfg->isid, sizeof(s->isid));
	} else {
		r = iscsi_random_bytes(s->isid, sizeof(s->isid));
		if (r < 0) {
			free(s);
			return lb_err_set(err, r, "no random ISID");
		}
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

bool iscsi_session_link_silent(const struct iscsi_session *s)
{
	return s->link_silent;
}

int32_t iscsi_session_tpgt(const struct iscsi_session *s)
{
	return s->tpgt;
}

void iscsi_session_get_config(const struct iscsi_session *s, struct iscsi_session_config *ret)
{
	*ret = s->cfg;
	ret->isid_set = true;
	memcpy(ret->isid, s->isid, sizeof(ret->isid));
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
