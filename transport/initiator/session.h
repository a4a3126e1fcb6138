/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An iSCSI session of our own initiator (RFC 7143, ErrorRecoveryLevel 0,
 * one connection), driven entirely by the caller's lb_loop (io_uring):
 * connect, login, full feature phase with many commands in flight, NOP
 * pings, task management on command timeouts, logout, and recovery by
 * session reinstatement.
 *
 *   IDLE -> CONNECTING -> LOGGING_IN -> FULL_FEATURE -> LOGGING_OUT -> CLOSED
 *                 ^                          |
 *                 +------ RECOVERING <-------+   (connection lost)
 *   any -> FAILED  (login refused, replacement timeout expired)
 *
 * While RECOVERING, commands wait (callers see delay, not errors) and are
 * re-issued on the reinstated session.  Once the replacement timeout
 * expires, commands that never reached the target fail with -EIO and new
 * ones fail at once, but the session keeps logging in (capped backoff) and
 * serves again when the target returns.
 *
 * Every command has a lifetime (cfg.request_timeout_ms, or its own
 * lifetime_ms) from its submission, counting every retry and every
 * re-issue after a reconnect; each try is bounded by cfg.cmd_timeout_ms,
 * after which it is aborted.  A command is failed only once no copy of it
 * can still reach the LUN: the target answered it, an ABORT TASK or LOGICAL
 * UNIT RESET covering it was confirmed, or the session that carried it was
 * reinstated (same ISID and portal group) or logged out.  A command sent
 * on a connection that is gone stays "in doubt" until then, whatever its
 * lifetime (docs/ERROR-HANDLING.md).
 *
 * Commands are described by caller-owned struct iscsi_cmd; data moves
 * straight between the socket and cmd->iov.
 */
#ifndef LUNBRIDGE_ISCSI_SESSION_H
#define LUNBRIDGE_ISCSI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "chap.h"
#include "lb-err.h"
#include "loop.h"
#include "negotiate.h"
#include "retry.h"
#include "scsi.h"
#include "sense.h"

typedef enum iscsi_session_state {
	ISCSI_SESSION_IDLE,
	ISCSI_SESSION_CONNECTING,
	ISCSI_SESSION_LOGGING_IN,
	ISCSI_SESSION_FULL_FEATURE,
	ISCSI_SESSION_RECOVERING,
	ISCSI_SESSION_LOGGING_OUT,
	ISCSI_SESSION_CLOSED,
	ISCSI_SESSION_FAILED,
} iscsi_session_state;

const char *iscsi_session_state_name(iscsi_session_state s);

struct iscsi_session_config {
	const char *host; /* portal address (numeric or a name) */
	uint16_t port;
	const char *target_name;	     /* NULL: discovery session */
	const char *initiator_name;	     /* required */
	const char *initiator_alias;	     /* optional */
	const char *bind_netdev;	     /* SO_BINDTODEVICE; NULL: unbound */
	const char *bind_addr;		     /* numeric source IP bound before connect; NULL: any */
	const struct iscsi_chap_creds *chap; /* NULL: AuthMethod=None */
	uint32_t chap_algs;		     /* 0: all */
	struct iscsi_params want;	     /* operational offer */
	uint32_t connect_timeout_ms;	     /* per attempt; default 10 s */
	uint32_t login_timeout_ms;	     /* per attempt; default 15 s */
	uint32_t cmd_timeout_ms;	     /* per try; 0: none; default 30 s */
	uint32_t request_timeout_ms;	     /* a command's lifetime; default 120 s */
	uint32_t replacement_timeout_ms;     /* default 120 s; 0: fail at once */
	uint32_t nop_interval_ms;	     /* idle ping period; 0: none; 5 s */
	uint32_t nop_timeout_ms;	     /* default 5 s */
	uint32_t max_tasks;		     /* commands in flight; default 128 */
	bool recover;			     /* reconnect when the link drops */
	/* the ISID (RFC 7143 §11.12.5); without it a random one.  A volume's
	 * sessions derive theirs from its name (iscsi_isid_for()), so that a
	 * restarted bridge reinstates the dead one's sessions, which makes
	 * the target end their tasks before anything is re-issued */
	bool isid_set;
	uint8_t isid[6];
};

/* A stable ISID for key (a volume's name) and slot (0: its first session,
 * then one per queue or client), of the random type (0x80): five bytes
 * from a hash of key, the last the slot. */
void iscsi_isid_for(const char *key, uint8_t slot, uint8_t isid[6]);

/* Defaults above, iscsi_params_init() offer with ImmediateData etc. */
void iscsi_session_config_init(struct iscsi_session_config *cfg);

enum iscsi_data_dir {
	ISCSI_DIR_NONE,
	ISCSI_DIR_READ,
	ISCSI_DIR_WRITE,
};

#define ISCSI_CMD_MAX_IOV 16

struct iscsi_cmd;
typedef void (*iscsi_cmd_cb)(struct iscsi_cmd *cmd, int res);

/* One SCSI command.  Fill the first block, call iscsi_session_submit();
 * done(cmd, res) runs once, from the loop, with res = bytes transferred
 * (expected length minus residual: less than length only when the target
 * reported a residual underflow) or -errno (retry.h's table; -ETIMEDOUT
 * when the lifetime ended); status and sense are filled either way. */
struct iscsi_cmd {
	uint32_t lun;
	uint8_t cdb[ISCSI_CDB_MAX];
	uint8_t cdb_len;
	enum iscsi_data_dir dir;
	const struct iovec *iov; /* READ: filled; WRITE: sent.  <= ISCSI_CMD_MAX_IOV */
	unsigned iovcnt;
	uint32_t length; /* expected data transfer length */
	iscsi_cmd_cb done;
	void *arg;
	uint32_t lifetime_ms; /* 0: the session's request_timeout_ms */
	bool quiet;	      /* a probe: a final refusal is not logged */
	/* one of several paths (multipath): an ALUA answer that this port
	 * cannot serve the LU now (NOT READY 04/0A transitioning, 04/0B
	 * standby, 04/0C unavailable) fails at once with -EHOSTUNREACH
	 * rather than backing off or failing -EIO: the command did not
	 * execute, and another path may carry it */
	bool path_failfast;
	/* results */
	uint8_t status;
	bool has_sense;
	struct iscsi_sense sense;
	uint32_t residual;
	/* private to the session */
	struct iscsi_cmd *next;
	uint32_t tries;	      /* times sent, re-issues after reconnects included */
	uint64_t deadline_ms; /* the end of its lifetime */
	uint64_t retry_at_ms; /* a backoff: not sent before */
	int last_err;	      /* why the last try failed */
	bool in_doubt;	      /* sent on a connection that is gone, not yet fenced */
	bool cancelled;	      /* iscsi_session_cancel(): never sent again */
};

struct iscsi_session; /* opaque */

struct iscsi_session_stats {
	uint64_t cmds, read_bytes, write_bytes;
	uint64_t reconnects, timeouts, aborts, lun_resets, retries;
	uint64_t r2ts, data_out_pdus, data_in_pdus;
};

/* cfg strings and creds must outlive the session. */
int iscsi_session_new(struct lb_loop *loop, const struct iscsi_session_config *cfg,
		      struct iscsi_session **ret, lb_err *err);
/* Closes the socket without logout; fails queued commands with -ESHUTDOWN.
 * Only call when the loop no longer runs an operation of s, i.e. after
 * iscsi_session_state() is CLOSED, FAILED or IDLE, or from outside the
 * loop once it will not run again (the ring is torn down with it). */
void iscsi_session_free(struct iscsi_session *s);

typedef void (*iscsi_session_cb)(struct iscsi_session *s, void *arg, int res);

/* Connect and log in.  cb(s, arg, 0) in full feature phase, or -errno
 * with iscsi_session_error() naming the reason. */
int iscsi_session_login(struct iscsi_session *s, iscsi_session_cb cb, void *arg);
/* Logout (close the session), then CLOSED.  Queued commands complete
 * first; cb(s, arg, res) when done. */
int iscsi_session_logout(struct iscsi_session *s, iscsi_session_cb cb, void *arg);

int iscsi_session_submit(struct iscsi_session *s, struct iscsi_cmd *cmd);

/* Give up every command submitted so far (their issuer has gone): none is
 * sent again; each completes, with -ECANCELED unless the target had
 * already answered it, and only once no copy of it can still reach the
 * LUN (its ABORT TASK or a LOGICAL UNIT RESET confirmed, or the session
 * that carried it reinstated).  cb(s, arg, 0) when the last has completed;
 * new commands meanwhile get -ECANCELED.  -EBUSY if a cancel is under way. */
int iscsi_session_cancel(struct iscsi_session *s, iscsi_session_cb cb, void *arg);

/* Send a LOGICAL UNIT RESET of lun (immediate, outside the command
 * window) and cb(s, arg, 0) once the target confirms it, -errno if it is
 * refused, times out or the connection drops.  For multipath: a reset
 * through one path fences what another path's lost session left in doubt
 * (SPC-4: a LU reset aborts every I_T nexus's tasks).  This session's
 * own commands on lun are aborted too and go again.  -ENOTCONN outside
 * the full feature phase, -EBUSY while a task management request is
 * under way. */
int iscsi_session_reset_lun(struct iscsi_session *s, uint32_t lun, iscsi_session_cb cb, void *arg);
/* A LOGICAL UNIT RESET of lun was confirmed through another session
 * (iscsi_session_reset_lun() on another path): this session's commands
 * in doubt on lun can no longer reach the LUN.  Those cancelled
 * (iscsi_session_cancel()) complete with -ECANCELED now; the others go
 * again once this session is back.  Returns how many were in doubt. */
unsigned iscsi_session_fenced_elsewhere(struct iscsi_session *s, uint32_t lun);

/* Discovery: send a Text Request (key=value\0 ...) and collect the whole
 * answer (C bit continuation).  cb(s, arg, res) then text/len are valid
 * until the next call. */
int iscsi_session_text(struct iscsi_session *s, const char *text, size_t len, iscsi_session_cb cb,
		       void *arg);
const char *iscsi_session_text_result(const struct iscsi_session *s, size_t *ret_len);

iscsi_session_state iscsi_session_get_state(const struct iscsi_session *s);
/* The last error in words ("login failed: authentication failed"). */
const char *iscsi_session_error(const struct iscsi_session *s);
const struct iscsi_params *iscsi_session_params(const struct iscsi_session *s);
void iscsi_session_get_stats(const struct iscsi_session *s, struct iscsi_session_stats *ret);
/* The target's TPGT as it declared at login (-1 if not). */
int32_t iscsi_session_tpgt(const struct iscsi_session *s);
/* What s logs in with, its ISID included (the ISID in isid, the rest as
 * given to iscsi_session_new()): a session made from it through another
 * portal of the same portal group reinstates s on the target (RFC 7143
 * §6.3.5), which ends s's connection there and, with it, whatever of s
 * is still on its way. */
void iscsi_session_get_config(const struct iscsi_session *s, struct iscsi_session_config *ret);
/* The connected portal "IP:PORT" (after redirection). */
const char *iscsi_session_portal(const struct iscsi_session *s);
/* The replacement timeout has passed without a new login: commands fail
 * fast while the session keeps trying to log in. */
bool iscsi_session_replacement_expired(const struct iscsi_session *s);
/* The session's connection was declared dead by an unanswered NOP-Out
 * ping, and no login has succeeded since: the link is silent (a close
 * by the target or a reset is not), so a reconnect will not be quick. */
bool iscsi_session_link_silent(const struct iscsi_session *s);
/* Commands sent on a lost connection and not yet fenced (in doubt). */
unsigned iscsi_session_in_doubt(const struct iscsi_session *s);

/* Optional log sink for reasons the session acts on (dropped connection,
 * timeout, reconnect): one line, no trailing newline. */
typedef void (*iscsi_log_fn)(void *arg, const char *line);
void iscsi_session_set_log(struct iscsi_session *s, iscsi_log_fn fn, void *arg);

/* Optional sink for what a command's sense reports besides its own fate
 * (retry.h's events: capacity changed, deferred error, ...); sense may be
 * NULL.  Called from the loop, before the command is retried. */
typedef void (*iscsi_event_fn)(void *arg, enum iscsi_retry_event ev,
			       const struct iscsi_sense *sense);
void iscsi_session_set_event(struct iscsi_session *s, iscsi_event_fn fn, void *arg);

/* Run the loop until *done is set or timeout_ms passes (-ETIMEDOUT).
 * For synchronous callers (CLI, startup). */
int iscsi_session_wait(struct iscsi_session *s, const bool *done, uint32_t timeout_ms);

/* Synchronous helpers built on the above. */
int iscsi_session_login_sync(struct iscsi_session *s, lb_err *err);
int iscsi_session_logout_sync(struct iscsi_session *s);
/* A command or text exchange, waited for.  There is no deadline here: the
 * session's own timeouts (command timeout with abort and retries, text
 * timeout, NOP liveness, replacement timeout) end every wait. */
int iscsi_session_cmd_sync(struct iscsi_session *s, struct iscsi_cmd *cmd);
/* iscsi_session_text(), waited for; the answer via iscsi_session_text_result(). */
int iscsi_session_text_sync(struct iscsi_session *s, const char *text, size_t len);

#endif
