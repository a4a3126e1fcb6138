/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SCSI commands in the full feature phase (RFC 7143 §11.3-11.8): the task
 * table (ITT = generation << 16 | slot), the CmdSN window, immediate and
 * unsolicited data, R2T-driven Data-Out, Data-In straight into the
 * caller's buffers, SCSI Response with sense, retries, and the return of
 * every task on recovery or failure.  Timeouts and their task management
 * (ABORT TASK, LOGICAL UNIT RESET) are task-management.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "retry.h"
#include "serial.h"
#include "session-internal.h"

#define SENSE_LOG_BURST_MS 1000

int iscsi_tasks_init(struct iscsi_session *s)
{
	s->n_tasks = s->cfg.max_tasks;
	s->tasks = calloc(s->n_tasks, sizeof(*s->tasks));
	if (!s->tasks)
		return -ENOMEM;
	for (uint32_t i = s->n_tasks; i-- > 0;) {
		s->tasks[i].next_free = s->free_tasks;
		s->free_tasks = &s->tasks[i];
	}
	return 0;
}

void iscsi_tasks_free(struct iscsi_session *s)
{
	free(s->tasks);
	s->tasks = NULL;
}

struct iscsi_task *iscsi_task_lookup(struct iscsi_session *s, uint32_t itt)
{
	struct iscsi_task *t;

	if (itt & ISCSI_ITT_SESSION || ISCSI_ITT_SLOT(itt) >= s->n_tasks)
		return NULL;
	t = &s->tasks[ISCSI_ITT_SLOT(itt)];
	return t->state != ISCSI_TASK_FREE && t->itt == itt ? t : NULL;
}

static struct iscsi_task *task_get(struct iscsi_session *s)
{
	struct iscsi_task *t = s->free_tasks;

	if (!t)
		return NULL;
	s->free_tasks = t->next_free;
	t->gen = (uint16_t)((t->gen + 1) & 0x7fff);
	t->itt = (uint32_t)t->gen << 16 | (uint32_t)(t - s->tasks);
	s->active++;
	return t;
}

static struct iscsi_cmd *task_put(struct iscsi_session *s, struct iscsi_task *t)
{
	struct iscsi_cmd *cmd = t->cmd;

	t->cmd = NULL;
	t->state = ISCSI_TASK_FREE;
	t->tx_refs = 0;
	t->nburst = 0;
	t->done_wait = false;
	t->next_free = s->free_tasks;
	s->free_tasks = t;
	s->active--;
	if (s->tmf_task == t)
		s->tmf_task = NULL;
	return cmd;
}

static void pending_push_front(struct iscsi_session *s, struct iscsi_cmd *cmd)
{
	cmd->next = s->pending_head;
	s->pending_head = cmd;
	if (!s->pending_tail)
		s->pending_tail = cmd;
}

static void pending_push_back(struct iscsi_session *s, struct iscsi_cmd *cmd)
{
	cmd->next = NULL;
	if (s->pending_tail)
		s->pending_tail->next = cmd;
	else
		s->pending_head = cmd;
	s->pending_tail = cmd;
}

static struct iscsi_cmd *pending_pop(struct iscsi_session *s)
{
	struct iscsi_cmd *cmd = s->pending_head;

	if (cmd) {
		s->pending_head = cmd->next;
		if (!s->pending_head)
			s->pending_tail = NULL;
		cmd->next = NULL;
	}
	return cmd;
}

static void cmd_done(struct iscsi_cmd *cmd, int res)
{
	if (cmd->done)
		cmd->done(cmd, res);
}

/* A line about a command's outcome, at most a burst per second: a failing
 * LUN answers every command alike, and the log must stay readable. */
static void __attribute__((format(printf, 2, 3))) log_limited(struct iscsi_session *s,
							      const char *fmt, ...)
{
	uint64_t now = lb_now_ms();
	char line[512];
	va_list ap;

	if (s->sense_log_ms && now - s->sense_log_ms < SENSE_LOG_BURST_MS) {
		s->sense_log_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->sense_log_dropped)
		iscsi_session_log(s, "%s (and %u lines like it in the last second)", line,
				  s->sense_log_dropped);
	else
		iscsi_session_log(s, "%s", line);
	s->sense_log_ms = now;
	s->sense_log_dropped = 0;
}

static const char *cmd_name(const struct iscsi_cmd *cmd, char *buf, size_t len)
{
	const char *n = iscsi_scsi_cdb_name(cmd->cdb[0]);

	if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "command 0x%02x", cmd->cdb[0]);
	return buf;
}

void iscsi_cmd_finish(struct iscsi_session *s, struct iscsi_cmd *cmd, int res)
{
	if (res >= 0) {
		if (cmd->dir == ISCSI_DIR_READ)
			s->stats.read_bytes += (uint64_t)res;
		else if (cmd->dir == ISCSI_DIR_WRITE)
			s->stats.write_bytes += (uint64_t)res;
	}
	cmd_done(cmd, res);
	iscsi_tasks_cancel_check(s);
}

void iscsi_tasks_cancel_check(struct iscsi_session *s)
{
	iscsi_session_cb cb = s->cancel_cb;

	if (!cb || s->active || s->pending_head)
		return;
	s->cancel_cb = NULL;
	cb(s, s->cancel_arg, 0);
}

/* The lifetime of cmd is over: it fails with -ETIMEDOUT (it is fenced:
 * not on the wire, or answered, or its abort confirmed). */
static void cmd_expire(struct iscsi_session *s, struct iscsi_cmd *cmd, uint64_t now)
{
	uint32_t life = cmd->lifetime_ms ? cmd->lifetime_ms : s->cfg.request_timeout_ms;
	char name[32];

	log_limited(s, "%s on LUN %u failed: its %u ms lifetime ended after %u tries%s%s",
		    cmd_name(cmd, name, sizeof(name)), cmd->lun, life, cmd->tries,
		    cmd->last_err ? "; the last: " : "",
		    cmd->last_err ? strerror(-cmd->last_err) : "");
	(void)now;
	iscsi_cmd_finish(s, cmd, -ETIMEDOUT);
}

/* Finish a task: retry it after delay (>= 0) while its lifetime lasts,
 * else complete it.  The target no longer holds it. */
static void task_finish(struct iscsi_session *s, struct iscsi_task *t, int res, int delay)
{
	struct iscsi_cmd *cmd = task_put(s, t);
	uint64_t now = lb_now_ms();

	if (res < 0 && delay >= 0) {
		cmd->last_err = res;
		if (cmd->cancelled) { /* fenced: its issuer has gone */
			iscsi_cmd_finish(s, cmd, -ECANCELED);
			return;
		}
		if (now >= cmd->deadline_ms || s->replacement_expired) {
			cmd_expire(s, cmd, now);
			return;
		}
		cmd->retry_at_ms = delay > 0 ? now + (uint64_t)delay : 0;
		s->stats.retries++;
		pending_push_front(s, cmd);
		iscsi_session_tick_arm(s);
		return;
	}
	iscsi_cmd_finish(s, cmd, res);
}

/* The target has answered: drop the task's PDUs not yet handed to the
 * kernel, and finish once none of its PDUs is in a sendmsg in flight (the
 * caller may free the buffer as soon as it completes). */
void iscsi_task_complete(struct iscsi_session *s, struct iscsi_task *t, int res,
			 int retry_delay_ms)
{
	t->nburst = 0;
	if (t->tx_refs && s->conn) {
		unsigned n = iscsi_conn_purge(s->conn, t->itt);

		t->tx_refs -= n < t->tx_refs ? n : t->tx_refs;
	}
	if (t->tx_refs && s->conn) {
		t->done_wait = true;
		t->done_res = res;
		t->done_delay = retry_delay_ms;
		return;
	}
	task_finish(s, t, res, retry_delay_ms);
}

static void feed_data_out(struct iscsi_session *s, struct iscsi_task *t);

void iscsi_task_tx_released(struct iscsi_session *s, uint32_t itt)
{
	struct iscsi_task *t = iscsi_task_lookup(s, itt);

	if (!t || !t->tx_refs)
		return;
	if (--t->tx_refs == 0 && t->done_wait) {
		task_finish(s, t, t->done_res, t->done_delay);
		return;
	}
	if (t->nburst && !t->done_wait)
		feed_data_out(s, t);
}

/* ---- submission ----------------------------------------------------------- */

int iscsi_session_submit(struct iscsi_session *s, struct iscsi_cmd *cmd)
{
	size_t total = 0;

	if (cmd->cdb_len == 0 || cmd->cdb_len > ISCSI_CDB_MAX || cmd->iovcnt > ISCSI_CMD_MAX_IOV ||
	    cmd->lun > SCSI_LUN_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < cmd->iovcnt; i++)
		total += cmd->iov[i].iov_len;
	if (total < cmd->length || (cmd->length && cmd->dir == ISCSI_DIR_NONE))
		return -EINVAL;
	if (s->freeing)
		return -ESHUTDOWN;
	switch (s->state) {
	case ISCSI_SESSION_FULL_FEATURE:
	case ISCSI_SESSION_RECOVERING:
		break;
	case ISCSI_SESSION_CONNECTING:
	case ISCSI_SESSION_LOGGING_IN:
		if (s->logged_in_once)
			break;
		return -ENOTCONN;
	case ISCSI_SESSION_FAILED:
		return -EIO;
	default:
		return -ENOTCONN;
	}
	if (s->logout_wanted)
		return -ESHUTDOWN;
	if (s->replacement_expired)
		return -EIO; /* fail fast until the session is back */
	if (s->cancel_cb)
		return -ECANCELED;
	cmd->status = 0;
	cmd->has_sense = false;
	cmd->residual = 0;
	cmd->tries = 0;
	cmd->retry_at_ms = 0;
	cmd->last_err = 0;
	cmd->in_doubt = false;
	cmd->cancelled = false;
	{
		uint32_t life = cmd->lifetime_ms ? cmd->lifetime_ms : s->cfg.request_timeout_ms;

		cmd->deadline_ms = life ? lb_now_ms() + life : UINT64_MAX;
	}
	s->stats.cmds++;
	pending_push_back(s, cmd);
	if (s->state == ISCSI_SESSION_FULL_FEATURE)
		iscsi_tasks_pump(s);
	iscsi_session_tick_arm(s); /* its lifetime and per-try timeout run now */
	return 0;
}

static int queue_pdu(struct iscsi_session *s, const union iscsi_hdr *bhs, struct iscsi_task *t,
		     uint32_t off, uint32_t len)
{
	const struct iscsi_cmd *cmd = t->cmd;
	struct iscsi_txbuf *tx = iscsi_txbuf_new();
	struct iovec win[ISCSI_CMD_MAX_IOV];
	int n = 0, r;

	if (!tx)
		return -ENOMEM;
	if (len) {
		n = iscsi_iov_slice(cmd->iov, cmd->iovcnt, off, len, win, ISCSI_CMD_MAX_IOV);
		if (n < 0) {
			iscsi_txbuf_free(tx);
			return n;
		}
	}
	r = iscsi_txbuf_frame(tx, bhs, win, (unsigned)n, &s->conn->limits, NULL);
	if (r < 0) {
		iscsi_txbuf_free(tx);
		return r;
	}
	if (len) {
		tx->itt = t->itt;
		t->tx_refs++;
	}
	iscsi_conn_queue(s->conn, tx);
	return 0;
}

/* Queue the next Data-Out PDUs of t's bursts (at most
 * MaxRecvDataSegmentLength each), ISCSI_DATA_OUT_INFLIGHT PDUs of the task
 * at a time; iscsi_task_tx_released() asks for more as they leave. */
static int queue_data_out(struct iscsi_session *s, struct iscsi_task *t)
{
	uint32_t max = s->params.max_xmit_dsl;
	uint8_t lun[8];

	(void)scsi_lun_encode(t->cmd->lun, lun);
	while (t->nburst && t->tx_refs < ISCSI_DATA_OUT_INFLIGHT) {
		struct iscsi_burst *b = &t->burst[0];
		uint32_t n = b->left < max ? b->left : max;
		union iscsi_hdr h;
		int r;

		iscsi_hdr_init(&h, ISCSI_OP_DATA_OUT, n == b->left ? ISCSI_FLAG_FINAL : 0);
		memcpy(h.data_out.lun, lun, 8);
		h.data_out.itt = htobe32(t->itt);
		h.data_out.ttt = htobe32(b->ttt);
		h.data_out.exp_statsn = htobe32(s->exp_statsn);
		h.data_out.datasn = htobe32(b->datasn);
		h.data_out.buffer_offset = htobe32(b->off);
		r = queue_pdu(s, &h, t, b->off, n);
		if (r < 0)
			return r;
		s->stats.data_out_pdus++;
		b->datasn++;
		b->off += n;
		b->left -= n;
		if (b->left == 0 && --t->nburst)
			t->burst[0] = t->burst[1];
	}
	return 0;
}

static void feed_data_out(struct iscsi_session *s, struct iscsi_task *t)
{
	if (s->conn && queue_data_out(s, t) < 0)
		iscsi_session_conn_failed(s, s->conn, -ENOMEM, "cannot queue Data-Out");
}

/* Data-Out for [off, off+len) in answer to ttt (or unsolicited). */
static int send_data_out(struct iscsi_session *s, struct iscsi_task *t, uint32_t ttt, uint32_t off,
			 uint32_t len)
{
	if (t->nburst == ARRAY_SIZE(t->burst))
		return lb_err_set(&s->err, EPROTO, "more outstanding R2Ts than negotiated");
	t->burst[t->nburst++] = (struct iscsi_burst){.ttt = ttt, .off = off, .left = len};
	return queue_data_out(s, t);
}

static int send_cmd(struct iscsi_session *s, struct iscsi_task *t, struct iscsi_cmd *cmd)
{
	uint32_t imm = 0, unsol = 0;
	uint8_t flags = ISCSI_ATTR_SIMPLE;
	union iscsi_hdr h;
	int r;

	t->cmd = cmd;
	t->state = ISCSI_TASK_ACTIVE;
	t->cmdsn = s->cmdsn++;
	t->exp_datasn = 0;
	t->data_in = 0;
	t->exp_r2tsn = 0;
	t->nburst = 0;
	t->deadline_ms = cmd->deadline_ms;
	if (s->cfg.cmd_timeout_ms && lb_now_ms() + s->cfg.cmd_timeout_ms < t->deadline_ms)
		t->deadline_ms = lb_now_ms() + s->cfg.cmd_timeout_ms;
	cmd->tries++;

	if (cmd->dir == ISCSI_DIR_WRITE && cmd->length) {
		uint32_t fb = s->params.first_burst;

		flags |= ISCSI_CMD_FLAG_WRITE;
		if (s->params.immediate_data) {
			imm = cmd->length < fb ? cmd->length : fb;
			if (imm > s->params.max_xmit_dsl)
				imm = s->params.max_xmit_dsl;
		}
		unsol = imm;
		if (!s->params.initial_r2t)
			unsol = cmd->length < fb ? cmd->length : fb;
	} else if (cmd->dir == ISCSI_DIR_READ) {
		flags |= ISCSI_CMD_FLAG_READ;
	}
	if (unsol == imm)
		flags |= ISCSI_FLAG_FINAL;
	iscsi_hdr_init(&h, ISCSI_OP_SCSI_CMD, flags);
	(void)scsi_lun_encode(cmd->lun, h.scsi_cmd.lun);
	h.scsi_cmd.itt = htobe32(t->itt);
	h.scsi_cmd.exp_data_len = htobe32(cmd->length);
	h.scsi_cmd.cmdsn = htobe32(t->cmdsn);
	h.scsi_cmd.exp_statsn = htobe32(s->exp_statsn);
	memcpy(h.scsi_cmd.cdb, cmd->cdb, cmd->cdb_len);
	r = queue_pdu(s, &h, t, 0, imm);
	if (r == 0 && unsol > imm)
		r = send_data_out(s, t, ISCSI_RESERVED_TAG, imm, unsol - imm);
	return r;
}

void iscsi_tasks_pump(struct iscsi_session *s)
{
	uint64_t now = lb_now_ms();

	while (s->state == ISCSI_SESSION_FULL_FEATURE && s->conn && s->pending_head &&
	       s->free_tasks && s->tmf != ISCSI_TMF_STATE_LUN_RESET && !s->in_doubt &&
	       iscsi_sn_window_room(s->cmdsn, s->max_cmdsn) > 0) {
		struct iscsi_cmd *cmd;
		struct iscsi_task *t;
		int r;

		/* a backoff holds the queue, as a busy device does in Linux */
		if (s->pending_head->retry_at_ms > now)
			break;
		cmd = pending_pop(s);
		if (cmd->cancelled) { /* fenced by the login that got here */
			iscsi_cmd_finish(s, cmd, -ECANCELED);
			continue;
		}
		if (now >= cmd->deadline_ms) {
			cmd_expire(s, cmd, now);
			continue;
		}
		t = task_get(s);
		r = send_cmd(s, t, cmd);

		if (r < 0) {
			/* it goes again after recovery */
			pending_push_front(s, task_put(s, t));
			iscsi_session_conn_failed(s, s->conn, r, "cannot queue a command");
			return;
		}
	}
	iscsi_session_maybe_logout(s);
}

/* ---- responses ------------------------------------------------------------ */

static struct iscsi_task *task_for(struct iscsi_session *s, uint32_t itt, const char *what)
{
	struct iscsi_task *t = iscsi_task_lookup(s, itt);

	if (!t) {
		lb_err_set(&s->err, EPROTO, "%s for unknown task tag 0x%08x", what, itt);
		iscsi_session_conn_failed(s, s->conn, -EPROTO, NULL);
	}
	return t;
}

static bool is_rw(uint8_t op)
{
	switch (op) {
	case 0x08: /* READ(6) */
	case 0x28: /* READ(10) */
	case 0xa8: /* READ(12) */
	case 0x88: /* READ(16) */
	case 0x0a: /* WRITE(6) */
	case 0x2a: /* WRITE(10) */
	case 0xaa: /* WRITE(12) */
	case 0x8a: /* WRITE(16) */
		return true;
	default:
		return false;
	}
}

/* The residual of a completed command (RFC 7143 §11.4.5): an underflow
 * is a short transfer, reported as the bytes done; an overflow, or an
 * underflow larger than the command, fails it (Linux answers both with
 * DID_BAD_TARGET).  Returns 0 or -EIO. */
static int residual_of(struct iscsi_session *s, struct iscsi_cmd *cmd, uint8_t flags,
		       uint32_t residual)
{
	char name[32];

	cmd->residual = 0;
	if ((flags & ISCSI_RSP_FLAG_OVERFLOW) && (flags & ISCSI_RSP_FLAG_UNDERFLOW)) {
		log_limited(s, "%s on LUN %u: both residual overflow and underflow set",
			    cmd_name(cmd, name, sizeof(name)), cmd->lun);
		return -EIO;
	}
	if (flags & ISCSI_RSP_FLAG_OVERFLOW) {
		log_limited(s,
			    "%s on LUN %u: residual overflow: the target meant %u bytes more "
			    "than the %u expected",
			    cmd_name(cmd, name, sizeof(name)), cmd->lun, residual, cmd->length);
		return -EIO;
	}
	if (!(flags & ISCSI_RSP_FLAG_UNDERFLOW) || residual == 0)
		return 0;
	if (residual > cmd->length) {
		log_limited(s,
			    "%s on LUN %u: residual underflow of %u bytes is more than the %u "
			    "expected",
			    cmd_name(cmd, name, sizeof(name)), cmd->lun, residual, cmd->length);
		return -EIO;
	}
	cmd->residual = residual;
	/* short answers are normal for INQUIRY, MODE SENSE and the like
	 * (the allocation length is a maximum); for READ and WRITE they are
	 * worth a line */
	if (is_rw(cmd->cdb[0]))
		log_limited(s, "%s on LUN %u: residual underflow: %u of %u bytes transferred",
			    cmd_name(cmd, name, sizeof(name)), cmd->lun, cmd->length - residual,
			    cmd->length);
	return 0;
}

/* A read that reports success must have delivered every byte it claims. */
static int check_read_coverage(struct iscsi_session *s, const struct iscsi_task *t, int res)
{
	const struct iscsi_cmd *cmd = t->cmd;

	if (res >= 0 && cmd->dir == ISCSI_DIR_READ && t->data_in < cmd->length - cmd->residual) {
		log_limited(s, "target reported %u bytes read but sent %u",
			    cmd->length - cmd->residual, t->data_in);
		return -EIO;
	}
	return res;
}

/* The command's status (and sense) through the retry table: complete,
 * retry now or after a pause, or fail; the sense reaches the log. */
static void task_status(struct iscsi_session *s, struct iscsi_task *t, int residual_res)
{
	struct iscsi_cmd *cmd = t->cmd;
	const struct iscsi_sense *sense = cmd->has_sense ? &cmd->sense : NULL;
	struct iscsi_retry_decision d;
	char name[32], words[256];

	iscsi_retry_decide(cmd->status, sense, cmd->tries, cmd->dir == ISCSI_DIR_WRITE, &d);
	/* every new I_T nexus starts with a power-on/reset unit attention:
	 * retried without a line, as Linux does */
	if (d.event == ISCSI_EVENT_RESET)
		d.log = false;
	/* a probe's expected refusals (a VPD page the LUN lacks) are no news */
	if (cmd->quiet && d.action == ISCSI_RETRY_FAIL)
		d.log = false;
	if (d.log || (d.event != ISCSI_EVENT_NONE && d.event != ISCSI_EVENT_RESET)) {
		if (sense)
			iscsi_sense_describe(sense, words, sizeof(words));
		else
			snprintf(words, sizeof(words), "%s", iscsi_scsi_status_name(cmd->status));
		log_limited(s, "%s on LUN %u: %s%s", cmd_name(cmd, name, sizeof(name)), cmd->lun,
			    words, d.action == ISCSI_RETRY_FAIL ? "" : "; retrying");
	}
	if (d.event != ISCSI_EVENT_NONE && s->event_fn)
		s->event_fn(s->event_arg, d.event, sense);
	switch (d.action) {
	case ISCSI_RETRY_NONE:
		iscsi_task_complete(s, t,
				    residual_res < 0 ? residual_res
						     : check_read_coverage(
							       s, t, (int)(cmd->length - cmd->residual)),
				    -1);
		return;
	case ISCSI_RETRY_NOW:
		iscsi_task_complete(s, t, d.err < 0 ? d.err : -EAGAIN, 0);
		return;
	case ISCSI_RETRY_BACKOFF:
		iscsi_task_complete(s, t, d.err < 0 ? d.err : -EAGAIN, (int)d.delay_ms);
		return;
	case ISCSI_RETRY_FAIL:
	default:
		iscsi_task_complete(s, t, d.err < 0 ? d.err : -EIO, -1);
		return;
	}
}

void iscsi_task_rx_scsi_rsp(struct iscsi_session *s, const union iscsi_hdr *h, const uint8_t *data,
			    uint32_t len)
{
	const struct iscsi_scsi_rsp_hdr *rsp = &h->scsi_rsp;
	struct iscsi_task *t = task_for(s, be32toh(rsp->itt), "SCSI Response");
	struct iscsi_cmd *cmd;
	int res;

	if (!t)
		return;
	cmd = t->cmd;
	iscsi_session_update_statsn(s, be32toh(rsp->statsn));
	iscsi_session_update_window(s, be32toh(rsp->exp_cmdsn), be32toh(rsp->max_cmdsn));
	if (rsp->response != ISCSI_RSP_COMPLETED) {
		log_limited(s, "target failure (response 0x%02x) for a command on LUN %u; retrying",
			    rsp->response, cmd->lun);
		iscsi_task_complete(s, t, -EIO, 100);
		return;
	}
	cmd->status = rsp->status;
	res = residual_of(s, cmd, rsp->flags, be32toh(rsp->residual));
	if (len) {
		const uint8_t *sense;
		size_t slen;

		if (iscsi_sense_from_segment(data, len, &sense, &slen) < 0) {
			iscsi_session_conn_failed(s, s->conn, -EPROTO,
						  "SCSI Response sense length overruns its data");
			return;
		}
		if (sense && iscsi_sense_parse(sense, slen, &cmd->sense) == 0)
			cmd->has_sense = true;
	}
	task_status(s, t, res);
}

int iscsi_task_data_in_dest(struct iscsi_session *s, struct iscsi_conn *c)
{
	const struct iscsi_data_in_hdr *d = &c->rx.hdr.data_in;
	struct iscsi_task *t = iscsi_task_lookup(s, be32toh(d->itt));
	uint32_t off = be32toh(d->buffer_offset), len = c->rx.data_len;
	int n;

	if (!t)
		return lb_err_set(&s->err, EPROTO, "Data-In for unknown task tag 0x%08x",
				  be32toh(d->itt));
	if (t->cmd->dir != ISCSI_DIR_READ)
		return lb_err_set(&s->err, EPROTO, "Data-In for a command that reads nothing");
	if (be32toh(d->datasn) != t->exp_datasn)
		return lb_err_set(&s->err, EPROTO, "Data-In DataSN %u, expected %u",
				  be32toh(d->datasn), t->exp_datasn);
	/* in order even where DataPDUInOrder=No was negotiated (we offer Yes,
	 * and the key is an OR, so only a caller that offers No gets there):
	 * the count of bytes received is what says a READ is complete, and
	 * overlapping PDUs must not make up for missing ones */
	if (off != t->data_in)
		return lb_err_set(&s->err, EPROTO, "Data-In at offset %u, expected %u", off,
				  t->data_in);
	if (off > t->cmd->length || len > t->cmd->length - off)
		return lb_err_set(&s->err, EPROTO,
				  "Data-In of %u bytes at offset %u overruns the %u-byte buffer",
				  len, off, t->cmd->length);
	n = iscsi_iov_slice(t->cmd->iov, t->cmd->iovcnt, off, len, c->rx_iov, ISCSI_CMD_MAX_IOV);
	if (n < 0)
		return lb_err_set(&s->err, EPROTO, "Data-In does not fit the buffer");
	c->rx_iovcnt = (unsigned)n;
	return 1;
}

void iscsi_task_rx_data_in(struct iscsi_session *s, const union iscsi_hdr *h)
{
	const struct iscsi_data_in_hdr *d = &h->data_in;
	struct iscsi_task *t = task_for(s, be32toh(d->itt), "Data-In");
	uint32_t len = iscsi_hdr_dlength(h);
	struct iscsi_cmd *cmd;

	if (!t)
		return;
	cmd = t->cmd;
	if (len == 0 && be32toh(d->datasn) != t->exp_datasn) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "Data-In out of sequence");
		return;
	}
	t->exp_datasn++;
	t->data_in += len;
	s->stats.data_in_pdus++;
	iscsi_session_update_window(s, be32toh(d->exp_cmdsn), be32toh(d->max_cmdsn));
	if (!(d->flags & ISCSI_DATA_IN_FLAG_STATUS))
		return;
	if (!(d->flags & ISCSI_FLAG_FINAL)) {
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "Data-In with status but not final");
		return;
	}
	iscsi_session_update_statsn(s, be32toh(d->statsn));
	cmd->status = d->status;
	task_status(s, t, residual_of(s, cmd, d->flags, be32toh(d->residual)));
}

void iscsi_task_rx_r2t(struct iscsi_session *s, const union iscsi_hdr *h)
{
	const struct iscsi_r2t_hdr *r2t = &h->r2t;
	struct iscsi_task *t = task_for(s, be32toh(r2t->itt), "R2T");
	uint32_t off = be32toh(r2t->buffer_offset), len = be32toh(r2t->desired_len);
	uint32_t ttt = be32toh(r2t->ttt);
	int r;

	if (!t)
		return;
	iscsi_session_update_window(s, be32toh(r2t->exp_cmdsn), be32toh(r2t->max_cmdsn));
	if (t->cmd->dir != ISCSI_DIR_WRITE || ttt == ISCSI_RESERVED_TAG || len == 0 ||
	    len > s->params.max_burst || off > t->cmd->length || len > t->cmd->length - off ||
	    be32toh(r2t->r2tsn) != t->exp_r2tsn) {
		lb_err_set(&s->err, EPROTO,
			   "bad R2T (R2TSN %u, offset %u, length %u) for a %u-byte command",
			   be32toh(r2t->r2tsn), off, len, t->cmd->length);
		iscsi_session_conn_failed(s, s->conn, -EPROTO, NULL);
		return;
	}
	t->exp_r2tsn++;
	s->stats.r2ts++;
	/* answered even while an abort of the task is under way: the
	 * initiator must keep responding to the TTTs it receives (RFC 7143
	 * §11.5.1) */
	r = send_data_out(s, t, ttt, off, len);
	if (r < 0)
		iscsi_session_conn_failed(s, s->conn, r, "cannot queue Data-Out");
}

void iscsi_task_rx_reject(struct iscsi_session *s, const union iscsi_hdr *rejected, uint8_t reason)
{
	struct iscsi_task *t = iscsi_task_lookup(s, be32toh(rejected->bhs.itt));

	if (!t || t->done_wait)
		return;
	if (iscsi_hdr_opcode(rejected) != ISCSI_OP_SCSI_CMD) {
		/* a rejected Data-Out leaves the command with the target
		 * (RFC 7143 §7.8); at ERL 0 we cannot repair it: reconnect */
		iscsi_session_conn_failed(s, s->conn, -EPROTO, "target rejected a Data-Out PDU");
		return;
	}
	/* a digest error, a long operation, a target waiting for our logout:
	 * worth another try (after a pause, within the lifetime); anything
	 * else fails the command */
	iscsi_task_complete(s, t, -EIO, iscsi_reject_retryable(reason) ? 500 : -1);
}

/* ---- recovery and failure --------------------------------------------------- */

static int cmp_cmdsn(const void *a, const void *b)
{
	const struct iscsi_task *x = *(struct iscsi_task *const *)a;
	const struct iscsi_task *y = *(struct iscsi_task *const *)b;

	return iscsi_sn_lt(x->cmdsn, y->cmdsn) ? -1 : iscsi_sn_gt(x->cmdsn, y->cmdsn) ? 1 : 0;
}

void iscsi_tasks_requeue_all(struct iscsi_session *s)
{
	struct iscsi_task **order = calloc(s->n_tasks, sizeof(*order));
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->n_tasks; i++) {
		struct iscsi_task *t = &s->tasks[i];

		if (t->state != ISCSI_TASK_FREE && t->done_wait)
			task_finish(s, t, t->done_res, t->done_delay);
	}
	for (uint32_t i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].state != ISCSI_TASK_FREE) {
			/* it reached the target, or may have: not sent again
			 * nor failed before the next login fences it */
			if (!s->in_doubt++)
				s->fence_tpgt = s->tpgt;
			s->tasks[i].cmd->in_doubt = true;
			if (order)
				order[n++] = &s->tasks[i];
			else /* out of memory: order by slot */
				pending_push_front(s, task_put(s, &s->tasks[i]));
		}
	if (!order)
		return;
	qsort(order, n, sizeof(*order), cmp_cmdsn);
	/* oldest first at the head of the queue */
	while (n-- > 0)
		pending_push_front(s, task_put(s, order[n]));
	free(order);
}

/* Clear the doubt of the queued commands on lun (all LUNs: UINT32_MAX). */
static unsigned clear_doubt(struct iscsi_session *s, uint32_t lun)
{
	unsigned n = 0;

	for (struct iscsi_cmd *c = s->pending_head; c; c = c->next)
		if (c->in_doubt && (lun == UINT32_MAX || c->lun == lun)) {
			c->in_doubt = false;
			s->in_doubt--;
			n++;
		}
	return n;
}

void iscsi_tasks_reinstated(struct iscsi_session *s)
{
	s->replacement_expired = false;
	if (!s->in_doubt) {
		s->fence_reset = false;
		return;
	}
	if (s->tpgt == s->fence_tpgt && !s->fence_reset) {
		unsigned n = clear_doubt(s, UINT32_MAX);

		iscsi_session_log(s,
				  "reinstatement ended the old session's tasks: its %u commands go "
				  "again or fail by their lifetime",
				  n);
		return;
	}
	if (s->tmf != ISCSI_TMF_STATE_NONE)
		return; /* the fence under way calls again */
	for (struct iscsi_cmd *c = s->pending_head; c; c = c->next)
		if (c->in_doubt) {
			iscsi_session_log(s,
					  "target portal group changed from %d to %d: a new I_T "
					  "nexus does not end the old session's tasks; resetting "
					  "LUN %u before its %u commands in doubt go again",
					  (int)s->fence_tpgt, (int)s->tpgt, c->lun, s->in_doubt);
			s->fence_reset = true;
			iscsi_task_fence_lun(s, c->lun);
			return;
		}
}

void iscsi_task_fence_done(struct iscsi_session *s, uint32_t lun)
{
	clear_doubt(s, lun);
	iscsi_tasks_reinstated(s);
}

/* Remove from the pending queue the commands pred selects, finishing each
 * with res (or by its lifetime). */
static void pending_sweep(struct iscsi_session *s, bool (*pred)(const struct iscsi_cmd *, uint64_t),
			  uint64_t now, int res)
{
	struct iscsi_cmd *keep_head = NULL, *keep_tail = NULL, *done_head = NULL, **done_tail = &done_head;
	struct iscsi_cmd *c;

	while ((c = pending_pop(s))) {
		if (pred(c, now)) {
			*done_tail = c;
			done_tail = &c->next;
			continue;
		}
		if (keep_tail)
			keep_tail->next = c;
		else
			keep_head = c;
		keep_tail = c;
	}
	s->pending_head = keep_head;
	s->pending_tail = keep_tail;
	*done_tail = NULL;
	/* callbacks last: they may submit */
	while ((c = done_head)) {
		done_head = c->next;
		c->next = NULL;
		if (res)
			iscsi_cmd_finish(s, c, res);
		else
			cmd_expire(s, c, now);
	}
}

static bool unsent(const struct iscsi_cmd *c, uint64_t now)
{
	(void)now;
	return !c->in_doubt;
}

static bool expired(const struct iscsi_cmd *c, uint64_t now)
{
	return !c->in_doubt && now >= c->deadline_ms;
}

void iscsi_tasks_fail_unsent(struct iscsi_session *s, int res)
{
	pending_sweep(s, unsent, lb_now_ms(), res);
}

void iscsi_tasks_expire(struct iscsi_session *s, uint64_t now)
{
	pending_sweep(s, expired, now, 0);
}

void iscsi_tasks_fail_all(struct iscsi_session *s, int res)
{
	struct iscsi_cmd *cmd;

	for (uint32_t i = 0; i < s->n_tasks; i++) {
		struct iscsi_task *t = &s->tasks[i];

		if (t->state != ISCSI_TASK_FREE && t->done_wait)
			task_finish(s, t, t->done_res, -1);
	}
	for (uint32_t i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].state != ISCSI_TASK_FREE)
			pending_push_back(s, task_put(s, &s->tasks[i]));
	s->in_doubt = 0;
	s->fence_reset = false;
	while ((cmd = pending_pop(s)))
		cmd_done(cmd, res);
	iscsi_tasks_cancel_check(s);
}

int iscsi_session_cancel(struct iscsi_session *s, iscsi_session_cb cb, void *arg)
{
	uint64_t now = lb_now_ms();

	if (s->cancel_cb)
		return -EBUSY;
	s->cancel_cb = cb;
	s->cancel_arg = arg;
	for (struct iscsi_cmd *c = s->pending_head; c; c = c->next)
		c->cancelled = true;
	for (uint32_t i = 0; i < s->n_tasks; i++) {
		struct iscsi_task *t = &s->tasks[i];

		if (t->state == ISCSI_TASK_FREE)
			continue;
		t->cmd->cancelled = true;
		/* the tick aborts it (task-management.c): only a confirmed
		 * abort, LUN reset or reinstatement ends it */
		if (t->state == ISCSI_TASK_ACTIVE && !t->done_wait)
			t->deadline_ms = now;
	}
	/* what never reached the target ends now */
	iscsi_tasks_fail_unsent(s, -ECANCELED);
	iscsi_tasks_cancel_check(s);
	if (s->cancel_cb)
		iscsi_session_tick_arm(s);
	return 0;
}
