/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "cli-session.h"
#include "cli.h"

enum {
	OPT_IFACE_DIR = 0x100,
	OPT_JSON,
	OPT_CHAP_USER,
	OPT_CHAP_SECRET_FILE,
	OPT_CHAP_TARGET_USER,
	OPT_CHAP_TARGET_SECRET_FILE,
	OPT_CHAP_SECRET_FD,
	OPT_CHAP_TARGET_SECRET_FD,
	OPT_HEADER_DIGEST,
	OPT_DATA_DIGEST,
	OPT_TIMEOUT,
	OPT_CHAP_ALGS,
	OPT_SECRET_ON_ARGV,
	OPT_EXPORT,
	OPT_NAME,
	OPT_QUEUES,
	OPT_MAX_SESSIONS,
	OPT_DAEMON,
	OPT_NO_RECOVERY,
	OPT_ENGINE,
	OPT_NO_FALLBACK,
	OPT_COMMAND_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_REPLACEMENT_TIMEOUT,
	OPT_NOOP_INTERVAL,
	OPT_NOOP_TIMEOUT,
	OPT_DEVICE_TIMEOUT,
};

/* The CHAP secret and mutual CHAP's target secret of this process, each
 * read once from where it was given and shared by every session that logs
 * in with it (a volume's further paths, --all-portals' discovery): one
 * copy in memory, which the sessions' credentials point at.  A descriptor
 * is read while the options are parsed, and closed; a file or
 * $LUNBRIDGE_CHAP_[TARGET_]SECRET when the first session needs it (the
 * variable then cleared).  The copy is wiped when the last session using
 * it closes, and at exit.  A session that recovers logs in again, so a
 * running bridge keeps it for as long as it serves. */
enum secret_kind { SECRET_CHAP, SECRET_CHAP_TARGET, SECRET_KINDS };

static const struct {
	const char *what, *fd_opt, *env;
} secret_names[SECRET_KINDS] = {
	{"CHAP secret", "--chap-secret-fd", "LUNBRIDGE_CHAP_SECRET"},
	{"CHAP target secret", "--chap-target-secret-fd", "LUNBRIDGE_CHAP_TARGET_SECRET"},
};

static struct secret {
	uint8_t buf[ISCSI_CHAP_SECRET_MAX + 1];
	size_t len;
	bool loaded;
	bool once;	/* from a descriptor or the environment: not to be read again */
	unsigned users; /* sessions resolved with it and not closed */
} secrets[SECRET_KINDS];

static int secret_take_fd(enum secret_kind k, int fd);

static int parse_digest(const cli_session_opts *o, const char *opt, const char *v, bool *ret)
{
	if (strcasecmp(v, "none") == 0)
		*ret = false;
	else if (strcasecmp(v, "crc32c") == 0)
		*ret = true;
	else
		return cli_usage_error(o->cmd, "%s: '%s' is not 'none' or 'crc32c'", opt, v);
	return -1;
}

static int parse_uint(const cli_session_opts *o, const char *opt, const char *v, uint32_t min,
		      uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
		return cli_usage_error(o->cmd, "%s: '%s' is not a number from %u to %u", opt, v,
				       min, max);
	*ret = (uint32_t)n;
	return -1;
}

static int parse_fd(const cli_session_opts *o, const char *opt, const char *v, int *ret)
{
	uint32_t fd;
	int rc = parse_uint(o, opt, v, 0, INT_MAX, &fd);

	if (rc < 0)
		*ret = (int)fd;
	return rc;
}

/* The CHAP digests by --chap-algorithms' names, best first, with
 * open-iscsi's names for them (node.session.auth.chap_algs). */
static const struct {
	const char *name, *openiscsi;
	enum iscsi_chap_alg alg;
} names[] = {
	{"sha3-256", "SHA3-256", ISCSI_CHAP_SHA3_256},
	{"sha256", "SHA256", ISCSI_CHAP_SHA256},
	{"sha1", "SHA1", ISCSI_CHAP_SHA1},
	{"md5", "MD5", ISCSI_CHAP_MD5},
};

void cli_session_chap_algs_openiscsi(uint32_t set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if ((set & ISCSI_CHAP_ALG_BIT(names[i].alg)) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						names[i].openiscsi);
}

static int parse_chap_algs(const cli_session_opts *o, const char *v, uint32_t *ret)
{
	char buf[128], *save = NULL;
	uint32_t set = 0;

	if (strlen(v) >= sizeof(buf))
		return cli_usage_error(o->cmd, "--chap-algorithms: list too long");
	strcpy(buf, v);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (strcasecmp(tok, names[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(names))
			return cli_usage_error(o->cmd,
					       "--chap-algorithms: unknown algorithm '%s' "
					       "(sha3-256, sha256, sha1, md5)",
					       tok);
		set |= ISCSI_CHAP_ALG_BIT(names[i].alg);
	}
	if (!set)
		return cli_usage_error(o->cmd, "--chap-algorithms: empty list");
	*ret = set;
	return -1;
}

int cli_session_parse_opts(int argc, char **argv, const char *want, const char *help,
			   cli_session_opts *o)
{
	static const struct option longopts[] = {
		{"portal", required_argument, NULL, 'p'},
		{"targetname", required_argument, NULL, 'T'},
		{"lun", required_argument, NULL, 'l'},
		{"interface", required_argument, NULL, 'I'},
		{"iface-dir", required_argument, NULL, OPT_IFACE_DIR},
		{"chap-user", required_argument, NULL, OPT_CHAP_USER},
		{"chap-secret-file", required_argument, NULL, OPT_CHAP_SECRET_FILE},
		{"chap-target-user", required_argument, NULL, OPT_CHAP_TARGET_USER},
		{"chap-target-secret-file", required_argument, NULL, OPT_CHAP_TARGET_SECRET_FILE},
		{"chap-secret-fd", required_argument, NULL, OPT_CHAP_SECRET_FD},
		{"chap-target-secret-fd", required_argument, NULL, OPT_CHAP_TARGET_SECRET_FD},
		{"header-digest", required_argument, NULL, OPT_HEADER_DIGEST},
		{"data-digest", required_argument, NULL, OPT_DATA_DIGEST},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"chap-algorithms", required_argument, NULL, OPT_CHAP_ALGS},
		/* exact names, so that getopt does not take them as
		 * abbreviations of the -file options */
		{"chap-secret", required_argument, NULL, OPT_SECRET_ON_ARGV},
		{"chap-target-secret", required_argument, NULL, OPT_SECRET_ON_ARGV},
		{"json", no_argument, NULL, OPT_JSON},
		{"export", required_argument, NULL, OPT_EXPORT},
		{"name", required_argument, NULL, OPT_NAME},
		{"queues", required_argument, NULL, OPT_QUEUES},
		{"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
		{"daemon", no_argument, NULL, OPT_DAEMON},
		{"no-recovery", no_argument, NULL, OPT_NO_RECOVERY},
		{"engine", required_argument, NULL, OPT_ENGINE},
		{"no-fallback", no_argument, NULL, OPT_NO_FALLBACK},
		{"command-timeout", required_argument, NULL, OPT_COMMAND_TIMEOUT},
		{"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
		{"replacement-timeout", required_argument, NULL, OPT_REPLACEMENT_TIMEOUT},
		{"noop-out-interval", required_argument, NULL, OPT_NOOP_INTERVAL},
		{"noop-out-timeout", required_argument, NULL, OPT_NOOP_TIMEOUT},
		{"device-timeout", required_argument, NULL, OPT_DEVICE_TIMEOUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint32_t secs = 10;
	int c, rc;

	o->timeout_ms = 10000;
	o->chap_secret_fd = -1;
	o->chap_target_secret_fd = -1;
	o->command_timeout_s = 30;
	o->request_timeout_s = 120;
	o->replacement_timeout_s = 120;
	o->noop_interval_s = 5;
	o->noop_timeout_s = 5;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:T:l:I:h", longopts, NULL)) != -1) {
		rc = -1;
		switch (c) {
		case 'p':
			o->portal = optarg;
			break;
		case 'T':
			if (!strchr(want, 'T'))
				return cli_usage_error(o->cmd, "'%s' does not take -T", o->cmd);
			o->target = optarg;
			break;
		case 'l':
			if (!strchr(want, 'l'))
				return cli_usage_error(o->cmd, "'%s' does not take -l", o->cmd);
			rc = parse_uint(o, "-l", optarg, 0, 16383, &o->lun);
			o->have_lun = true;
			break;
		case 'I':
			o->iface = optarg;
			break;
		case OPT_IFACE_DIR:
			o->iface_dir = optarg;
			break;
		case OPT_CHAP_USER:
			o->chap_user = optarg;
			break;
		case OPT_CHAP_SECRET_FILE:
			o->chap_secret_file = optarg;
			break;
		case OPT_CHAP_TARGET_USER:
			o->chap_target_user = optarg;
			break;
		case OPT_CHAP_TARGET_SECRET_FILE:
			o->chap_target_secret_file = optarg;
			break;
		case OPT_CHAP_SECRET_FD:
			rc = parse_fd(o, "--chap-secret-fd", optarg, &o->chap_secret_fd);
			break;
		case OPT_CHAP_TARGET_SECRET_FD:
			rc = parse_fd(o, "--chap-target-secret-fd", optarg,
				      &o->chap_target_secret_fd);
			break;
		case OPT_HEADER_DIGEST:
			rc = parse_digest(o, "--header-digest", optarg, &o->header_digest);
			break;
		case OPT_DATA_DIGEST:
			rc = parse_digest(o, "--data-digest", optarg, &o->data_digest);
			break;
		case OPT_TIMEOUT:
			rc = parse_uint(o, "--timeout", optarg, 1, 3600, &secs);
			o->timeout_ms = secs * 1000;
			break;
		case OPT_SECRET_ON_ARGV:
			return cli_usage_error(o->cmd,
					       "secrets are not taken on the command line, where "
					       "every user can read them; use --chap-secret-fd, "
					       "--chap-secret-file or $LUNBRIDGE_CHAP_SECRET");
		case OPT_CHAP_ALGS:
			rc = parse_chap_algs(o, optarg, &o->chap_algs);
			break;
		case OPT_COMMAND_TIMEOUT:
			rc = parse_uint(o, "--command-timeout", optarg, 1, 3600,
					&o->command_timeout_s);
			break;
		case OPT_REQUEST_TIMEOUT:
			rc = parse_uint(o, "--request-timeout", optarg, 1, 86400,
					&o->request_timeout_s);
			o->request_timeout_given = true;
			break;
		case OPT_REPLACEMENT_TIMEOUT:
			rc = parse_uint(o, "--replacement-timeout", optarg, 1, 86400,
					&o->replacement_timeout_s);
			break;
		case OPT_NOOP_INTERVAL:
			rc = parse_uint(o, "--noop-out-interval", optarg, 0, 3600,
					&o->noop_interval_s);
			break;
		case OPT_NOOP_TIMEOUT:
			rc = parse_uint(o, "--noop-out-timeout", optarg, 1, 3600,
					&o->noop_timeout_s);
			break;
		case OPT_DEVICE_TIMEOUT: /* attach's; checked by cli_attach_parse() */
			if (!strchr(want, 'a'))
				return cli_usage_error(o->cmd, "unknown option '--device-timeout'");
			rc = parse_uint(o, "--device-timeout", optarg, 1, 86400 + 60,
					&o->device_timeout_s);
			break;
		case OPT_EXPORT:
		case OPT_NAME:
		case OPT_QUEUES:
		case OPT_MAX_SESSIONS:
		case OPT_DAEMON:
		case OPT_NO_RECOVERY:
		case OPT_ENGINE:
		case OPT_NO_FALLBACK:
			if (!strchr(want, 'a'))
				return cli_usage_error(o->cmd, "unknown option '%s'",
						       argv[optind - 1]);
			if (c == OPT_EXPORT)
				o->export = optarg;
			else if (c == OPT_NAME)
				o->name = optarg;
			else if (c == OPT_QUEUES)
				rc = parse_uint(o, "--queues", optarg, 1, 16, &o->queues);
			else if (c == OPT_MAX_SESSIONS) /* 63 ISID slots + the first */
				rc = parse_uint(o, "--max-sessions", optarg, 1, 64,
						&o->max_sessions);
			else if (c == OPT_NO_RECOVERY)
				o->no_recovery = true;
			else if (c == OPT_NO_FALLBACK)
				o->no_fallback = true;
			else if (c == OPT_ENGINE) {
				if (strcmp(optarg, "iscsi") != 0 && strcmp(optarg, "kernel") != 0)
					return cli_usage_error(o->cmd,
							       "--engine: '%s' is not 'iscsi' "
							       "(lunbridge's initiator) or 'kernel' "
							       "(open-iscsi)",
							       optarg);
				o->engine = optarg;
			}
			else
				o->daemon = true;
			break;
		case OPT_JSON:
			if (!strchr(want, 'j'))
				return cli_usage_error(o->cmd, "'%s' does not take --json", o->cmd);
			o->json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(o->cmd, "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(o->cmd, "unknown option '%s'", argv[optind - 1]);
		}
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error(o->cmd, "unexpected argument '%s'", argv[optind]);
	if (!o->portal)
		return cli_usage_error(o->cmd, "which portal? Name it with -p IP[:PORT]");
	/* the order of timeouts: a try ends before the request's lifetime */
	if (o->command_timeout_s >= o->request_timeout_s)
		return cli_usage_error(o->cmd,
				       "--command-timeout (%u s) must be shorter than "
				       "--request-timeout (%u s): a command is tried at least "
				       "once within its lifetime",
				       o->command_timeout_s, o->request_timeout_s);
	if (strchr(want, 'T') && !o->target)
		return cli_usage_error(o->cmd, "which target? Name it with -T IQN");
	if (strchr(want, 'l') && !o->have_lun)
		return cli_usage_error(o->cmd, "which LUN? Name it with -l LUN");
	if (o->chap_secret_fd >= 0 && o->chap_secret_file)
		return cli_usage_error(o->cmd, "--chap-secret-fd and --chap-secret-file both give "
					       "the CHAP secret; give one");
	if (o->chap_target_secret_fd >= 0 && o->chap_target_secret_file)
		return cli_usage_error(o->cmd, "--chap-target-secret-fd and "
					       "--chap-target-secret-file both give the CHAP "
					       "target secret; give one");
	if (o->chap_secret_fd >= 0 && o->chap_secret_fd == o->chap_target_secret_fd)
		return cli_usage_error(o->cmd,
				       "--chap-secret-fd and --chap-target-secret-fd are "
				       "both descriptor %d; the two secrets differ",
				       o->chap_secret_fd);
	if ((o->chap_secret_file || o->chap_secret_fd >= 0 || getenv("LUNBRIDGE_CHAP_SECRET")) &&
	    !o->chap_user)
		return cli_usage_error(o->cmd, "a CHAP secret is given but no --chap-user");
	if ((o->chap_target_user || o->chap_target_secret_file || o->chap_target_secret_fd >= 0) &&
	    !o->chap_user)
		return cli_usage_error(o->cmd, "mutual CHAP needs one-way CHAP too (--chap-user)");
	/* last, once the command line is known good: a descriptor is read
	 * (and closed) only for a command that will run */
	rc = secret_take_fd(SECRET_CHAP, o->chap_secret_fd);
	if (rc < 0)
		rc = secret_take_fd(SECRET_CHAP_TARGET, o->chap_target_secret_fd);
	return rc;
}

/* A secret from FILE: its first line; the file not readable by others. */
static int secret_from_file(const char *what, const char *file, uint8_t *buf, size_t cap,
			    size_t *ret_len)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n;
	size_t len;

	if (fd < 0 || fstat(fd, &st) < 0) {
		cli_error("%s file %s: %s", what, file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cli_error("%s file %s is not a regular file", what, file);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		cli_error("%s file %s is readable by everyone (mode %04o); chmod o-r it", what,
			  file, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	n = read(fd, buf, cap);
	if (n < 0) {
		cli_error("%s file %s: %s", what, file, strerror(errno));
		return -1;
	}
	len = (size_t)n;
	if (len == cap) {
		cli_error("%s in %s is longer than %d bytes", what, file, ISCSI_CHAP_SECRET_MAX);
		return -1;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (memchr(buf, '\n', len)) {
		cli_error("%s file %s holds more than one line", what, file);
		return -1;
	}
	if (len == 0) {
		cli_error("%s file %s is empty", what, file);
		return -1;
	}
	*ret_len = len;
	return 1;
}

/* A secret from the environment variable ENV, which is then cleared: the
 * value overwritten in place (/proc/PID/environ shows the process's
 * original environment block) and the variable removed, so that the
 * programs we run (modprobe, iscsiadm) do not inherit it.  0: not set. */
static int secret_from_env(const char *what, const char *env, uint8_t *buf, size_t cap,
			   size_t *ret_len)
{
	char *v = getenv(env);
	size_t len;

	if (!v)
		return 0;
	len = strlen(v);
	if (len >= cap) {
		cli_error("%s in $%s is longer than %d bytes", what, env, ISCSI_CHAP_SECRET_MAX);
		return -1;
	}
	if (len == 0) {
		cli_error("%s in $%s is empty", what, env);
		return -1;
	}
	memcpy(buf, v, len);
	explicit_bzero(v, len);
	(void)unsetenv(env);
	*ret_len = len;
	return 1;
}

/* Read descriptor fd to its end or its first newline (dropped, with a
 * "\r" before it) into buf: at most cap - 1 bytes.  -EMSGSIZE when longer,
 * -ENODATA when empty, or read()'s -errno.  What followed the line and
 * landed in buf is wiped. */
static int secret_read_fd(int fd, uint8_t *buf, size_t cap, size_t *ret_len)
{
	const uint8_t *nl = NULL;
	size_t len = 0;

	while (len < cap && !nl) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (nl)
		len = (size_t)(nl - buf);
	else if (len == cap)
		return -EMSGSIZE;
	while (len && buf[len - 1] == '\r')
		len--;
	explicit_bzero(buf + len, cap - len);
	if (len == 0)
		return -ENODATA;
	*ret_len = len;
	return 0;
}

static void secrets_wipe(void)
{
	explicit_bzero(secrets, sizeof(secrets));
}

/* --chap-[target-]secret-fd FD: read the secret now, once, and close FD. */
static int secret_take_fd(enum secret_kind k, int fd)
{
	static bool wipe_at_exit;
	const char *opt = secret_names[k].fd_opt;
	struct secret *sec = &secrets[k];
	struct stat st;
	size_t len = 0;
	int r;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		cli_error("%s %d: descriptor %d is not open", opt, fd, fd);
		return CLI_EXIT_FAILURE;
	}
	if (S_ISDIR(st.st_mode)) {
		cli_error("%s %d: descriptor %d is a directory", opt, fd, fd);
		(void)close(fd);
		return CLI_EXIT_FAILURE;
	}
	if (isatty(fd)) {
		cli_error("%s %d: descriptor %d is a terminal, where the %s would be typed in "
			  "the clear; hand it over through a pipe or a file",
			  opt, fd, fd, secret_names[k].what);
		(void)close(fd);
		return CLI_EXIT_FAILURE;
	}
	/* a file with a name others may open (a memfd or an unlinked file
	 * has none) is refused like --chap-secret-file's */
	if (S_ISREG(st.st_mode) && st.st_nlink > 0 && (st.st_mode & S_IROTH)) {
		cli_error("%s %d: descriptor %d is a file readable by everyone (mode %04o); "
			  "chmod o-r it",
			  opt, fd, fd, (unsigned)(st.st_mode & 07777));
		(void)close(fd);
		return CLI_EXIT_FAILURE;
	}
	if (!wipe_at_exit) {
		(void)atexit(secrets_wipe);
		wipe_at_exit = true;
	}
	r = secret_read_fd(fd, sec->buf, sizeof(sec->buf), &len);
	(void)close(fd);
	if (r < 0) {
		explicit_bzero(sec->buf, sizeof(sec->buf));
		if (r == -EMSGSIZE)
			cli_error("%s %d: the %s is longer than %d bytes", opt, fd,
				  secret_names[k].what, ISCSI_CHAP_SECRET_MAX);
		else if (r == -ENODATA)
			cli_error("%s %d: the %s is empty", opt, fd, secret_names[k].what);
		else
			cli_error("%s %d: %s", opt, fd, strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	sec->len = len;
	sec->loaded = sec->once = true;
	return -1;
}

/* A reference on secret k for a session: the one read from a descriptor,
 * the one another session holds, or (none held) one read now from FILE or
 * the environment.  1: *ret set; 0: none given; -1: error printed. */
static int secret_get(enum secret_kind k, const char *file, const uint8_t **ret, size_t *ret_len)
{
	struct secret *sec = &secrets[k];
	int r = 1;

	if (!sec->loaded && sec->once) {
		/* every session using it is closed: it is wiped, and a
		 * descriptor or the environment cannot give it again */
		cli_error("the %s was cleared once its sessions closed", secret_names[k].what);
		return -1;
	}
	if (!sec->loaded) {
		if (file)
			r = secret_from_file(secret_names[k].what, file, sec->buf, sizeof(sec->buf),
					     &sec->len);
		else {
			r = secret_from_env(secret_names[k].what, secret_names[k].env, sec->buf,
					    sizeof(sec->buf), &sec->len);
			sec->once = r > 0;
		}
		if (r <= 0) {
			explicit_bzero(sec->buf, sizeof(sec->buf));
			return r;
		}
		sec->loaded = true;
	}
	sec->users++;
	*ret = sec->buf;
	*ret_len = sec->len;
	return 1;
}

/* Drop a session's reference; the last one wipes the secret. */
static void secret_put(enum secret_kind k)
{
	struct secret *sec = &secrets[k];

	if (sec->users > 0 && --sec->users == 0) {
		explicit_bzero(sec->buf, sizeof(sec->buf));
		sec->len = 0;
		sec->loaded = false;
	}
}

static int open_fail(cli_session *cs)
{
	cli_session_close(cs);
	return CLI_EXIT_FAILURE;
}

int cli_session_load_iface(const cli_session_opts *o, const char *name, iface_rec **ret)
{
	_cleanup_(iface_store_freep) iface_store *store = NULL;
	lb_err err = {{0}};
	int r;

	if (iface_name_is_builtin(name)) {
		r = iface_rec_builtin(name, ret);
	} else {
		r = cli_open_store(o->iface_dir, &store);
		if (r != CLI_EXIT_OK)
			return r;
		r = iface_store_load(store, name, ret, &err);
	}
	if (r < 0) {
		cli_error("iface '%s': %s", name, lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

int cli_session_resolve(const cli_session_opts *o, cli_session *cs)
{
	const char *iface = o->iface ? o->iface : "default";
	lb_err err = {{0}};
	int r;

	memset(cs, 0, sizeof(*cs));
	r = iface_route_parse_portal(o->portal, &cs->portal, &err);
	if (r < 0) {
		cli_error("portal '%s': %s", o->portal, lb_err_msg(&err, r));
		return CLI_EXIT_USAGE;
	}
	r = cli_session_load_iface(o, iface, &cs->rec);
	if (r)
		return r;
	if (o->chap_user) {
		r = secret_get(SECRET_CHAP, o->chap_secret_file, &cs->creds.secret,
			       &cs->creds.secret_len);
		if (r < 0)
			return open_fail(cs);
		if (r == 0) {
			cli_error("--chap-user needs a secret: --chap-secret-fd N, "
				  "--chap-secret-file FILE or $LUNBRIDGE_CHAP_SECRET");
			return open_fail(cs);
		}
		cs->holds_secret = true;
		cs->creds.name = o->chap_user;
		r = secret_get(SECRET_CHAP_TARGET, o->chap_target_secret_file,
			       &cs->creds.target_secret, &cs->creds.target_secret_len);
		if (r < 0)
			return open_fail(cs);
		if (r > 0) {
			cs->holds_target_secret = true;
			cs->creds.target_name = o->chap_target_user;
		} else if (o->chap_target_user) {
			cli_error(
				"--chap-target-user needs a secret: --chap-target-secret-fd N, "
				"--chap-target-secret-file FILE or $LUNBRIDGE_CHAP_TARGET_SECRET");
			return open_fail(cs);
		}
	}
	return 0;
}

int cli_session_loop(const cli_session_opts *o, cli_session *cs)
{
	int r = lb_loop_init(&cs->loop, o->ring_entries ? o->ring_entries : 256, 0);

	if (r < 0) {
		cli_error("cannot set up io_uring: %s", strerror(-r));
		return open_fail(cs);
	}
	cs->loop_ready = true;
	return 0;
}

int cli_session_connect(const cli_session_opts *o, cli_session *cs)
{
	return cli_session_connect_on(o, cs, NULL);
}

int cli_session_connect_on(const cli_session_opts *o, cli_session *cs, struct lb_loop *loop)
{
	struct iscsi_session_config cfg;
	lb_err err = {{0}};
	int r;

	r = iscsi_binding_resolve(cs->rec, getenv("LUNBRIDGE_INITIATORNAME_FILE"), &cs->bind, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return open_fail(cs);
	}
	if (!loop && !cs->loop_ready) {
		r = cli_session_loop(o, cs);
		if (r)
			return r;
	}
	iscsi_session_config_init(&cfg);
	cfg.host = cs->portal.addr_str;
	cfg.port = cs->portal.port;
	cfg.target_name = o->target;
	cfg.initiator_name = cs->bind.initiator_name;
	cfg.bind_netdev = cs->bind.netdev[0] ? cs->bind.netdev : NULL;
	cfg.bind_addr = cs->bind.source_addr[0] ? cs->bind.source_addr : NULL;
	cfg.chap = o->chap_user ? &cs->creds : NULL;
	cfg.chap_algs = o->chap_algs;
	cfg.want.header_digest = o->header_digest;
	cfg.want.data_digest = o->data_digest;
	cfg.connect_timeout_ms = o->timeout_ms;
	cfg.login_timeout_ms = o->timeout_ms;
	cfg.recover = o->recover;
	cfg.cmd_timeout_ms = o->command_timeout_s * 1000;
	cfg.request_timeout_ms = o->request_timeout_s * 1000;
	cfg.replacement_timeout_ms = o->replacement_timeout_s * 1000;
	cfg.nop_interval_ms = o->noop_interval_s * 1000;
	cfg.nop_timeout_ms = o->noop_timeout_s * 1000;
	if (o->isid_key) {
		cfg.isid_set = true;
		iscsi_isid_for(o->isid_key, 0, cfg.isid);
	}
	cs->cfg = cfg;
	r = iscsi_session_new(loop ? loop : &cs->loop, &cs->cfg, &cs->s, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return open_fail(cs);
	}
	r = iscsi_session_login_sync(cs->s, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return open_fail(cs);
	}
	return 0;
}

int cli_session_open(const cli_session_opts *o, cli_session *cs)
{
	int r = cli_session_resolve(o, cs);

	if (r == 0)
		r = cli_session_loop(o, cs);
	if (r == 0)
		r = cli_session_connect(o, cs);
	return r;
}

void cli_session_close(cli_session *cs)
{
	if (cs->s) {
		if (iscsi_session_get_state(cs->s) == ISCSI_SESSION_FULL_FEATURE)
			(void)iscsi_session_logout_sync(cs->s);
		iscsi_session_free(cs->s);
		cs->s = NULL;
	}
	if (cs->loop_ready) {
		lb_loop_exit(&cs->loop);
		cs->loop_ready = false;
	}
	iscsi_binding_clear(&cs->bind);
	iface_rec_free(cs->rec);
	cs->rec = NULL;
	/* the session and its engine are gone: nothing points at the
	 * secrets through cs->creds any more */
	if (cs->holds_secret)
		secret_put(SECRET_CHAP);
	if (cs->holds_target_secret)
		secret_put(SECRET_CHAP_TARGET);
	cs->holds_secret = cs->holds_target_secret = false;
	memset(&cs->creds, 0, sizeof(cs->creds));
}
