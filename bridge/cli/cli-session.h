/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the subcommands that talk to a target share: the portal, target,
 * iface and CHAP options, secrets read from a descriptor, a file or the
 * environment (never argv), and a logged-in session of our own initiator.
 */
#ifndef LUNBRIDGE_CLI_SESSION_H
#define LUNBRIDGE_CLI_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "bind.h"
#include "chap.h"
#include "loop.h"
#include "route.h"
#include "session.h"

#define CLI_SESSION_HELP                                                                           \
	"  -p, --portal IP[:PORT]      the target portal (port 3260 by default)\n"                 \
	"  -I, --interface IFACE       iface record to bind to (default: 'default')\n"             \
	"      --iface-dir DIR         iface record directory\n"                                   \
	"      --chap-user NAME        CHAP: our name; the secret comes from\n"                    \
	"                              --chap-secret-fd, --chap-secret-file or\n"                  \
	"                              $LUNBRIDGE_CHAP_SECRET (never argv)\n"                      \
	"      --chap-secret-fd N      read it from descriptor N (to its end or first\n"           \
	"                              newline), then close N\n"                                   \
	"      --chap-secret-file FILE its first line; FILE not readable by others\n"              \
	"      --chap-target-user NAME mutual CHAP: the name the target must give;\n"              \
	"                              its secret from --chap-target-secret-fd,\n"                 \
	"                              --chap-target-secret-file or\n"                             \
	"                              $LUNBRIDGE_CHAP_TARGET_SECRET\n"                            \
	"      --chap-target-secret-fd N\n"                                                        \
	"      --chap-target-secret-file FILE\n"                                                   \
	"      --chap-algorithms LIST  CHAP digests to offer, best first by default:\n"            \
	"                              sha3-256,sha256,sha1,md5\n"                                 \
	"      --header-digest none|crc32c   (default none)\n"                                     \
	"      --data-digest none|crc32c     (default none)\n"                                     \
	"      --timeout SECONDS       connect and login timeout, each (default 10)\n"             \
	"      --command-timeout SECONDS    one try of a command (default 30)\n"                   \
	"      --request-timeout SECONDS    a command's lifetime, retries included\n"              \
	"                              (default 120)\n"                                            \
	"      --replacement-timeout SECONDS  I/O fails fast once a lost session\n"                \
	"                              is not back within it (default 120)\n"                      \
	"      --noop-out-interval SECONDS  a NOP-Out ping after this long without\n"              \
	"                              input (0: none; default 5)\n"                               \
	"      --noop-out-timeout SECONDS   the connection is dead when a ping\n"                  \
	"                              is not answered within it (default 5)\n"

typedef struct cli_session_opts {
	const char *cmd; /* "discover", for messages */
	const char *portal;
	const char *target;
	const char *iface;
	const char *iface_dir;
	const char *chap_user, *chap_secret_file;
	const char *chap_target_user, *chap_target_secret_file;
	/* --chap-[target-]secret-fd N, -1: none; read and closed by
	 * cli_session_parse_opts() */
	int chap_secret_fd, chap_target_secret_fd;
	bool header_digest, data_digest;
	uint32_t chap_algs; /* ISCSI_CHAP_ALG_BIT() set, 0: all */
	uint32_t timeout_ms;
	/* our initiator's timeouts, seconds: per try, a command's lifetime,
	 * the session's replacement (docs/ERROR-HANDLING.md) */
	uint32_t command_timeout_s, request_timeout_s, replacement_timeout_s;
	/* the liveness ping: after interval without input (0: none), dead
	 * after timeout more (open-iscsi's noop_out_interval/_timeout) */
	uint32_t noop_interval_s, noop_timeout_s;
	bool request_timeout_given;
	/* attach: --device-timeout, the kernel NBD device's (0: by the request timeout) */
	uint32_t device_timeout_s;
	bool json;
	/* attach and friends: -l LUN */
	uint32_t lun;
	bool have_lun;
	/* attach ('a' in want): --export, --name, --queues, --daemon,
	 * --no-recovery */
	const char *export, *name;
	uint32_t queues;
	uint32_t max_sessions; /* --max-sessions; 0: the volume's default */
	bool daemon;
	bool no_recovery;
	/* attach: --engine iscsi|kernel (NULL: by the iface's transport),
	 * --no-fallback */
	const char *engine;
	bool no_fallback;
	/* attach: where its multipath options go (attach-multipath.h), taken
	 * out before the rest is parsed; NULL: none allowed */
	struct cli_mpath *mpath;
	/* attach: its TLS options (attach-tls.h), taken out the same way;
	 * NULL: checked, then dropped (volume check) */
	struct cli_tls *tls;
	/* set by the command, not by options */
	bool recover;	       /* reconnect when the link drops */
	const char *isid_key;  /* the volume's name: stable ISIDs; NULL: random */
	unsigned ring_entries; /* io_uring size; 0: 256 */
} cli_session_opts;

/* Parse the options.  want: 'T' (-T IQN required), 'l' (-l LUN
 * required), 'j' (--json allowed), 'a' (attach's options allowed).  Returns -1 to go on, else the
 * exit status (help printed, or a usage error). */
int cli_session_parse_opts(int argc, char **argv, const char *want, const char *help,
			   cli_session_opts *o);

typedef struct cli_session {
	iface_rec *rec; /* the iface record */
	struct lb_loop loop;
	bool loop_ready;
	struct iscsi_session *s;
	struct iscsi_session_config cfg; /* s's, for more sessions like it */
	struct iscsi_binding bind;
	iface_route_portal portal;
	/* points at the process's one copy of each secret (cli-session.c),
	 * held until cli_session_close() */
	struct iscsi_chap_creds creds;
	bool holds_secret, holds_target_secret;
} cli_session;

/* Resolve the iface, read the secrets, connect and log in (discovery
 * when o->target is NULL).  Prints the one error line itself; returns 0
 * or an exit status. */
int cli_session_open(const cli_session_opts *o, cli_session *cs);
/* The same in steps: the portal, iface record (cs->rec) and secrets;
 * the io_uring loop; then our initiator's binding, session and login. */
int cli_session_resolve(const cli_session_opts *o, cli_session *cs);
int cli_session_loop(const cli_session_opts *o, cli_session *cs);
int cli_session_connect(const cli_session_opts *o, cli_session *cs);
/* The same on another session's loop (a volume's further paths). */
int cli_session_connect_on(const cli_session_opts *o, cli_session *cs, struct lb_loop *loop);
struct lb_export;
/* attach's options (cli-attach.c), checked: the export parsed into exp,
 * the volume's name (given or default) into name.  -1 to go on, else the
 * exit status. */
int cli_attach_parse(int argc, char **argv, cli_session_opts *o, struct lb_export *exp,
		     char *name, size_t len);

/* A --chap-algorithms set in open-iscsi's words ("SHA256,MD5"), best first. */
void cli_session_chap_algs_openiscsi(uint32_t set, char *buf, size_t len);

/* Load iface record NAME (built-in or from the store). */
int cli_session_load_iface(const cli_session_opts *o, const char *name, iface_rec **ret);
/* Log out (if logged in) and free everything; secrets are wiped. */
void cli_session_close(cli_session *cs);

#endif
