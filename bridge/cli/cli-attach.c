/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge attach`: run the bridge of one volume, in the foreground or as a daemon. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "attach-kernel.h"
#include "attach-multipath.h"
#include "attach-tls.h"
#include "cli-attach-result.h"
#include "cli-session.h"
#include "engine-iscsi.h"
#include "cli.h"
#include "export-uri.h"
#include "nbd-timeouts.h"
#include "runtime.h"
#include "volume-conf.h"
#include "volume.h"

static const char attach_help[] =
	"Usage: lunbridge attach NAME [--daemon]\n"
	"       lunbridge attach -p IP[:PORT] -T IQN -l LUN --export EXPORT [--name NAME]\n"
	"                        [--queues N] [--max-sessions N] [--daemon]\n"
	"                        [--no-recovery] [-I IFACE]\n"
	"                        [--engine iscsi|kernel] [--no-fallback] [--json]\n"
	"                        [--device-timeout SECONDS] [CHAP options]\n"
	"                        [--path PORTAL[,IQN[,LUN[,IFACE]]]]... [--all-portals]\n"
	"                        [--path-policy POLICY] [--failback immediate|SECONDS]\n"
	"                        [--no-path-timeout SECONDS] [TLS options]\n"
	"\n"
	"The first form runs the volume configured in " LB_CONF_DIR_DEFAULT "/NAME.conf\n"
	"(see lunbridge-volume.conf(5); check it with `lunbridge volume check NAME`).\n"
	"\n"
	"Bring one LUN to this host and serve it until `lunbridge detach NAME` or\n"
	"SIGTERM: in the foreground (for systemd), or with --daemon returning once\n"
	"it serves.  Either way the export's URI or the device path is printed\n"
	"when it is ready.\n"
	"\n"
	"-I auto takes the iface record the route to the portal leaves by (as\n"
	"`lunbridge iface resolve` chooses it) and logs the choice.  Attaching a\n"
	"volume NAME that already serves the same target, LUN and export prints\n"
	"its device or URI again and exits 0; any other volume of that name\n"
	"makes the attach fail.\n"
	"\n"
	"Exports:\n"
	"  nbd+unix:///NAME?socket=PATH   an NBD server on a Unix socket (mode 0600)\n"
	"  nbd://[HOST]:PORT/NAME         an NBD server on TCP (loopback without HOST;\n"
	"                                 elsewhere with --tls require or --insecure)\n"
	"  nbd, /dev/nbdN                 the kernel's NBD device (any free one, or N)\n"
	"  ublk, ublk:N, /dev/ublkbN      a ublk block device (any free id, or N)\n"
	"\n"
	"Options:\n"
	"  -T, --targetname IQN        the target\n"
	"  -l, --lun LUN               the LUN\n"
	"      --export EXPORT         where the LUN appears (above)\n"
	"      --name NAME             the volume's name on this host (default:\n"
	"                              the target's last part and the LUN, e.g. t1-1)\n"
	"      --queues N              kernel NBD and ublk: hardware queues (1-16),\n"
	"                              each with an iSCSI session of its own, besides\n"
	"                              the volume's first (which serves `list` and the\n"
	"                              final SYNCHRONIZE CACHE)\n"
	"      --max-sessions N        the most iSCSI sessions the volume opens\n"
	"                              (1-64, default 8, at least queues + 1): one\n"
	"                              per NBD client beyond the first; past it,\n"
	"                              clients share the first session\n"
	"      --daemon                go to the background once serving\n"
	"      --no-recovery           ublk: remove the device if the bridge dies,\n"
	"                              rather than keep it for a restarted bridge\n"
	"      --engine iscsi|kernel   who carries the session: lunbridge's own tcp\n"
	"                              initiator (iscsi; the default for tcp ifaces)\n"
	"                              or the kernel's, logged in through open-iscsi\n"
	"                              (kernel; always for offload and iser ifaces,\n"
	"                              whose hardware is checked first).  The LUN's\n"
	"                              SCSI disk is then served through io_uring.\n"
	"      --no-fallback           offload and iser: fail when the hardware is\n"
	"                              missing or the login fails, rather than fall\n"
	"                              back to tcp on the 'default' iface\n"
	"      --json                  print the result as one line of JSON (name,\n"
	"                              device, uri, link, export, iface, portal,\n"
	"                              target, lun, id, wwn, already_attached)\n"
	"      --device-timeout SECONDS  kernel NBD: a request's timeout in the kernel\n"
	"                              (default: the request timeout + 60, at least\n"
	"                              180); alone, the request timeout follows it\n"
	"                              (60 less)\n" CLI_MPATH_HELP CLI_TLS_HELP CLI_SESSION_HELP
	"  -h, --help                  this text\n"
	"\n"
	"Runtime state: $LUNBRIDGE_RUN_DIR, else " LB_RUN_DIR_DEFAULT ".\n";

struct attach {
	const char *name;
	bool daemon;
	bool json;    /* --json: the result as JSON rather than where */
	int ready_fd; /* daemon: the pipe to the waiting parent */
};

static void log_line(void *arg, const char *line)
{
	struct attach *a = arg;

	if (a->daemon && a->ready_fd < 0)
		syslog(LOG_NOTICE, "%s: %s", a->name, line);
	else
		fprintf(stderr, "lunbridge: %s\n", line);
}

/* The volume's first session, while attach still holds it (the LUN's
 * inventory): its lines as the volume will log them. */
static void session0_log(void *arg, const char *line)
{
	char prefixed[640];

	snprintf(prefixed, sizeof(prefixed), "session 0: %s", line);
	log_line(arg, prefixed);
}

static void ready(void *arg, const char *where)
{
	struct attach *a = arg;
	_cleanup_free_ char *text = cli_attach_result(a->name, where, a->json);
	int null;

	if (!a->daemon) {
		if (text)
			fputs(text, stdout);
		else /* out of memory for the JSON: where, at least */
			printf("%s\n", where);
		fflush(stdout);
		/* under systemd (Type=notify): ready once the device exists */
		(void)sd_notifyf(0, "READY=1\nSTATUS=serving %s on %s", a->name, where);
		return;
	}
	/* detach from the terminal and the caller's pipes, then tell the
	 * parent: it prints where and returns */
	openlog("lunbridge", LOG_PID, LOG_DAEMON);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		close(null);
	}
	if (text)
		dprintf(a->ready_fd, "%s", text);
	else
		dprintf(a->ready_fd, "%s\n", where);
	close(a->ready_fd);
	a->ready_fd = -1;
}

static void stopping(void *arg)
{
	struct attach *a = arg;

	/* under systemd: the stop is under way (flush, logout, device removed) */
	(void)sd_notifyf(0, "STOPPING=1\nSTATUS=detaching %s", a->name);
}

/* The default name: the target's last part and the LUN ("t1-1"). */
static void default_name(const char *target, uint32_t lun, char *buf, size_t len)
{
	const char *p = strrchr(target, ':');
	size_t n;

	p = p && p[1] ? p + 1 : target;
	snprintf(buf, len, "%.*s-%u", LB_VOLUME_NAME_MAX - 6, p, lun);
	for (n = 0; buf[n]; n++)
		if (!lb_runtime_name_char(buf[n]))
			buf[n] = '_';
	if (buf[0] == '.' || buf[0] == '-')
		buf[0] = '_';
}

/* Daemon: fork; the parent waits for the child's "where" line (ready) or
 * its exit (it printed its own error).  Returns -1 in the child. */
static int daemonize(struct attach *a)
{
	int p[2], status;
	char buf[8192]; /* where, or the --json result */
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		cli_error("pipe: %s", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	if (pid == 0) {
		close(p[0]);
		a->ready_fd = p[1];
		(void)setsid();
		return -1;
	}
	close(p[1]);
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       ((n = read(p[0], buf + len, sizeof(buf) - 1 - (size_t)len)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			len += n;
	close(p[0]);
	if (len > 0) {
		buf[len] = '\0';
		fputs(buf, stdout);
		return CLI_EXIT_OK;
	}
	/* no ready line: the child failed and said why */
	if (waitpid(pid, &status, 0) < 0)
		return CLI_EXIT_FAILURE;
	return WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : CLI_EXIT_FAILURE;
}

int cli_attach_parse(int argc, char **argv, cli_session_opts *o, struct lb_export *exp,
		     char *name, size_t len)
{
	struct cli_tls local_tls, *tls = o->tls ? o->tls : &local_tls;
	lb_err err = {{0}};
	int rc, r;

	if (o->mpath) { /* more paths: docs/MULTIPATH.md */
		rc = cli_mpath_take_opts(o->cmd, &argc, argv, o->mpath);
		if (rc >= 0)
			return rc;
	}
	rc = cli_tls_take_opts(o->cmd, &argc, argv, tls);
	if (rc >= 0)
		return rc;
	rc = cli_session_parse_opts(argc, argv, "Tlaj", attach_help, o);
	if (rc >= 0)
		return rc;
	if (o->mpath) {
		rc = cli_mpath_check(o, o->mpath);
		if (rc >= 0)
			return rc;
	}
	if (!o->export)
		return cli_usage_error(o->cmd, "where to? Name the export with --export");
	r = lb_export_parse(o->export, exp, &err);
	if (r < 0)
		return cli_usage_error(o->cmd, "--export '%s': %s", o->export,
				       lb_err_msg(&err, r));
	if (o->queues > 1 && exp->kind != LB_EXPORT_NBD_KERNEL && exp->kind != LB_EXPORT_UBLK)
		return cli_usage_error(o->cmd, "--queues is for kernel devices (nbd, ublk); NBD "
					       "clients open one connection (and session) each");
	if (o->no_recovery && exp->kind != LB_EXPORT_UBLK)
		return cli_usage_error(o->cmd, "--no-recovery is for the ublk export");
	if (o->device_timeout_s && exp->kind != LB_EXPORT_NBD_KERNEL)
		return cli_usage_error(o->cmd, "--device-timeout is for the kernel NBD device "
					       "(--export nbd or /dev/nbdN)");
	rc = cli_tls_check(o->cmd, tls, exp);
	if (tls == &local_tls) /* checked: what it loaded is not needed */
		cli_tls_clear(tls);
	if (rc >= 0)
		return rc;
	r = lb_nbd_kernel_timeouts_settle(o->device_timeout_s, &o->request_timeout_s,
					  o->request_timeout_given, o->command_timeout_s, &err);
	if (r < 0)
		return cli_usage_error(o->cmd, "%s", lb_err_msg(&err, r));
	if (o->name) {
		snprintf(name, len, "%s", o->name);
		r = lb_runtime_name_check(o->name, &err);
		if (r < 0)
			return cli_usage_error(o->cmd, "%s", lb_err_msg(&err, r));
	} else {
		default_name(o->target, o->lun, name, len);
	}
	return -1;
}

/* `attach NAME [OPTIONS]`: the volume NAME.conf describes, its options
 * first, then NAME as --name, then the command line's own (--daemon). */
static int attach_configured(int argc, char **argv)
{
	struct lb_volume_conf c;
	lb_err err = {{0}};
	char **av;
	int r, n;

	r = lb_runtime_name_check(argv[1], &err);
	if (r < 0)
		return cli_usage_error("attach", "%s", lb_err_msg(&err, r));
	r = lb_volume_conf_load(lb_conf_dir(), argv[1], &c, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	av = lb_volume_conf_argv(&c, argv[0], argv[1], argv + 2, (size_t)argc - 2, &n);
	if (!av) {
		lb_volume_conf_clear(&c);
		cli_error("out of memory");
		return CLI_EXIT_FAILURE;
	}
	r = cli_attach(n, av);
	free(av);
	lb_volume_conf_clear(&c);
	return r;
}

/* The volume could not start: one line, to syslog when a daemon no
 * longer has its parent's stderr. */
static int attach_failed(const struct attach *a, const char *name, int r, const lb_err *err)
{
	if (a->daemon && a->ready_fd < 0)
		syslog(LOG_ERR, "%s: %s", name, lb_err_msg(err, r));
	else
		cli_error("volume %s: %s", name, lb_err_msg(err, r));
	return CLI_EXIT_FAILURE;
}

/* attach with options (not NAME): parse, log in, run the volume; what
 * tls loaded is the caller's to drop. */
static int attach_run(int argc, char **argv, struct cli_tls *tls)
{
	static struct cli_mpath mp; /* large: the further paths' sessions */
	cli_session_opts o = {.cmd = "attach", .mpath = &mp, .tls = tls};
	struct attach a = {.ready_fd = -1};
	struct lb_volume_config vc = {0};
	struct lb_runtime_lock lock = {.fd = -1};
	struct lb_export exp;
	char name[LB_VOLUME_NAME_MAX + 1], auto_iface[256];
	struct cli_attach_kernel ka = {0};
	_cleanup_free_ char *existing = NULL;
	iface_transport_kind kind;
	bool hw = false, kernel = false;
	lb_err err = {{0}};
	cli_session cs;
	int rc, r;

	rc = cli_attach_parse(argc, argv, &o, &exp, name, sizeof(name));
	if (rc >= 0)
		return rc;
	a.name = name;
	a.daemon = o.daemon;
	a.json = o.json;
	/* what already serves: said again, for orchestrators that retry */
	existing = cli_attach_existing(&o, &exp, name);
	if (existing) {
		fputs(existing, stdout);
		return CLI_EXIT_OK;
	}
	if (o.daemon) {
		rc = daemonize(&a);
		if (rc >= 0)
			return rc;
	}

	r = lb_runtime_lock(lb_runtime_dir(), name, &lock, &err);
	/* the same attach, started by someone else just now */
	if (r == -EEXIST && (existing = cli_attach_existing(&o, &exp, name))) {
		if (a.daemon)
			dprintf(a.ready_fd, "%s", existing);
		else
			fputs(existing, stdout);
		return CLI_EXIT_OK;
	}
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	if (o.iface && strcmp(o.iface, "auto") == 0) {
		rc = cli_attach_auto_iface(&o, auto_iface, sizeof(auto_iface), log_line, &a);
		if (rc) {
			lb_runtime_unlock(&lock);
			return rc;
		}
	}
	o.recover = true;
	o.ring_entries = 1024;
	o.isid_key = name; /* a restart reinstates the dead bridge's sessions */
	rc = cli_session_resolve(&o, &cs);
	if (rc == 0)
		rc = cli_session_loop(&o, &cs);
	if (rc == 0) {
		kind = iface_transport_kind_of(iface_rec_transport(cs.rec));
		hw = kind == IFACE_TRANSPORT_OFFLOAD || kind == IFACE_TRANSPORT_ISER;
		if (hw && o.engine && strcmp(o.engine, "iscsi") == 0) {
			cli_error("iface '%s': transport '%s' runs in the kernel; --engine iscsi "
				  "cannot carry it",
				  iface_rec_name(cs.rec), iface_rec_transport(cs.rec));
			rc = CLI_EXIT_USAGE;
		}
		kernel = hw || (o.engine && strcmp(o.engine, "kernel") == 0);
		if (kernel && mp.wanted) {
			/* the kernel's sessions cannot be paths yet: docs/MULTIPATH.md */
			cli_error("iface '%s': multipath runs on lunbridge's own tcp initiator; "
				  "a kernel (offload, iSER) session cannot be a path yet",
				  iface_rec_name(cs.rec));
			rc = CLI_EXIT_USAGE;
		}
	}
	if (rc == 0 && kernel) {
		r = cli_attach_kernel(&o, &cs, name, &ka, log_line, &a, &err);
		if (r < 0 && hw && !o.no_fallback) {
			char line[800];

			snprintf(line, sizeof(line),
				 "iface '%s': %s; falling back to tcp on iface 'default' "
				 "(--no-fallback to fail instead)",
				 iface_rec_name(cs.rec), lb_err_msg(&err, r));
			log_line(&a, line);
			iface_rec_free(cs.rec);
			cs.rec = NULL;
			o.iface = "default";
			rc = cli_session_load_iface(&o, o.iface, &cs.rec);
			kernel = false;
		} else if (r < 0) {
			cli_error("iface '%s': %s", iface_rec_name(cs.rec), lb_err_msg(&err, r));
			rc = CLI_EXIT_FAILURE;
		}
	}
	if (rc == 0 && !kernel)
		rc = cli_session_connect(&o, &cs);
	if (rc) {
		cli_session_close(&cs);
		lb_runtime_unlock(&lock);
		return rc;
	}
	vc.name = name;
	vc.export = &exp;
	vc.lun = o.lun;
	vc.queues = o.queues;
	vc.max_sessions = o.max_sessions;
	vc.device_timeout_s = o.device_timeout_s;
	vc.ublk_recovery = !o.no_recovery;
	vc.tls = tls->tls;
	vc.socket_group_set = tls->socket_group_set;
	vc.socket_gid = tls->socket_gid;
	if (kernel) {
		vc.engine = ka.engine;
	} else {
		/* our initiator: the LUN's engine on the session (the volume
		 * clones it, a session each, for clients and queues) */
		iscsi_session_set_log(cs.s, session0_log, &a);
		r = lb_engine_iscsi_new(&cs.loop, cs.s, &cs.cfg, o.lun, &vc.engine, &err);
		if (r < 0) {
			/* a recovering session is owed a logout too */
			if (iscsi_session_get_state(cs.s) == ISCSI_SESSION_RECOVERING)
				(void)iscsi_session_logout_sync(cs.s);
			cli_session_close(&cs); /* logs a logged-in session out */
			lb_runtime_unlock(&lock);
			return attach_failed(&a, name, r, &err);
		}
		cs.s = NULL; /* the engine's */
		/* further paths: the multipath engine takes the first */
		r = cli_mpath_build(&o, &cs, name, &mp, &vc.engine, &err);
		if (r < 0) {
			lb_engine_stop_sync(vc.engine);
			lb_engine_free(vc.engine);
			cli_session_close(&cs);
			lb_runtime_unlock(&lock);
			return attach_failed(&a, name, r, &err);
		}
	}
	vc.portal = o.portal;
	vc.target = o.target;
	vc.iface = iface_rec_name(cs.rec);
	vc.log = log_line;
	vc.log_arg = &a;
	vc.ready = ready;
	vc.stopping = stopping;
	vc.ready_arg = &a;
	r = lb_volume_run(&cs.loop, &lock, &vc, &err); /* frees the engine */
	if (kernel) /* the disk is closed: leave the login */
		cli_attach_kernel_release(&ka, name, log_line, &a);
	lb_runtime_unlock(&lock);
	cli_mpath_close(&mp);
	cli_session_close(&cs);
	if (r < 0)
		return attach_failed(&a, name, r, &err);
	return CLI_EXIT_OK;
}

int cli_attach(int argc, char **argv)
{
	struct cli_tls tls = {0};
	int rc;

	if (argc >= 2 && argv[1][0] != '-')
		return attach_configured(argc, argv);
	rc = attach_run(argc, argv, &tls);
	cli_tls_clear(&tls);
	return rc;
}
