/* SPDX-License-Identifier: GPL-2.0-or-later */
/* attach's TLS, --insecure and --socket-group options (attach-tls.h). */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach-tls.h"
#include "cli.h"
#include "listen.h"

enum { O_TLS, O_CREDS, O_PSK, O_PSK_FD, O_VERIFY, O_INSECURE, O_GROUP };

static int set_opt(const char *cmd, struct cli_tls *t, int k, const char *v)
{
	char *end;
	long n;

	switch (k) {
	case O_TLS:
		if (nbd_tls_mode_parse(v, &t->cfg.mode) < 0)
			return cli_usage_error(cmd, "--tls '%s': off, on or require", v);
		t->mode_given = true;
		break;
	case O_CREDS:
		t->cfg.creds_dir = v;
		break;
	case O_PSK:
		t->cfg.psk_file = v;
		break;
	case O_PSK_FD:
		errno = 0;
		n = strtol(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end || errno || n < 3 || n > 65535)
			return cli_usage_error(
				cmd, "--tls-psk-fd '%s': a descriptor number, 3 or more", v);
		t->cfg.psk_fd = (int)n;
		break;
	case O_VERIFY:
		t->cfg.verify_peer = true;
		break;
	case O_INSECURE:
		t->insecure = true;
		break;
	default:
		t->socket_group = v;
		break;
	}
	return -1;
}

struct tls_take {
	const char *cmd;
	struct cli_tls *t;
};

static int tls_take(void *arg, int k, char *v)
{
	struct tls_take *tt = arg;

	return set_opt(tt->cmd, tt->t, k, v);
}

int cli_tls_take_opts(const char *cmd, int *argc, char **argv, struct cli_tls *t)
{
	static const struct cli_opt opts[] = {
		[O_TLS] = {"--tls", false},
		[O_CREDS] = {"--tls-creds", false},
		[O_PSK] = {"--tls-psk", false},
		[O_PSK_FD] = {"--tls-psk-fd", false},
		[O_VERIFY] = {"--tls-verify-peer", true},
		[O_INSECURE] = {"--insecure", true},
		[O_GROUP] = {"--socket-group", false},
	};
	struct tls_take tt = {cmd, t};

	memset(t, 0, sizeof(*t));
	t->cfg.psk_fd = -1;
	return cli_take_opts(cmd, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), tls_take, &tt);
}

static int group_resolve(const char *cmd, struct cli_tls *t)
{
	const char *g = t->socket_group;
	struct group *gr = getgrnam(g);
	char *end;
	unsigned long n;

	if (gr) {
		t->socket_gid = gr->gr_gid;
	} else {
		n = strtoul(g, &end, 10);
		if (g[0] < '0' || g[0] > '9' || *end || n > 0x7fffffff)
			return cli_usage_error(cmd, "--socket-group '%s': no such group", g);
		t->socket_gid = (gid_t)n;
	}
	t->socket_group_set = true;
	return -1;
}

int cli_tls_check(const char *cmd, struct cli_tls *t, const struct lb_export *exp)
{
	bool socket = exp->kind == LB_EXPORT_NBD_UNIX || exp->kind == LB_EXPORT_NBD_TCP;
	bool creds = t->cfg.creds_dir || t->cfg.psk_file || t->cfg.psk_fd >= 0;
	lb_err err = {{0}};
	int r;

	if (!socket && (t->mode_given || creds || t->cfg.verify_peer))
		return cli_usage_error(cmd, "TLS is for the NBD socket export (nbd://, "
					    "nbd+unix://); the kernel's NBD and ublk devices "
					    "are local");
	if (t->socket_group && exp->kind != LB_EXPORT_NBD_UNIX)
		return cli_usage_error(cmd, "--socket-group is for the Unix socket export "
					    "(nbd+unix://)");
	if (t->socket_group) {
		r = group_resolve(cmd, t);
		if (r >= 0)
			return r;
	}
	/* credentials alone: TLS required, as qemu-nbd does with --tls-creds */
	if (!t->mode_given && creds)
		t->cfg.mode = NBD_TLS_REQUIRE;
	if (t->cfg.mode == NBD_TLS_OFF && (creds || t->cfg.verify_peer))
		return cli_usage_error(cmd, "--tls off takes no TLS credentials");
	if (t->cfg.mode != NBD_TLS_OFF && !creds)
		return cli_usage_error(cmd, "--tls %s needs --tls-creds DIR or --tls-psk FILE",
				       nbd_tls_mode_name(t->cfg.mode));
	if (t->cfg.verify_peer && !t->cfg.creds_dir)
		return cli_usage_error(cmd, "--tls-verify-peer is for x509 (--tls-creds DIR)");
	if (!!t->cfg.creds_dir + !!t->cfg.psk_file + (t->cfg.psk_fd >= 0) > 1)
		return cli_usage_error(cmd, "one of --tls-creds, --tls-psk or --tls-psk-fd");
	/* a TCP export anyone on the network can reach: TLS or said so */
	if (exp->kind == LB_EXPORT_NBD_TCP && t->cfg.mode != NBD_TLS_REQUIRE && !t->insecure &&
	    lb_listen_is_loopback(exp->host) != 1) {
		/* one line, no usage hint: the options are right, the policy says no */
		cli_error("--export on '%s' (not loopback) serves the LUN to the network: "
			  "add --tls require with credentials, or --insecure to serve it in "
			  "the clear",
			  exp->host);
		return CLI_EXIT_USAGE;
	}
	if (t->cfg.mode == NBD_TLS_OFF)
		return -1;
	r = nbd_tls_new(&t->cfg, &t->tls, &err);
	if (t->cfg.psk_fd >= 0) { /* read once: nobody else needs it open */
		close(t->cfg.psk_fd);
		t->cfg.psk_fd = -1;
	}
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	return -1;
}

void cli_tls_clear(struct cli_tls *t)
{
	nbd_tls_free(t->tls);
	t->tls = NULL;
}
