/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the initiator: the session (session.c and its phases in
 * session-login.c, session-full-feature.c, session-logout.c,
 * session-recovery.c and session-tick.c), conn.c (the socket and PDU
 * framing on io_uring) and task.c with task-management.c (SCSI commands in
 * the full feature phase, their timeouts and aborts).
 */
#ifndef LUNBRIDGE_ISCSI_SESSION_INTERNAL_H
#define LUNBRIDGE_ISCSI_SESSION_INTERNAL_H

#include <sys/socket.h>

#include "login.h"
#include "pdu.h"
#include "session.h"
#include "text.h"

#define ISCSI_TX_IOV_MAX 256
#define ISCSI_MAX_TASKS 4096
#define ISCSI_MAX_REDIRECTS 5
#define ISCSI_TICK_MS 100
/* Data-Out PDUs of one task queued at a time: memory per task does not
 * grow with MaxBurstLength / MaxRecvDataSegmentLength. */
#define ISCSI_DATA_OUT_INFLIGHT 64

/* ITTs: tasks use (generation << 16 | slot) with the top bit clear; the
 * session's own requests (login, NOP ping, TMF, text, logout) set it. */
#define ISCSI_ITT_SESSION 0x80000000u
#define ISCSI_ITT_SLOT(itt) ((itt)&0xffffu)

/* One outgoing PDU: framing plus the data it points to. */
struct iscsi_txbuf {
	struct iscsi_txbuf *next;
	uint32_t itt; /* the task whose buffer it sends, or ISCSI_RESERVED_TAG */
	struct iscsi_pdu_tx frame;
	struct iovec iov[ISCSI_CMD_MAX_IOV + 2];
	unsigned iovcnt;
	uint8_t *owned; /* data we copied (text, NOP echo), freed with it */
};

enum iscsi_rx_stage {
	ISCSI_RX_BHS,
	ISCSI_RX_HEADER,
	ISCSI_RX_DATA,
};

struct iscsi_conn {
	struct iscsi_session *s;
	int fd;
	bool dead;
	unsigned ops; /* SQEs in flight for this connection */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct __kernel_timespec connect_ts;
	struct lb_op connect_op, link_timeout_op, rx_op, tx_op;
	struct iscsi_pdu_limits limits;
	uint64_t last_rx_ms;

	/* receive: BHS (+AHS, header digest), then the data segment either into
	 * rx_buf or straight into a task's buffers */
	enum iscsi_rx_stage rx_stage;
	uint8_t rx_hdr[ISCSI_BHS_LEN + ISCSI_AHS_MAX_LEN + ISCSI_DIGEST_LEN];
	size_t rx_have, rx_want;
	struct iscsi_pdu_rx rx;
	uint8_t *rx_buf;
	size_t rx_buf_cap;
	bool rx_direct;
	uint8_t rx_trailer[3 + ISCSI_DIGEST_LEN];
	struct iovec rx_iov[ISCSI_CMD_MAX_IOV + 1];
	unsigned rx_iovcnt, rx_iov_pos;
	struct iovec rx_win[ISCSI_CMD_MAX_IOV]; /* the task window, for the digest */
	unsigned rx_wincnt;
	struct msghdr rx_msg;
	/* what one RECV brought beyond the current PDU stage: many small PDUs
	 * arrive per receive; only large data segments bypass it */
	uint8_t *rxs;
	size_t rxs_off, rxs_len;
	bool rx_into_stage; /* the RECV in flight fills rxs */
	bool rx_stopped;    /* the session took the connection off */

	/* send: one sendmsg in flight carrying a batch of PDUs */
	struct iscsi_txbuf *txq_head, *txq_tail; /* waiting */
	struct iscsi_txbuf *tx_batch;		 /* in flight */
	struct iovec tx_iov[ISCSI_TX_IOV_MAX];
	unsigned tx_iovcnt, tx_iov_pos;
	struct msghdr tx_msg;
};

enum iscsi_task_state {
	ISCSI_TASK_FREE,
	ISCSI_TASK_ACTIVE,   /* sent, waiting for the target */
	ISCSI_TASK_ABORTING, /* ABORT TASK sent */
};

struct iscsi_task {
	struct iscsi_cmd *cmd;
	enum iscsi_task_state state;
	uint32_t itt;
	uint16_t gen;
	uint32_t cmdsn;
	uint32_t exp_datasn; /* next Data-In */
	uint32_t data_in;    /* bytes received, in order */
	uint32_t exp_r2tsn;
	uint64_t deadline_ms; /* this try's: abort when it passes */
	/* Data-Out bursts being sent (unsolicited, then one per R2T; with
	 * MaxOutstandingR2T 1 at most two at once), a few PDUs at a time */
	struct iscsi_burst {
		uint32_t ttt, off, left, datasn;
	} burst[2];
	unsigned nburst;
	struct iscsi_task *next_free;
	/* PDUs queued or in flight that send from the command's buffer: the
	 * caller gets its buffer back only once they are all gone */
	uint32_t tx_refs;
	bool done_wait; /* answered; completion held for tx_refs */
	int done_res;
	int done_delay;
};

enum iscsi_tmf_state {
	ISCSI_TMF_STATE_NONE,
	ISCSI_TMF_STATE_ABORT,
	ISCSI_TMF_STATE_LUN_RESET,
};

struct iscsi_session {
	struct lb_loop *loop;
	struct iscsi_session_config cfg;
	iscsi_session_state state;
	lb_err err;
	iscsi_log_fn log_fn;
	void *log_arg;
	struct iscsi_session_stats stats;
	bool freeing;
	unsigned ops; /* session-level SQEs in flight (the tick) */

	/* where we connect: the configured portal, or a redirection */
	char host[256];
	uint16_t port;
	char portal[300];
	unsigned redirects;

	struct iscsi_conn *conn;
	struct iscsi_login *login;
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t cid;
	struct iscsi_params params;
	int32_t tpgt;
	uint64_t attempt_deadline_ms;

	/* sequence numbers */
	uint32_t cmdsn, exp_cmdsn, max_cmdsn, exp_statsn;
	uint32_t itt_seq;

	/* tasks */
	struct iscsi_task *tasks;
	uint32_t n_tasks;
	struct iscsi_task *free_tasks;
	uint32_t active;
	struct iscsi_cmd *pending_head, *pending_tail;

	/* NOP-Out ping */
	uint32_t ping_itt;
	uint64_t ping_sent_ms; /* 0: none outstanding */

	/* task management */
	enum iscsi_tmf_state tmf;
	uint32_t tmf_itt;
	uint32_t tmf_lun;
	struct iscsi_task *tmf_task;
	uint64_t tmf_deadline_ms;
	iscsi_session_cb reset_cb; /* iscsi_session_reset_lun() under way */
	void *reset_arg;

	/* text (discovery) */
	uint32_t text_itt;
	bool text_active;
	uint64_t text_deadline_ms;
	struct iscsi_text_seq text_seq;
	iscsi_session_cb text_cb;
	void *text_arg;

	/* login / logout completions */
	iscsi_session_cb login_cb, logout_cb;
	void *login_arg, *logout_arg;
	bool logged_in_once;
	bool logout_wanted;
	uint32_t logout_itt;
	uint64_t logout_deadline_ms;

	/* fencing: commands in doubt were sent on a connection that is gone;
	 * reinstatement in the same portal group (fence_tpgt) clears them, a
	 * new nexus needs a LOGICAL UNIT RESET first */
	unsigned in_doubt;
	int32_t fence_tpgt;
	bool fence_reset; /* the LUN reset under way is a fence */
	bool replacement_expired;
	/* the last connection was declared dead by an unanswered NOP-Out
	 * ping (a silent link, not a close), and no login has succeeded since */
	bool link_silent;
	iscsi_session_cb cancel_cb; /* iscsi_session_cancel() under way */
	void *cancel_arg;
	iscsi_event_fn event_fn;
	void *event_arg;
	uint64_t sense_log_ms; /* rate limit of sense lines */
	unsigned sense_log_dropped;

	/* recovery */
	uint64_t recovery_start_ms;
	uint64_t next_attempt_ms;
	unsigned attempt;

	/* the tick */
	struct lb_op tick_op;
	struct __kernel_timespec tick_ts;
	bool tick_quiet;   /* armed (or not) for a quiet session: until the ping */
	bool tick_cutting; /* a cancellation of the quiet sleep is under way */
	bool tick_for_answer; /* the quiet sleep ends at a ping's deadline */

	/* Logins and async events (session-login.c, session-full-feature.c,
	 * session-logout.c).  A fresh attempt (first login, each reconnect)
	 * starts at home: the configured portal, or where a permanent
	 * redirection (0102) sent us; home_addr is resolved once, at the
	 * first login, so that no reconnect blocks on name resolution. */
	char home_host[256];
	uint16_t home_port;
	bool home_moved;    /* home is a permanent redirection */
	bool home_resolved; /* home_addr (and cfg_addr) are valid */
	struct sockaddr_storage home_addr, cfg_addr;
	socklen_t home_addrlen, cfg_addrlen;
	bool attempt_from_moved_home; /* this attempt started at a moved home */
	bool attempt_connected;	      /* this attempt's TCP connect succeeded */
	char redirect_path[512];      /* "A -> B -> C" of this attempt */
	unsigned login_busy_retries;  /* first login: 0301/0302 retried so far */
	uint64_t first_attempt_ms;    /* first login: when it began */
	/* Time2Wait before a reconnect: DefaultTime2Wait as negotiated, or
	 * Parameter2 of the target's last "will drop" Async Message */
	uint32_t time2wait_ms;
	/* Async Message "target requests logout" (AsyncEvent 1) */
	bool async_logout;	     /* asked: no new commands, logout once drained */
	bool async_logout_sent;	     /* our Logout Request is out */
	uint64_t async_logout_by_ms; /* Parameter3: the Logout goes by then */
	/* The target portal group of the previous login; nexus_changed is set
	 * on each reinstatement whose TPGT differs from it: the old session's
	 * commands were not fenced by the reinstatement (a new I_T nexus). */
	int32_t prev_tpgt;
	bool nexus_changed;
};

/* session.c: construction, state, log, accessors */
void iscsi_session_log(struct iscsi_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint32_t iscsi_session_next_itt(struct iscsi_session *s);
/* Set s->state to st; it has no other effect. */
void iscsi_session_set_state(struct iscsi_session *s, iscsi_session_state st);

/* session-login.c: connect and login */
/* Resolve s->host:s->port, open a connection and start connecting (state
 * CONNECTING, tick armed); -errno with the reason in s->err. */
int iscsi_session_start_attempt(struct iscsi_session *s);
/* The connect of c has completed: start the login on it (ignored unless c
 * is still s->conn). */
void iscsi_session_connected(struct iscsi_session *s, struct iscsi_conn *c);
/* Append portal to path ("A -> B"), the portals one attempt has visited:
 * -ELOOP if it is already there (a redirection loop; path then names the
 * loop, ending in portal), -EMSGSIZE if it does not fit. */
int iscsi_redirect_path_add(char *path, size_t cap, const char *portal);
/* Resolve the configured portal now, if not yet done: the first login does
 * it in its caller's context (a host name may block there, once); every
 * later attempt reuses the address.  -errno with the reason in s->err. */
int iscsi_session_resolve_home(struct iscsi_session *s);
/* Call the login callback, if one waits, with res, and forget it. */
void iscsi_session_login_finished(struct iscsi_session *s, int res);
/* A PDU while logging in: feed login.c, then send the next request, follow
 * a redirection or enter the full feature phase; failures go to
 * iscsi_session_conn_failed(). */
void iscsi_session_rx_login(struct iscsi_session *s, struct iscsi_conn *c, const uint8_t *data);

/* session-recovery.c: connection loss and recovery */
void iscsi_session_conn_failed(struct iscsi_session *s, struct iscsi_conn *c, int res,
			       const char *reason);
/* Give up: close the connection, state FAILED, fail every command with res
 * (-EIO for -ETIMEDOUT) and call the text, login and logout callbacks. */
void iscsi_session_fail(struct iscsi_session *s, int res);
/* How long to wait before reconnect attempt number attempt (200 ms to 8 s). */
uint32_t iscsi_session_backoff_ms(unsigned attempt);
/* Reconnect no sooner than delay_ms from now (Time2Wait after a logout the
 * target asked for, a busy target): the connection closes, the tasks are
 * requeued as on a lost connection, and the tick starts the next attempt.
 * reason (may be NULL) is logged with the delay. */
void iscsi_session_reconnect_after(struct iscsi_session *s, uint32_t delay_ms, const char *reason);

/* session-full-feature.c: PDUs that are not SCSI, and the dispatch */
/* A complete PDU: data is rx_buf (or NULL when it went to a task). */
void iscsi_session_rx_pdu(struct iscsi_session *s, struct iscsi_conn *c, const uint8_t *data);
/* Header received: where its data goes.  Returns 1 (task iovecs filled in
 * c->rx_iov), 0 (use rx_buf), or -EPROTO (reason in s->err). */
int iscsi_session_rx_dest(struct iscsi_session *s, struct iscsi_conn *c);
void iscsi_session_update_statsn(struct iscsi_session *s, uint32_t statsn);
void iscsi_session_update_window(struct iscsi_session *s, uint32_t exp_cmdsn, uint32_t max_cmdsn);
int iscsi_session_send_small(struct iscsi_session *s, const union iscsi_hdr *bhs, const void *data,
			     size_t len);
/* A Reject with this reason (RFC 7143 §11.17.1) leaves the rejected
 * command unexecuted for a passing reason: retry it later rather than fail
 * it.  True for 0x02 data digest error, 0x06 immediate command reject (too
 * many immediate commands), 0x0a long operation reject (out of resources)
 * and 0x0c waiting for logout. */
bool iscsi_reject_retryable(uint8_t reason);

/* session-logout.c */
/* A Logout Response: an unexpected one fails the connection; else close
 * it, state CLOSED, and call the logout callback with 0. */
void iscsi_session_rx_logout(struct iscsi_session *s, const union iscsi_hdr *h);
/* Called by the task pump: send the Logout once the queue has drained. */
void iscsi_session_maybe_logout(struct iscsi_session *s);

/* session-tick.c: timeouts, reconnect attempts, the NOP-Out ping */
/* Prepare s->tick_op; once, from iscsi_session_new(). */
void iscsi_session_tick_init(struct iscsi_session *s);
/* Arm the tick: in 100 ms, or for a quiet session (nothing under way)
 * when its next ping is due.  Armed already: a quiet sleep is cut short
 * if work has begun.  Nothing when the session is being freed, idle,
 * closed or failed; it re-arms itself after each run.  Called wherever
 * work may begin (a submission, a PDU, a state change). */
void iscsi_session_tick_arm(struct iscsi_session *s);

/* conn.c */
int iscsi_conn_new(struct iscsi_session *s, const struct sockaddr *addr, socklen_t addrlen,
		   struct iscsi_conn **ret);
/* A numeric source address (cfg.bind_addr) as a sockaddr, port 0:
 * -EINVAL if it is not one. */
int iscsi_conn_source_addr(const char *ip, struct sockaddr_storage *ret, socklen_t *ret_len);
/* Start the connect (with timeout); completion calls
 * iscsi_session_connected() or iscsi_session_conn_failed(). */
int iscsi_conn_connect(struct iscsi_conn *c, uint32_t timeout_ms);
/* Shut the socket, cancel its SQEs; freed once they have completed. */
void iscsi_conn_close(struct iscsi_conn *c);
void iscsi_conn_queue(struct iscsi_conn *c, struct iscsi_txbuf *tx);
int iscsi_conn_start_rx(struct iscsi_conn *c);
int iscsi_conn_set_limits(struct iscsi_conn *c, const struct iscsi_params *p);
/* Drop the queued (not yet submitted) PDUs of task itt; returns how many. */
unsigned iscsi_conn_purge(struct iscsi_conn *c, uint32_t itt);
struct iscsi_txbuf *iscsi_txbuf_new(void);
void iscsi_txbuf_free(struct iscsi_txbuf *tx);
/* Frame bhs + data (a window of iov) into tx; the data is not copied. */
int iscsi_txbuf_frame(struct iscsi_txbuf *tx, const union iscsi_hdr *bhs, const struct iovec *iov,
		      unsigned iovcnt, const struct iscsi_pdu_limits *limits, lb_err *err);
/* The part [off, off+len) of iov as at most max iovecs; returns the count
 * or -EINVAL if it does not fit. */
int iscsi_iov_slice(const struct iovec *iov, unsigned iovcnt, size_t off, size_t len,
		    struct iovec *out, unsigned max);

/* task.c */
int iscsi_tasks_init(struct iscsi_session *s);
void iscsi_tasks_free(struct iscsi_session *s);
struct iscsi_task *iscsi_task_lookup(struct iscsi_session *s, uint32_t itt);
void iscsi_tasks_pump(struct iscsi_session *s);
void iscsi_task_rx_scsi_rsp(struct iscsi_session *s, const union iscsi_hdr *h, const uint8_t *data,
			    uint32_t len);
/* Data-In header check before its data is received: fills c->rx_iov. */
int iscsi_task_data_in_dest(struct iscsi_session *s, struct iscsi_conn *c);
void iscsi_task_rx_data_in(struct iscsi_session *s, const union iscsi_hdr *h);
void iscsi_task_rx_r2t(struct iscsi_session *s, const union iscsi_hdr *h);
void iscsi_task_rx_reject(struct iscsi_session *s, const union iscsi_hdr *rejected, uint8_t reason);
/* Every task back to the pending queue (for re-issue after recovery), in
 * doubt until the next login fences them. */
void iscsi_tasks_requeue_all(struct iscsi_session *s);
/* Complete every task and pending command with res. */
void iscsi_tasks_fail_all(struct iscsi_session *s, int res);
/* A PDU that sent from task itt's buffer has left the send path. */
void iscsi_task_tx_released(struct iscsi_session *s, uint32_t itt);
/* The target has answered task t (or an abort of it was confirmed): drop
 * its queued PDUs and, once none is in flight, finish it with res, or
 * re-queue it after retry_delay_ms (>= 0) while its lifetime lasts. */
void iscsi_task_complete(struct iscsi_session *s, struct iscsi_task *t, int res,
			 int retry_delay_ms);
/* A command that will not be sent again ends: its lifetime passed, or res. */
void iscsi_cmd_finish(struct iscsi_session *s, struct iscsi_cmd *cmd, int res);
/* The session logged in again: fence the commands in doubt (reinstatement
 * in the same portal group, else a LUN reset) before any is re-issued. */
void iscsi_tasks_reinstated(struct iscsi_session *s);
/* Fail the commands that never reached the target, for the replacement
 * timeout; those in doubt stay until fenced. */
void iscsi_tasks_fail_unsent(struct iscsi_session *s, int res);
/* A cancel under way ends once no command is left. */
void iscsi_tasks_cancel_check(struct iscsi_session *s);
/* Lifetimes of queued commands, in any state but closed. */
void iscsi_tasks_expire(struct iscsi_session *s, uint64_t now);

/* task-management.c: command timeouts, ABORT TASK, LOGICAL UNIT RESET */
void iscsi_task_rx_tmf_rsp(struct iscsi_session *s, const union iscsi_hdr *h);
/* A LOGICAL UNIT RESET that fences the commands in doubt on lun; its
 * confirmation calls iscsi_task_fence_done() (task.c). */
void iscsi_task_fence_lun(struct iscsi_session *s, uint32_t lun);
/* The LUN reset a caller asked for (iscsi_session_reset_lun()) ended
 * with res: its callback, once. */
void iscsi_task_reset_done(struct iscsi_session *s, int res);
void iscsi_task_fence_done(struct iscsi_session *s, uint32_t lun);
void iscsi_tasks_tick(struct iscsi_session *s, uint64_t now);

#endif
