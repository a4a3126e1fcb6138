/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * attach's options for the NBD socket export's security: TLS (--tls,
 * --tls-creds, --tls-psk, --tls-psk-fd, --tls-verify-peer), --insecure for
 * a TCP export on a non-loopback address without TLS, and --socket-group
 * for the Unix socket.  Taken out of argv before the common options are
 * parsed, as the multipath ones are.
 */
#ifndef LUNBRIDGE_ATTACH_TLS_H
#define LUNBRIDGE_ATTACH_TLS_H

#include <stdbool.h>
#include <sys/types.h>

#include "export-uri.h"
#include "nbd-tls.h"

#define CLI_TLS_HELP                                                                               \
	"      --tls off|on|require    NBD socket export: STARTTLS not offered, offered,\n"        \
	"                              or required (default: require with credentials,\n"          \
	"                              else off)\n"                                                \
	"      --tls-creds DIR         x509: DIR/server-cert.pem, server-key.pem,\n"               \
	"                              ca-cert.pem (qemu's and nbdkit's layout)\n"                 \
	"      --tls-psk FILE          pre-shared keys, psktool's 'user:hexkey' lines\n"           \
	"      --tls-psk-fd N          the same, read once from descriptor N\n"                    \
	"      --tls-verify-peer       x509: clients need a certificate the CA signed\n"           \
	"      --insecure              allow a TCP export on a non-loopback address\n"             \
	"                              without --tls require\n"                                    \
	"      --socket-group GROUP    the Unix socket: mode 0660 with GROUP (else 0600)\n"

struct cli_tls {
	struct nbd_tls_config cfg;
	bool mode_given;
	bool insecure;
	const char *socket_group;
	bool socket_group_set;
	gid_t socket_gid;
	struct nbd_tls *tls; /* loaded by cli_tls_check() when TLS is on */
};

/* Take the options above out of argv (*argc shrinks) into t.  -1 to go
 * on, else the exit status (a usage error was printed). */
int cli_tls_take_opts(const char *cmd, int *argc, char **argv, struct cli_tls *t);
/* Check them against the export and load the credentials (t->tls).  -1
 * to go on, else the exit status after one line. */
int cli_tls_check(const char *cmd, struct cli_tls *t, const struct lb_export *exp);
/* Drop what cli_tls_check() loaded. */
void cli_tls_clear(struct cli_tls *t);

#endif
