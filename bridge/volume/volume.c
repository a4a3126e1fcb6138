/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume's life: start the frontend on the first session's engine,
 * serve (a session per connection), answer the control socket, and on
 * detach or SIGTERM tear down in order: device, connections (requests in
 * flight answered), SYNCHRONIZE CACHE, logout, runtime files.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "cleanup.h"
#include "control.h"
#include "devlink.h"
#include "engine.h"
#include "harden.h"
#include "listen.h"
#include "nbd-netlink.h"
#include "nbd-proto.h"
#include "nbd-server.h"
#include "ublk-ctrl.h"
#include "ublk-dev.h"
#include "volume.h"


#define TEARDOWN_TIMEOUT_MS 180000u /* above the session's replacement timeout */
#define KERNEL_NBD_TIMEOUT_S 180    /* a request's deadline in the kernel */
#define KERNEL_NBD_DEAD_CONN_S 120  /* how long the kernel waits for a new socket */
#define KERNEL_QUEUES_MAX 16
#define DEVLINK_TIMEOUT_MS 10000u  /* how long udev may take to make the links */

enum channel_state {
	CH_LOGIN,  /* logging in */
	CH_READY,  /* serving */
	CH_LOGOUT, /* logging out */
	CH_DEAD,   /* to be freed by the main loop */
};

/* One session and its engine: the first one, or one per connection. */
struct channel {
	struct volume *v;
	struct channel *next;
	struct iscsi_session *s;
	struct lb_engine *e;
	struct nbd_conn *conn; /* the connection it serves; NULL once gone */
	enum channel_state st;
	unsigned id;
};

struct volume {
	struct lb_loop *loop;
	const struct lb_volume_config *cfg;
	struct lb_rt_lock *lock;
	struct channel *primary, *channels;
	unsigned next_channel_id;
	struct nbd_export_desc desc;
	char desc_text[160];
	struct nbd_server *srv;
	struct lb_ctl *ctl;
	struct lb_ctl_client *detach_client;
	char where[160];   /* URI or /dev/nbdN */
	bool socket_bound; /* we made the export's Unix socket: ours to remove */
	const char *state;
	bool stop;
	const char *stop_reason;
	/* kernel NBD */
	int nbd_index; /* -1: none */
	/* ublk: the device and each queue's session (its thread's alone) */
	struct lb_ublk_dev *ublk;
	struct lb_ublk_engine_ops ublk_ops;
	struct ublk_queue_session {
		struct volume *v;
		unsigned q;
		struct iscsi_session *s;
	} qs[LB_UBLK_QUEUES_MAX];
	/* signals */
	int sigfd;
	struct lb_op sig_op;
	struct signalfd_siginfo si;
};

static void vlog(struct volume *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vlog(struct volume *v, const char *fmt, ...)
{
	char line[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (v->cfg->log)
		v->cfg->log(v->cfg->log_arg, line);
	else
		fprintf(stderr, "%s\n", line);
}

static void session_log(void *arg, const char *line)
{
	struct channel *ch = arg;

	vlog(ch->v, "session %u: %s", ch->id, line);
}

/* A line from the NBD server or the ublk device; arg is the volume. */
static void volume_log(void *arg, const char *line)
{
	vlog(arg, "%s", line);
}

/* Whether s is logged in, so that a logout is owed. */
static bool logged_in(const struct iscsi_session *s)
{
	iscsi_session_state st = iscsi_session_get_state(s);

	return st == ISCSI_SESSION_FULL_FEATURE || st == ISCSI_SESSION_RECOVERING;
}

/* ---- channels ---- */

static struct channel *channel_new(struct volume *v, struct iscsi_session *s)
{
	struct channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->v = v;
	ch->s = s;
	ch->id = v->next_channel_id++;
	ch->next = v->channels;
	v->channels = ch;
	if (s)
		iscsi_session_set_log(s, session_log, ch);
	return ch;
}

static void channel_logout_done(struct iscsi_session *s, void *arg, int res)
{
	struct channel *ch = arg;

	ch->st = CH_DEAD;
}

/* Log the channel's session out (or just drop it if it is not logged in). */
static void channel_retire(struct channel *ch)
{
	if (logged_in(ch->s)) {
		ch->st = CH_LOGOUT;
		if (iscsi_session_logout(ch->s, channel_logout_done, ch) == 0)
			return;
	}
	ch->st = CH_DEAD;
}

static void channel_login_done(struct iscsi_session *s, void *arg, int res)
{
	struct channel *ch = arg;
	struct volume *v = ch->v;
	int r = 0;

	if (!ch->conn) { /* the client left while we logged in */
		if (res == 0)
			channel_retire(ch);
		else
			ch->st = CH_DEAD;
		return;
	}
	if (res == 0) {
		r = lb_engine_iscsi_clone(v->primary->e, s, &ch->e);
		if (r == 0) {
			ch->st = CH_READY;
			nbd_conn_set_engine(ch->conn, ch->e);
			return;
		}
		channel_retire(ch);
	} else {
		ch->st = CH_DEAD;
	}
	/* serve the connection on the first session rather than not at all */
	vlog(v, "session %u for a new connection failed (%s): it shares session 0", ch->id,
	     res < 0 ? iscsi_session_error(s) : strerror(-r));
	nbd_conn_set_priv(ch->conn, NULL);
	nbd_conn_set_engine(ch->conn, v->primary->e);
	ch->conn = NULL;
}

static int conn_open(void *arg, struct nbd_conn *c)
{
	struct volume *v = arg;
	struct iscsi_session *s;
	struct channel *ch;
	lb_err err = {{0}};

	if (v->stop)
		return -ESHUTDOWN;
	if (!v->cfg->session) { /* the kernel's disk: one engine serves all */
		nbd_conn_set_engine(c, v->primary->e);
		return 0;
	}
	if (iscsi_session_new(v->loop, v->cfg->session, &s, &err) < 0) {
		vlog(v, "cannot start a session for a new connection: %s", err.msg);
		nbd_conn_set_engine(c, v->primary->e);
		return 0;
	}
	ch = channel_new(v, s);
	if (!ch) {
		iscsi_session_free(s);
		nbd_conn_set_engine(c, v->primary->e);
		return 0;
	}
	ch->conn = c;
	ch->st = CH_LOGIN;
	nbd_conn_set_priv(c, ch);
	if (iscsi_session_login(s, channel_login_done, ch) < 0) {
		ch->st = CH_DEAD;
		ch->conn = NULL;
		nbd_conn_set_priv(c, NULL);
		nbd_conn_set_engine(c, v->primary->e);
	}
	return 0;
}

static void conn_close(void *arg, struct nbd_conn *c)
{
	struct channel *ch = nbd_conn_get_priv(c);

	if (!ch)
		return; /* it used the first session */
	ch->conn = NULL;
	if (ch->st == CH_READY)
		channel_retire(ch);
	/* CH_LOGIN: channel_login_done() retires it */
}

static const struct nbd_server_ops server_ops = {
	.conn_open = conn_open,
	.conn_close = conn_close,
	.log = volume_log,
};

static void channel_free(struct channel *ch)
{
	lb_engine_free(ch->e);
	iscsi_session_free(ch->s);
	free(ch);
}

/* Free the channels whose sessions are done. */
static void channels_reap(struct volume *v)
{
	struct channel **p = &v->channels;

	while (*p) {
		struct channel *ch = *p;

		if (ch->st != CH_DEAD || ch == v->primary) {
			p = &ch->next;
			continue;
		}
		*p = ch->next;
		channel_free(ch);
	}
}

/* ---- state ---- */

static void add_str(struct json_object *o, const char *k, const char *s)
{
	json_object_object_add(o, k, s ? json_object_new_string(s) : NULL);
}

static void add_u64(struct json_object *o, const char *k, uint64_t n)
{
	json_object_object_add(o, k, json_object_new_uint64(n));
}

/* The kernel's state of open-iscsi session sid ("LOGGED_IN", "FAILED"). */
static const char *kernel_session_state(unsigned sid, char *buf, size_t len)
{
	char path[80];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/iscsi_session/session%u/state", sid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "gone");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* What `lunbridge list` shows; live adds the counters. */
static struct json_object *volume_json(struct volume *v, bool live)
{
	const struct lb_volume_config *cfg = v->cfg;
	const struct lb_volume_info *vi = &v->primary->e->info;
	struct json_object *o = json_object_new_object(), *st;
	bool kernel = cfg->export->kind == LB_EXPORT_NBD_KERNEL;
	bool ublk = cfg->export->kind == LB_EXPORT_UBLK;
	char exp[300];

	if (lb_export_format(cfg->export, exp, sizeof(exp)) < 0)
		exp[0] = '\0';
	add_str(o, "name", cfg->name);
	add_u64(o, "pid", (uint64_t)getpid());
	add_str(o, "portal", cfg->portal);
	add_str(o, "target", cfg->target);
	add_u64(o, "lun", cfg->lun);
	add_str(o, "iface", cfg->iface);
	add_str(o, "engine", v->primary->e->ops->name);
	if (cfg->disk) {
		add_str(o, "disk", cfg->disk);
		add_u64(o, "iscsi_session", cfg->kernel_sid);
	}
	add_str(o, "export", kernel ? "nbd" : ublk ? "ublk" : v->where);
	add_str(o, "device", (kernel && v->nbd_index >= 0) || (ublk && v->ublk) ? v->where : NULL);
	add_str(o, "state", v->state);
	add_u64(o, "size", vi->size);
	add_u64(o, "block_size", vi->block_size);
	add_str(o, "id", vi->id[0] ? vi->id : NULL);
	add_u64(o, "queues", cfg->queues ? cfg->queues : 1);
	if (!live)
		return o;
	st = json_object_new_object();
	{
		struct nbd_server_stats ns = {0};
		struct lb_io_stats *io = &ns.io;
		struct iscsi_session_stats is, sum = {0};
		unsigned sessions = 0;

		if (v->srv)
			nbd_server_get_stats(v->srv, &ns);
		if (v->ublk) {
			lb_ublk_dev_add_stats(v->ublk, io);
			sessions += lb_ublk_dev_queues(v->ublk);
		}
		for (struct channel *ch = v->channels; ch; ch = ch->next) {
			if (!ch->s)
				continue;
			iscsi_session_get_stats(ch->s, &is);
			sum.reconnects += is.reconnects;
			sum.timeouts += is.timeouts;
			sum.retries += is.retries;
			if (ch->st == CH_READY)
				sessions++;
		}
		add_u64(st, "reads", io->reads);
		add_u64(st, "writes", io->writes);
		add_u64(st, "read_bytes", io->read_bytes);
		add_u64(st, "write_bytes", io->write_bytes);
		add_u64(st, "flushes", io->flushes);
		add_u64(st, "trims", io->trims);
		add_u64(st, "zeroes", io->zeroes);
		add_u64(st, "errors", io->errors);
		add_u64(st, "connections", ns.connections);
		add_u64(st, "sessions", sessions);
		if (v->ublk)
			json_object_object_add(st, "ublk_recovery",
					       json_object_new_boolean(
						       lb_ublk_dev_recoverable(v->ublk)));
		add_u64(st, "reconnects", sum.reconnects);
		add_u64(st, "timeouts", sum.timeouts);
		add_u64(st, "retries", sum.retries);
	}
	json_object_object_add(o, "stats", st);
	if (v->primary->s) {
		iscsi_session_state ss = iscsi_session_get_state(v->primary->s);

		add_str(o, "session", iscsi_session_state_name(ss));
	} else {
		char state[32];

		add_str(o, "session", kernel_session_state(cfg->kernel_sid, state, sizeof(state)));
	}
	return o;
}

/* volume_json() as one line of text (NULL: out of memory); free it. */
static char *volume_json_line(struct volume *v, bool live)
{
	struct json_object *o = volume_json(v, live);
	char *text;

	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		text = NULL;
	json_object_put(o);
	return text;
}

static void state_save(struct volume *v)
{
	char *text = volume_json_line(v, false);
	lb_err err = {{0}};

	if (text && lb_rt_write_state(v->lock, text, &err) < 0)
		vlog(v, "%s", err.msg);
	free(text);
}

/* ---- control and signals ---- */

static void request_stop(struct volume *v, const char *why)
{
	if (v->stop)
		return;
	v->stop = true;
	v->stop_reason = why;
}

static void control(void *arg, struct lb_ctl_client *cl, const char *cmd)
{
	struct volume *v = arg;

	if (strcmp(cmd, "status") == 0) {
		char *text = volume_json_line(v, true);

		lb_ctl_reply(cl, text ? text : "error: out of memory\n");
		free(text);
	} else if (strcmp(cmd, "detach") == 0) {
		if (v->detach_client) {
			lb_ctl_reply(cl, "error: a detach is already in progress\n");
			return;
		}
		v->detach_client = cl; /* answered once the volume is gone */
		request_stop(v, "detach requested");
	} else {
		lb_ctl_reply(cl, "error: unknown command\n");
	}
}

static void sig_arm(struct volume *v);

static void sig_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct volume *v = container_of(op, struct volume, sig_op);

	if (res == (int)sizeof(v->si)) {
		if (v->si.ssi_signo == SIGHUP) {
			vlog(v, "SIGHUP: nothing to reload");
		} else {
			vlog(v, "%s: detaching", strsignal((int)v->si.ssi_signo));
			request_stop(v, v->si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
		}
	}
	if (res != -ECANCELED && v->sigfd >= 0)
		sig_arm(v);
}

static void sig_arm(struct volume *v)
{
	struct io_uring_sqe *sqe;

	if (lb_loop_sqe(v->loop, &v->sig_op, &sqe) < 0)
		return;
	io_uring_prep_read(sqe, v->sigfd, &v->si, sizeof(v->si), 0);
}

static int signals_setup(struct volume *v, lb_err *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return lb_err_set(err, errno, "sigprocmask: %m");
	v->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (v->sigfd < 0)
		return lb_err_set(err, errno, "signalfd: %m");
	signal(SIGPIPE, SIG_IGN);
	lb_op_init(&v->sig_op, sig_done);
	sig_arm(v);
	return 0;
}

/* ---- the export ---- */

static void export_desc(struct volume *v)
{
	const struct lb_volume_info *vi = &v->primary->e->info;
	struct nbd_export_desc *x = &v->desc;
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_CAN_MULTI_CONN;

	if (vi->read_only)
		f |= NBD_FLAG_READ_ONLY;
	if (vi->flush)
		f |= NBD_FLAG_SEND_FLUSH;
	if (vi->fua)
		f |= NBD_FLAG_SEND_FUA;
	if (vi->discard && vi->max_discard >= vi->block_size)
		f |= NBD_FLAG_SEND_TRIM;
	if (vi->write_zeroes && vi->max_write_zeroes >= vi->block_size)
		f |= NBD_FLAG_SEND_WRITE_ZEROES;
	snprintf(v->desc_text, sizeof(v->desc_text), "%s LUN %u (%s %s)", v->cfg->target,
		 v->cfg->lun, vi->vendor, vi->product);
	x->name = v->cfg->export->name;
	x->description = v->desc_text;
	x->size = vi->size;
	x->eflags = f;
	x->min_block = vi->block_size;
	x->pref_block =
		vi->physical_block_size > vi->block_size ? vi->physical_block_size : vi->block_size;
	if (x->pref_block < 4096 && 4096 % vi->block_size == 0)
		x->pref_block = 4096;
	x->max_block = NBD_MAX_PAYLOAD;
}

static int export_socket(struct volume *v, lb_err *err)
{
	const struct lb_export *e = v->cfg->export;
	int fd = -1, r;

	if (e->kind == LB_EXPORT_NBD_UNIX)
		r = lb_listen_unix(e->socket_path, &fd, err);
	else
		r = lb_listen_tcp(e->host, e->port, &fd, err);
	if (r < 0)
		return r;
	v->socket_bound = e->kind == LB_EXPORT_NBD_UNIX;
	r = nbd_server_listen(v->srv, fd);
	if (r < 0) {
		close(fd);
		return lb_err_set(err, r, "cannot accept connections: %s", strerror(-r));
	}
	if (lb_export_format(e, v->where, sizeof(v->where)) < 0)
		snprintf(v->where, sizeof(v->where), "nbd");
	return 0;
}

static void harden_warn(void *arg, const char *line)
{
	vlog(arg, "warning: %s", line);
}

/* What the dead bridge of this volume left, from its state file. */
struct stale_dev {
	int index;	 /* its device (prefix + index); -1: none */
	bool same_lun;	 /* it served this target and LUN, and the LUN's VPD
			  * 0x83 id is the same (where both have one) */
	unsigned queues; /* 0: not recorded */
};

static struct stale_dev stale_device(struct volume *v, enum lb_export_kind kind)
{
	struct stale_dev sd = {.index = -1};
	struct json_object *o, *x;
	const char *dev, *target, *id;
	const char *want_id = v->primary->e->info.id;
	struct lb_export e;

	if (!v->lock->stale || !(o = json_tokener_parse(v->lock->stale)))
		return sd;
	/* the device as the state names it: /dev/nbdN or /dev/ublkbN */
	if (json_object_object_get_ex(o, "device", &x) && (dev = json_object_get_string(x)) &&
	    lb_export_parse(dev, &e, NULL) == 0 && e.kind == kind && e.index >= 0)
		sd.index = e.index;
	sd.same_lun = json_object_object_get_ex(o, "target", &x) &&
		      (target = json_object_get_string(x)) && strcmp(target, v->cfg->target) == 0 &&
		      json_object_object_get_ex(o, "lun", &x) &&
		      json_object_get_uint64(x) == v->cfg->lun;
	/* the array may have mapped another volume at that LUN since */
	if (sd.same_lun && want_id[0] && json_object_object_get_ex(o, "id", &x) &&
	    (id = json_object_get_string(x)) && id[0] && strcmp(id, want_id) != 0)
		sd.same_lun = false;
	if (json_object_object_get_ex(o, "queues", &x))
		sd.queues = (unsigned)json_object_get_uint64(x);
	json_object_put(o);
	return sd;
}

/* /sys/block/nbdN/ATTR as a number, 0 when unreadable. */
static uint64_t nbd_sysfs_u64(int index, const char *attr)
{
	char path[80];
	unsigned long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/nbd%d/%s", index, attr);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%llu", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

/* The NBD device a dead bridge of this volume left, still bound to the
 * volume and waiting for new sockets: its index, when it can be taken back
 * as it is; else -1, having let it go (DISCONNECT: the I/O waiting on it
 * fails) if it no longer fits (another device asked for, the LUN's size
 * or block size changed). */
static int nbd_takeover_index(struct volume *v)
{
	struct stale_dev sd = stale_device(v, LB_EXPORT_NBD_KERNEL);
	unsigned queues = v->cfg->queues ? v->cfg->queues : 1;
	bool ro = v->desc.eflags & NBD_FLAG_READ_ONLY;
	int want = v->cfg->export->index;
	const char *why = NULL;
	lb_err err = {{0}};

	if (sd.index < 0 || !lb_nbd_bound_to((unsigned)sd.index, v->cfg->name))
		return -1;
	if (!sd.same_lun)
		why = "it served another LUN";
	else if (want >= 0 && want != sd.index)
		why = "another device is asked for";
	else if (nbd_sysfs_u64(sd.index, "size") * 512 != v->desc.size ||
		 nbd_sysfs_u64(sd.index, "queue/logical_block_size") != v->desc.min_block)
		why = "the LUN's size or block size changed";
	else if (nbd_sysfs_u64(sd.index, "ro") != ro)
		why = "the LUN's read-only state changed";
	else if (sd.queues != queues)
		/* RECONFIGURE fills only as many dead sockets as it is given */
		why = "the number of queues changed";
	if (!why)
		return sd.index;
	vlog(v, "letting /dev/nbd%d go, left by a bridge of this volume: %s", sd.index, why);
	if (lb_nbd_nl_disconnect((uint32_t)sd.index, &err) < 0)
		vlog(v, "%s", err.msg);
	return -1;
}

static int export_kernel(struct volume *v, lb_err *err)
{
	unsigned queues = v->cfg->queues ? v->cfg->queues : 1;
	int fds[KERNEL_QUEUES_MAX];
	struct lb_nbd_nl_config nc = {0};
	char backend[128];
	uint32_t index = 0;
	unsigned n = 0;
	int r = 0, stale;

	if (queues > KERNEL_QUEUES_MAX)
		return lb_err_set(err, EINVAL, "at most %d queues", KERNEL_QUEUES_MAX);
	r = lb_nbd_nl_probe(err);
	if (r < 0)
		return r;
	stale = nbd_takeover_index(v);
	/* the bridge must not wait on writeback to its own device */
	(void)lb_harden_for_block_device(harden_warn, v);
	for (; n < queues; n++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			r = lb_err_set(err, errno, "socketpair: %m");
			break;
		}
		r = nbd_server_add_socket(v->srv, sv[0]);
		if (r < 0) {
			close(sv[0]);
			close(sv[1]);
			lb_err_set(err, r, "cannot serve the device's socket: %s", strerror(-r));
			break;
		}
		fds[n] = sv[1];
	}
	snprintf(backend, sizeof(backend), LB_NBD_BACKEND_FMT, v->cfg->name);
	if (r == 0 && stale >= 0) {
		/* the dead bridge's device: new sockets in place of its dead ones */
		vlog(v, "taking back /dev/nbd%d, left by a bridge of this volume", stale);
		r = lb_nbd_nl_reconfigure((uint32_t)stale, backend, fds, n, err);
		index = (uint32_t)stale;
	} else if (r == 0) {
		nc.index = v->cfg->export->index;
		nc.size_bytes = v->desc.size;
		nc.block_size = v->desc.min_block;
		nc.server_flags = v->desc.eflags;
		nc.timeout_s = KERNEL_NBD_TIMEOUT_S;
		nc.dead_conn_timeout_s = KERNEL_NBD_DEAD_CONN_S;
		nc.backend_id = backend;
		nc.fds = fds;
		nc.nfds = n;
		r = lb_nbd_nl_connect(&nc, &index, err);
	}
	/* the kernel holds its own references to the sockets it took */
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	if (r < 0)
		return r;
	v->nbd_index = (int)index;
	snprintf(v->where, sizeof(v->where), "/dev/nbd%u", index);
	return 0;
}

/* ---- ublk ---- */

static void queue_session_log(void *arg, const char *line)
{
	struct ublk_queue_session *qs = arg;

	vlog(qs->v, "queue %u session: %s", qs->q, line);
}

/* On the queue's thread: log its session out (if it is in) and free it. */
static void queue_session_end(struct ublk_queue_session *qs)
{
	if (!qs->s)
		return;
	if (logged_in(qs->s))
		(void)iscsi_session_logout_sync(qs->s);
	iscsi_session_free(qs->s);
	qs->s = NULL;
}

/* On queue q's thread: its own session on its own loop, and the LUN's
 * engine on it. */
static int ublk_engine_open(void *arg, unsigned q, struct lb_loop *loop, struct lb_engine **ret,
			    lb_err *err)
{
	struct volume *v = arg;
	struct ublk_queue_session *qs = &v->qs[q];
	int r;

	qs->v = v;
	qs->q = q;
	if (!v->cfg->session) { /* the kernel's disk, on this queue's loop */
		r = lb_engine_kernel_clone(v->primary->e, loop, ret);
		return r < 0 ? lb_err_set(err, -r, "queue %u: %s", q, strerror(-r)) : 0;
	}
	r = iscsi_session_new(loop, v->cfg->session, &qs->s, err);
	if (r < 0)
		return r;
	iscsi_session_set_log(qs->s, queue_session_log, qs);
	r = iscsi_session_login_sync(qs->s, err);
	if (r == 0) {
		r = lb_engine_iscsi_clone(v->primary->e, qs->s, ret);
		if (r < 0)
			lb_err_set(err, -r, "queue %u: %s", q, strerror(-r));
	} else {
		lb_err_set(err, -r, "queue %u: %s", q, err->msg);
	}
	if (r < 0)
		queue_session_end(qs);
	return r;
}

static void ublk_engine_close(void *arg, unsigned q, struct lb_loop *loop, struct lb_engine *e)
{
	struct volume *v = arg;

	lb_engine_free(e);
	queue_session_end(&v->qs[q]);
}

static int export_ublk(struct volume *v, lb_err *err)
{
	struct lb_ublk_dev_config uc = {
		.dev_id = v->cfg->export->index,
		.queues = v->cfg->queues ? v->cfg->queues : 1,
		.recovery = v->cfg->ublk_recovery,
		.info = &v->primary->e->info,
		.ops = &v->ublk_ops,
	};
	struct stale_dev sd = stale_device(v, LB_EXPORT_UBLK);
	int r = lb_ublk_ctrl_probe(err);

	v->ublk_ops = (struct lb_ublk_engine_ops){
		.open = ublk_engine_open,
		.close = ublk_engine_close,
		.log = volume_log,
		.arg = v,
	};
	if (r < 0)
		return r;
	/* the bridge must not wait on writeback to its own device */
	(void)lb_harden_for_block_device(harden_warn, v);
	if (sd.index >= 0) {
		bool take = sd.same_lun && (uc.dev_id < 0 || uc.dev_id == sd.index);
		struct lb_ublk_dev_info info;

		r = lb_ublk_dev_info((uint32_t)sd.index, &info, err);
		if (r == 0 && info.ublksrv_pid > 0 && info.ublksrv_pid != getpid() &&
		    kill(info.ublksrv_pid, 0) == 0) {
			/* the id went to another server since: not ours to touch */
			vlog(v, "ublk device %d, left by a bridge of this volume, is served by pid "
				"%d now: leaving it",
			     sd.index, (int)info.ublksrv_pid);
		} else if (r == 0 && take && info.state != LB_UBLK_S_DEV_DEAD &&
			   (info.flags & LB_UBLK_F_USER_RECOVERY)) {
			vlog(v, "taking back /dev/ublkb%d, left %s by a bridge of this volume",
			     sd.index, lb_ublk_state_name(info.state));
			r = lb_ublk_dev_recover(&uc, (uint32_t)sd.index, &v->ublk, err);
			if (r < 0)
				return r;
			goto ready;
		} else if (r == 0) {
			vlog(v, "removing ublk device %d, left by a bridge of this volume: %s",
			     sd.index,
			     !take ? (sd.same_lun ? "another device is asked for"
						  : "it served another LUN")
				   : "its disk is gone already");
			r = lb_ublk_dev_remove((uint32_t)sd.index, err);
			if (r < 0)
				return r;
		} else if (r != -ENODEV) {
			return r;
		}
	}
	r = lb_ublk_dev_create(&uc, &v->ublk, err);
	if (r < 0)
		return r;
ready:
	snprintf(v->where, sizeof(v->where), LB_UBLK_BLOCK_FMT, lb_ublk_dev_id(v->ublk));
	return 0;
}

/* ---- run ---- */

/* Run the loop until cond(v, arg) holds or the deadline passes. */
static bool run_until(struct volume *v, bool (*cond)(struct volume *, void *), void *arg,
		      uint32_t timeout_ms)
{
	uint64_t end = lb_now_ms() + timeout_ms;

	while (!cond(v, arg)) {
		uint64_t now = lb_now_ms();
		int r;

		if (now >= end)
			return false;
		r = lb_loop_run_once(v->loop, (int)(end - now < 500 ? end - now : 500));
		if (r < 0 && r != -EINTR && r != -ETIME) {
			vlog(v, "event loop failed: %s", strerror(-r));
			return false;
		}
		channels_reap(v);
	}
	return true;
}

/* ---- device links ---- */

static bool devlink_handled(struct volume *v, void *arg)
{
	return lb_devlink_handled(arg);
}

/* After the state names (or no longer names) the device: make udev look
 * again, so /dev/disk/by-lunbridge/NAME follows, and wait for it. */
static void devlink_announce(struct volume *v, const char *dev)
{
	struct lb_devlink_wait *w;
	lb_err err = {{0}};

	if (strncmp(dev, "/dev/", 5) != 0)
		return;
	if (lb_devlink_announce(v->loop, dev + 5, &w, &err) < 0) {
		vlog(v, "warning: %s; its /dev/disk/by-lunbridge link may be missing", err.msg);
		return;
	}
	if (!run_until(v, devlink_handled, w, DEVLINK_TIMEOUT_MS))
		vlog(v, "warning: udev did not handle %s within %u s; its "
			"/dev/disk/by-lunbridge link may lag", dev, DEVLINK_TIMEOUT_MS / 1000);
	lb_devlink_wait_free(w);
}

static bool server_idle(struct volume *v, void *arg)
{
	return !v->srv || nbd_server_idle(v->srv);
}

static bool channels_gone(struct volume *v, void *arg)
{
	for (struct channel *ch = v->channels; ch; ch = ch->next)
		if (ch != v->primary)
			return false;
	return true;
}

static bool ctl_idle(struct volume *v, void *arg)
{
	return !v->ctl || lb_ctl_idle(v->ctl);
}

static bool sig_idle(struct volume *v, void *arg)
{
	return !v->sig_op.busy;
}

struct flush_wait {
	struct lb_io io;
	bool done;
	int res;
};

static void flush_done(struct lb_io *io, int res)
{
	struct flush_wait *w = container_of(io, struct flush_wait, io);

	w->done = true;
	w->res = res;
}

static bool flush_finished(struct volume *v, void *arg)
{
	return ((struct flush_wait *)arg)->done;
}

/* Tear down what was set up, in order.  ok: the volume ran (flush and
 * say so); false: startup failed part way. */
static bool teardown(struct volume *v, bool ok)
{
	bool clean = true;
	lb_err err = {{0}};

	v->state = "detaching";
	if (v->ublk) {
		/* requests in flight end, the queues log out, the device goes */
		if (!lb_ublk_dev_destroy(v->ublk, volume_log, v))
			clean = false;
		v->ublk = NULL;
	}
	if (v->nbd_index >= 0) {
		if (lb_nbd_nl_disconnect((uint32_t)v->nbd_index, &err) < 0)
			vlog(v, "%s", err.msg);
		v->nbd_index = -1;
		/* the device stays: its links must go */
		state_save(v);
		devlink_announce(v, v->where);
	}
	if (v->srv) {
		nbd_server_shutdown(v->srv);
		if (v->socket_bound) /* never another server's socket */
			(void)unlink(v->cfg->export->socket_path);
		if (!run_until(v, server_idle, NULL, TEARDOWN_TIMEOUT_MS)) {
			vlog(v, "requests still in flight after %u s: giving up on them",
			     TEARDOWN_TIMEOUT_MS / 1000);
			clean = false;
		}
	}
	for (struct channel *ch = v->channels; ch; ch = ch->next)
		if (ch != v->primary && ch->st == CH_READY)
			channel_retire(ch);
	if (clean && !run_until(v, channels_gone, NULL, TEARDOWN_TIMEOUT_MS)) {
		vlog(v, "sessions still logging out: leaving them");
		clean = false;
	}
	if (clean && ok && v->primary->e->info.flush &&
	    (!v->primary->s ||
	     iscsi_session_get_state(v->primary->s) == ISCSI_SESSION_FULL_FEATURE)) {
		struct flush_wait w = {.io = {.op = LB_IO_FLUSH, .done = flush_done}};

		int r = lb_engine_submit(v->primary->e, &w.io);

		if (r < 0)
			flush_done(&w.io, r);
		if (!run_until(v, flush_finished, &w, TEARDOWN_TIMEOUT_MS))
			clean = false;
		else if (w.res < 0)
			vlog(v, "SYNCHRONIZE CACHE failed: %s", strerror(-w.res));
	}
	if (clean && v->primary->s && logged_in(v->primary->s))
		(void)iscsi_session_logout_sync(v->primary->s);
	if (v->detach_client) {
		char line[128];

		snprintf(line, sizeof(line), "detached %s\n", v->cfg->name);
		lb_ctl_reply(v->detach_client, line);
		v->detach_client = NULL;
	}
	if (v->ctl) {
		lb_ctl_shutdown(v->ctl);
		if (!run_until(v, ctl_idle, NULL, 5000))
			clean = false;
	}
	if (v->sigfd >= 0) {
		lb_loop_cancel(v->loop, &v->sig_op);
		if (!run_until(v, sig_idle, NULL, 5000))
			clean = false;
	}
	return clean;
}

static void volume_free(struct volume *v, bool clean)
{
	if (!clean)
		return; /* SQEs still name our memory: the process exits anyway */
	if (v->srv)
		nbd_server_free(v->srv);
	lb_ctl_free(v->ctl);
	if (v->sigfd >= 0)
		close(v->sigfd);
	while (v->channels) {
		struct channel *ch = v->channels;

		v->channels = ch->next;
		channel_free(ch);
	}
}

int lb_volume_run(struct lb_loop *loop, struct iscsi_session *s, struct lb_rt_lock *lock,
		  const struct lb_volume_config *cfg, lb_err *err)
{
	struct volume v = {
		.loop = loop,
		.cfg = cfg,
		.lock = lock,
		.nbd_index = -1,
		.sigfd = -1,
		.state = "starting",
	};
	char path[PATH_MAX];
	int r = 0;

	v.primary = channel_new(&v, s);
	if (!v.primary) {
		iscsi_session_free(s);
		lb_engine_free(cfg->engine);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	v.primary->st = CH_READY;
	if (cfg->engine)
		v.primary->e = cfg->engine;
	else
		r = lb_engine_iscsi_new(s, cfg->lun, &v.primary->e, err);
	if (r < 0)
		goto fail;
	export_desc(&v);
	r = signals_setup(&v, err);
	if (r < 0)
		goto fail;
	if (cfg->export->kind != LB_EXPORT_UBLK) {
		r = nbd_server_new(loop, &v.desc, &server_ops, &v, &v.srv);
		if (r < 0) {
			lb_err_set(err, r, "out of memory");
			goto fail;
		}
	}
	if (cfg->export->kind == LB_EXPORT_NBD_UNIX || cfg->export->kind == LB_EXPORT_NBD_TCP)
		r = export_socket(&v, err);
	else if (cfg->export->kind == LB_EXPORT_NBD_KERNEL)
		r = export_kernel(&v, err);
	else
		r = export_ublk(&v, err);
	if (r < 0)
		goto fail;
	r = lb_rt_path(lock->dir, cfg->name, "sock", path, sizeof(path));
	if (r == 0)
		r = lb_ctl_new(loop, path, control, &v, &v.ctl, err);
	else
		lb_err_set(err, r, "run directory path too long");
	if (r < 0)
		goto fail;

	v.state = "ready";
	state_save(&v);
	if (cfg->export->kind == LB_EXPORT_NBD_KERNEL || cfg->export->kind == LB_EXPORT_UBLK)
		devlink_announce(&v, v.where);
	vlog(&v, "volume %s: %s LUN %u (%" PRIu64 " bytes, %u-byte blocks) on %s", cfg->name,
	     cfg->target, cfg->lun, v.desc.size, v.desc.min_block, v.where);
	if (cfg->ready)
		cfg->ready(cfg->ready_arg, v.where);

	while (!v.stop) {
		r = lb_loop_run_once(loop, 1000);
		if (r < 0 && r != -EINTR && r != -ETIME) {
			vlog(&v, "event loop failed: %s", strerror(-r));
			break;
		}
		channels_reap(&v);
	}
	vlog(&v, "volume %s: %s, detaching", cfg->name, v.stop_reason ? v.stop_reason : "stopping");
	if (cfg->stopping)
		cfg->stopping(cfg->ready_arg);
	state_save(&v);
	{
		bool clean = teardown(&v, true);

		volume_free(&v, clean);
		vlog(&v, "volume %s detached%s", cfg->name, clean ? "" : " (not cleanly)");
	}
	return 0;

fail:
	volume_free(&v, teardown(&v, false));
	return r;
}
