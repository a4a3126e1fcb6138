/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The full feature phase's PDUs that are not SCSI (NOP-In, Async Message,
 * Text, Reject), the received PDU's dispatch (SCSI ones to task.c), the
 * StatSN and CmdSN window bookkeeping, and sending a small PDU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"
#include "session-internal.h"

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
	/* the target asked us to log out: the window stays closed to new
	 * commands (see hold_new_commands()) */
	if (iscsi_sn_gt(max_cmdsn, s->max_cmdsn) && !s->async_logout)
		s->max_cmdsn = max_cmdsn;
}

/* After "target requests logout" no new command may start on this
 * session: the task pump starts commands only while the CmdSN window has
 * room, so close our view of it (MaxCmdSN = CmdSN - 1, an empty window as
 * RFC 7143 §4.2.2.1 allows a target to set).  The login of the next
 * session sets a fresh window from its Login Response. */
static void hold_new_commands(struct iscsi_session *s)
{
	s->max_cmdsn = s->cmdsn - 1;
}

bool iscsi_reject_retryable(uint8_t reason)
{
	switch (reason) {
	case ISCSI_REJECT_DIGEST_ERROR:	      /* the PDU was damaged, not executed */
	case ISCSI_REJECT_IMM_CMD_REJECT:     /* too many immediate commands */
	case ISCSI_REJECT_LONG_OP_REJECT:     /* out of resources for a transfer tag */
	case ISCSI_REJECT_WAITING_FOR_LOGOUT: /* it asked for a logout: after it */
		return true;
	default:
		return false;
	}
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

/* AsyncEvent 1: the target wants the session to log out within
 * Parameter3 seconds.  No new command starts; the ones in flight may
 * finish until shortly before that deadline; then the Logout (close the
 * session) goes, and after its response the session logs in again, as a
 * new session with the same ISID, no sooner than Time2Wait
 * (session-logout.c).  Commands queued meanwhile wait for it. */
static void async_logout_requested(struct iscsi_session *s, uint16_t within_s)
{
	uint64_t now = lb_now_ms();
	/* leave a second of the target's time for the Logout itself */
	uint64_t drain_ms = within_s > 1 ? (uint64_t)(within_s - 1) * 1000 : 0;

	iscsi_session_log(s, "target requests logout in %u s", within_s);
	if (s->async_logout)
		return; /* asked again: the first deadline stands */
	s->async_logout = true;
	s->async_logout_sent = false;
	s->async_logout_by_ms = now + drain_ms;
	hold_new_commands(s);
	iscsi_session_maybe_logout(s);
}

/* AsyncEvent 2 and 3: the target will drop the connection (or all of the
 * session's).  As open-iscsi's iscsid does, the connection stays until the
 * target drops it (the commands in flight may still finish), and the
 * reconnect then waits Parameter2 (Time2Wait) seconds instead of the
 * negotiated DefaultTime2Wait.  Parameter3 (Time2Retain) is how long the
 * target keeps the old session's tasks; at ErrorRecoveryLevel 0 the
 * reinstatement ends them in any case, so it is only logged. */
static void async_drop(struct iscsi_session *s, const char *what, uint16_t time2wait,
		       uint16_t time2retain)
{
	iscsi_session_log(s,
			  "target will drop %s; reconnecting after Time2Wait %u s "
			  "(Time2Retain %u s)",
			  what, time2wait, time2retain);
	s->time2wait_ms = (uint32_t)time2wait * 1000;
}

static void rx_async(struct iscsi_session *s, const union iscsi_hdr *h, const uint8_t *data,
		     uint32_t len)
{
	uint8_t event = h->async.async_event;
	uint16_t param2 = be16toh(h->async.param2), param3 = be16toh(h->async.param3);

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
		async_logout_requested(s, param3);
		break;
	case ISCSI_ASYNC_DROP_CONNECTION:
		async_drop(s, "the connection", param2, param3);
		break;
	case ISCSI_ASYNC_DROP_ALL_CONNECTIONS:
		async_drop(s, "all connections", param2, param3);
		break;
	case ISCSI_ASYNC_RENEGOTIATE:
		/* As iscsid does ("Received async event param negotiation,
		 * dropping session"): drop the connection; the reinstatement's
		 * login negotiates every parameter afresh.  Text-based
		 * renegotiation in the full feature phase is not done. */
		iscsi_session_conn_failed(
			s, s->conn, 0, "target asks to renegotiate parameters; logging in again");
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
	iscsi_session_tick_arm(s); /* its deadline runs now */
	return 0;
}

const char *iscsi_session_text_result(const struct iscsi_session *s, size_t *ret_len)
{
	*ret_len = s->text_seq.len;
	return s->text_seq.buf ? s->text_seq.buf : "";
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
		iscsi_session_rx_login(s, c, data);
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
		iscsi_session_rx_logout(s, h);
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
	iscsi_session_tick_arm(s); /* an answer may have begun work (a logout, an R2T) */
}
