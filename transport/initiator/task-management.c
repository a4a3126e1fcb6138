/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Task management (RFC 7143 §11.5): a command whose try times out (the
 * per-try command timeout, or the end of its lifetime) is aborted (ABORT
 * TASK), and if the abort fails or times out its LUN is reset (LOGICAL
 * UNIT RESET).  Only a confirmed abort or reset lets a command go again or
 * fail (by its lifetime): until then a copy of it may still reach the LUN.
 * A reset refused or timed out drops the connection, and the commands stay
 * in doubt until the session is reinstated (session-recovery.c).  The same
 * reset fences the commands in doubt after a login into another portal
 * group (task.c).  One request at a time.
 */
#include <errno.h>

#include "session-internal.h"

#define TMF_TIMEOUT_MS 10000

static void send_tmf(struct iscsi_session *s, uint8_t func, uint32_t lun, struct iscsi_task *t)
{
	union iscsi_hdr h;

	s->tmf = func == ISCSI_TMF_ABORT_TASK ? ISCSI_TMF_STATE_ABORT : ISCSI_TMF_STATE_LUN_RESET;
	s->tmf_itt = iscsi_session_next_itt(s);
	s->tmf_lun = lun;
	s->tmf_task = t;
	s->tmf_deadline_ms = lb_now_ms() + TMF_TIMEOUT_MS;
	iscsi_hdr_init(&h, ISCSI_OP_TMF_REQ | ISCSI_OP_IMMEDIATE, ISCSI_FLAG_FINAL | func);
	(void)scsi_lun_encode(lun, h.tmf_req.lun);
	h.tmf_req.itt = htobe32(s->tmf_itt);
	h.tmf_req.ref_task_tag = htobe32(t ? t->itt : ISCSI_RESERVED_TAG);
	h.tmf_req.cmdsn = htobe32(s->cmdsn);
	h.tmf_req.exp_statsn = htobe32(s->exp_statsn);
	h.tmf_req.ref_cmdsn = htobe32(t ? t->cmdsn : s->cmdsn);
	if (iscsi_session_send_small(s, &h, NULL, 0) < 0)
		iscsi_session_conn_failed(s, s->conn, -ENOMEM,
					  "cannot send a task management request");
}

static void lun_reset(struct iscsi_session *s, uint32_t lun)
{
	iscsi_session_log(s, "resetting LUN %u", lun);
	s->stats.lun_resets++;
	send_tmf(s, ISCSI_TMF_LUN_RESET, lun, NULL);
}

/* Fenced: re-issue while its lifetime lasts, else fail with -ETIMEDOUT. */
static void task_retry_after_abort(struct iscsi_session *s, struct iscsi_task *t)
{
	iscsi_task_complete(s, t, -ETIMEDOUT, 0);
}

void iscsi_task_fence_lun(struct iscsi_session *s, uint32_t lun)
{
	lun_reset(s, lun);
}

void iscsi_task_reset_done(struct iscsi_session *s, int res)
{
	iscsi_session_cb cb = s->reset_cb;

	if (!cb)
		return;
	s->reset_cb = NULL;
	cb(s, s->reset_arg, res);
}

int iscsi_session_reset_lun(struct iscsi_session *s, uint32_t lun, iscsi_session_cb cb, void *arg)
{
	if (s->state != ISCSI_SESSION_FULL_FEATURE || !s->conn)
		return -ENOTCONN;
	if (s->tmf != ISCSI_TMF_STATE_NONE || s->reset_cb)
		return -EBUSY;
	s->reset_cb = cb;
	s->reset_arg = arg;
	s->fence_reset = false;
	lun_reset(s, lun);
	iscsi_session_tick_arm(s); /* its deadline runs now, not after a quiet sleep */
	return 0;
}

void iscsi_task_rx_tmf_rsp(struct iscsi_session *s, const union iscsi_hdr *h)
{
	const struct iscsi_tmf_rsp_hdr *rsp = &h->tmf_rsp;
	enum iscsi_tmf_state what = s->tmf;

	if (what == ISCSI_TMF_STATE_NONE || be32toh(rsp->itt) != s->tmf_itt) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO,
					  "unexpected Task Management Response");
		return;
	}
	iscsi_session_update_statsn(s, be32toh(rsp->statsn));
	iscsi_session_update_window(s, be32toh(rsp->exp_cmdsn), be32toh(rsp->max_cmdsn));
	s->tmf = ISCSI_TMF_STATE_NONE;
	if (what == ISCSI_TMF_STATE_ABORT) {
		struct iscsi_task *t = s->tmf_task;

		if (rsp->response == ISCSI_TMF_RSP_COMPLETE ||
		    rsp->response == ISCSI_TMF_RSP_NO_TASK) {
			if (t && t->state == ISCSI_TASK_ABORTING && !t->done_wait)
				task_retry_after_abort(s, t);
			/* the next one due (a cancel aborts many) */
			if (s->state == ISCSI_SESSION_FULL_FEATURE)
				iscsi_tasks_tick(s, lb_now_ms());
			return;
		}
		lun_reset(s, s->tmf_lun);
		return;
	}
	if (rsp->response != ISCSI_TMF_RSP_COMPLETE) {
		iscsi_task_reset_done(s, -EIO);
		iscsi_session_conn_failed(s, s->conn, -EIO, "LUN reset refused");
		return;
	}
	if (s->fence_reset) {
		iscsi_task_fence_done(s, s->tmf_lun);
		iscsi_tasks_pump(s);
		return;
	}
	/* every task on the LUN is gone on the target's side */
	for (uint32_t i = 0; i < s->n_tasks; i++) {
		struct iscsi_task *t = &s->tasks[i];

		if (t->state != ISCSI_TASK_FREE && !t->done_wait && t->cmd->lun == s->tmf_lun)
			task_retry_after_abort(s, t);
	}
	iscsi_task_reset_done(s, 0);
}

void iscsi_tasks_tick(struct iscsi_session *s, uint64_t now)
{
	if (s->tmf != ISCSI_TMF_STATE_NONE) {
		if (now < s->tmf_deadline_ms)
			return;
		if (s->tmf == ISCSI_TMF_STATE_ABORT) {
			s->tmf = ISCSI_TMF_STATE_NONE;
			lun_reset(s, s->tmf_lun);
		} else {
			iscsi_task_reset_done(s, -ETIMEDOUT);
			iscsi_session_conn_failed(s, s->conn, -ETIMEDOUT, "LUN reset timed out");
		}
		return;
	}
	for (uint32_t i = 0; i < s->n_tasks; i++) {
		struct iscsi_task *t = &s->tasks[i];

		if (t->state == ISCSI_TASK_ACTIVE && !t->done_wait && now >= t->deadline_ms) {
			bool life = now >= t->cmd->deadline_ms;

			iscsi_session_log(s, "command 0x%02x on LUN %u %s (try %u); aborting it",
					  t->cmd->cdb[0], t->cmd->lun,
					  life ? "reached the end of its lifetime" : "timed out",
					  t->cmd->tries);
			s->stats.timeouts++;
			s->stats.aborts++;
			t->state = ISCSI_TASK_ABORTING;
			send_tmf(s, ISCSI_TMF_ABORT_TASK, t->cmd->lun, t);
			return; /* one task management request at a time */
		}
	}
}
