/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * open-iscsi, driven the way its documentation does: iscsiadm for
 * discovery, node records, login and logout, its exit codes and output
 * parsed here.  The one thing iscsiadm cannot be given safely is a CHAP
 * secret (its only way is -v on the command line, which every user can
 * read in /proc): secrets are written into the node record file itself,
 * replaced atomically.
 *
 * Nothing here logs; functions return 0 or -errno and, given an lb_err,
 * leave one sentence there (with iscsiadm's own last message).
 */
#ifndef LUNBRIDGE_OPENISCSI_H
#define LUNBRIDGE_OPENISCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb-err.h"

#define LB_OPENISCSI_NODES_DIR "/etc/iscsi/nodes"
#define LB_OPENISCSI_IFACES_DIR "/etc/iscsi/ifaces"
#define LB_OPENISCSI_TARGET_MAX 224 /* RFC 7143: 223 bytes and NUL */

/* iscsiadm's exit codes (open-iscsi include/iscsi_err.h) that matter here. */
enum {
	LB_OPENISCSI_OK = 0,
	LB_OPENISCSI_ERR_LOGIN = 5,
	LB_OPENISCSI_ERR_TRANS_TIMEOUT = 8,
	LB_OPENISCSI_ERR_TRANS_NOT_FOUND = 12,
	LB_OPENISCSI_ERR_SESS_EXISTS = 15,
	LB_OPENISCSI_ERR_ISCSID_NOTCONN = 20,
	LB_OPENISCSI_ERR_NO_OBJS_FOUND = 21,
	LB_OPENISCSI_ERR_LOGIN_AUTH_FAILED = 24,
	LB_OPENISCSI_ERR_MAX = 32,
};

/* iscsiadm's name for exit code CODE ("ISCSI_ERR_LOGIN_AUTH_FAILED"), or
 * "unknown". */
const char *lb_openiscsi_exit_name(int code);
/* -errno for an iscsiadm exit code (-ETIMEDOUT, -EACCES, -ENOENT, ...). */
int lb_openiscsi_exit_errno(int code);

/* One record of SendTargets discovery output: "IP:PORT,TPGT IQN", the
 * address bracketed when it is IPv6. */
struct lb_openiscsi_target {
	char address[64];
	uint16_t port;
	uint16_t tpgt;
	char iqn[LB_OPENISCSI_TARGET_MAX];
};

/* Parse one discovery line: 0, or -EINVAL if it is not a record. */
int lb_openiscsi_parse_target(const char *line, struct lb_openiscsi_target *ret);
/* Every record in iscsiadm's discovery output (other lines ignored):
 * *ret (free it) holds *ret_n entries; -EINVAL if a line that looks like a
 * record is malformed. */
int lb_openiscsi_parse_discovery(const char *text, struct lb_openiscsi_target **ret, size_t *ret_n);

/* iscsiadm's last own message in TEXT ("iscsiadm: X" lines; the prefix
 * dropped), into buf; "" if none. */
void lb_openiscsi_last_message(const char *text, char *buf, size_t len);

/* The portal as iscsiadm takes it: "IP:PORT", "[IPv6]:PORT". */
int lb_openiscsi_portal(const char *address, uint16_t port, char *buf, size_t len);

/* A node record's file: LB_OPENISCSI_NODES_DIR/IQN/ADDRESS,PORT,TPGT/IFACE
 * (ADDRESS without brackets).  nodes_dir NULL: LB_OPENISCSI_NODES_DIR. */
int lb_openiscsi_node_path(const char *nodes_dir, const char *iqn, const char *address,
			   uint16_t port, uint16_t tpgt, const char *iface, char *buf, size_t len);

/* Replace (or add) KEY = VALUE lines in the node record text IN: a new
 * text (free it) with each of keys[i] set to values[i] (NULL: removed),
 * before "# END RECORD" (or at the end if there is none).  -EINVAL if a
 * value holds a newline. */
int lb_openiscsi_record_set(const char *in, const char *const *keys, const char *const *values,
			    size_t n, char **ret);

/* ---- running iscsiadm ---- */

struct lb_openiscsi_result {
	int status;	  /* its exit code; -1 when killed */
	char *out, *err;  /* what it wrote (free them with lb_openiscsi_result_clear) */
};

void lb_openiscsi_result_clear(struct lb_openiscsi_result *r);

/* Run iscsiadm (from PATH) with argv[1...] (argv[0] is ignored; NULL
 * ends it), stdin /dev/null, output captured, killed after timeout_ms.
 * 0 when it ran (whatever its exit code), -ENOENT if it is not installed,
 * -ETIMEDOUT if it was killed. */
int lb_openiscsi_run(const char *const *argv, uint32_t timeout_ms, struct lb_openiscsi_result *ret,
		     lb_err *err);

/* What the engine asks of iscsiadm, each one command.  portal as
 * lb_openiscsi_portal() makes it. */
struct lb_openiscsi_node {
	const char *iqn, *portal, *iface;
	uint32_t timeout_ms; /* for each command */
};

/* `iscsiadm -m discovery -t st -p PORTAL -I IFACE`: the records found. */
int lb_openiscsi_discover(const struct lb_openiscsi_node *n, struct lb_openiscsi_target **ret,
			  size_t *ret_n, lb_err *err);
/* `iscsiadm -m node -T IQN -p PORTAL -I IFACE`: 1 if the record exists, 0 if not. */
int lb_openiscsi_node_exists(const struct lb_openiscsi_node *n, lb_err *err);
/* `... --op=update -n KEY -v VALUE`. */
int lb_openiscsi_node_update(const struct lb_openiscsi_node *n, const char *key, const char *value,
			     lb_err *err);
/* `... --login`: 0 logged in, 1 a session was there already. */
int lb_openiscsi_login(const struct lb_openiscsi_node *n, lb_err *err);
/* `... --logout`: 0, or 1 if there was no session. */
int lb_openiscsi_logout(const struct lb_openiscsi_node *n, lb_err *err);
/* `... --op=delete`: 0, or 1 if there was no record. */
int lb_openiscsi_node_delete(const struct lb_openiscsi_node *n, lb_err *err);

/* Set keys[i] = values[i] in the node record file PATH, replaced
 * atomically (same directory, mode 0600, fsync, rename): how a CHAP
 * secret reaches the record without a command line. */
int lb_openiscsi_node_file_set(const char *path, const char *const *keys, const char *const *values,
			       size_t n, lb_err *err);

#endif
