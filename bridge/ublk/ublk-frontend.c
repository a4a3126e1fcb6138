/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ublk device (/dev/ublkbN): a frontend (frontend.h) whose queues run
 * on threads of their own, each with its own clone of the volume's first
 * engine on its own loop (a session each, for our initiator).  A device a
 * dead bridge of this volume left quiesced is taken back by user recovery
 * when it still fits, else removed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"
#include "macro.h"
#include "ublk-ctrl.h"
#include "ublk-dev.h"
#include "volume.h"

struct ublk_frontend {
	struct lb_volume *v;
	struct lb_ublk_dev *dev; /* NULL: none (yet, or any more) */
	struct lb_ublk_engine_ops ops;
	struct ublk_queue_engine {
		struct ublk_frontend *f;
		unsigned q;
	} qe[LB_UBLK_QUEUES_MAX];
	char where[64];
};

/* A line from the device or its queues (any thread); arg is the frontend. */
static void ublk_log(void *arg, const char *line)
{
	struct ublk_frontend *f = arg;

	lb_volume_log(f->v, "%s", line);
}

static void queue_log(void *arg, const char *line)
{
	struct ublk_queue_engine *qe = arg;

	lb_volume_log(qe->f->v, "queue %u session: %s", qe->q, line);
}

/* On queue q's thread: the LUN's engine on the queue's own loop, up. */
static int queue_engine_open(void *arg, unsigned q, struct lb_loop *loop, struct lb_engine **ret,
			     lb_err *err)
{
	struct ublk_frontend *f = arg;
	struct ublk_queue_engine *qe = &f->qe[q];
	struct lb_engine *e = NULL;
	lb_err why = {{0}};
	int r;

	qe->f = f;
	qe->q = q;
	r = lb_engine_clone(lb_volume_engine(f->v), loop, &e, &why);
	if (r == 0) {
		lb_engine_set_log(e, queue_log, qe);
		r = lb_engine_start_sync(e, &why);
	}
	if (r < 0) {
		lb_engine_free(e);
		return lb_err_set(err, r, "queue %u: %s", q, lb_err_msg(&why, r));
	}
	*ret = e;
	return 0;
}

/* Any thread: when a bounded stop gives up what the queues still have. */
static uint64_t queue_cancel_at(void *arg)
{
	struct ublk_frontend *f = arg;

	return lb_volume_cancel_at(f->v);
}

/* On queue q's thread: its engine stopped (logged out) and freed. */
static void queue_engine_close(void *arg, unsigned q, struct lb_loop *loop, struct lb_engine *e)
{
	lb_engine_stop_sync(e);
	lb_engine_free(e);
}

static int ublk_start(struct lb_volume *v, struct lb_frontend **ret, lb_err *err)
{
	const struct lb_volume_config *cfg = lb_volume_config(v);
	struct lb_stale_device sd = lb_volume_stale_device(v, LB_EXPORT_UBLK);
	struct ublk_frontend *f = calloc(1, sizeof(*f));
	struct lb_ublk_dev_config uc = {
		.dev_id = cfg->export->index,
		.queues = lb_volume_queues(v),
		.recovery = cfg->ublk_recovery,
		.info = &lb_volume_engine(v)->info,
	};
	int r;

	if (!f)
		return lb_err_set(err, ENOMEM, "out of memory");
	*ret = (struct lb_frontend *)f;
	f->v = v;
	f->ops = (struct lb_ublk_engine_ops){
		.open = queue_engine_open,
		.close = queue_engine_close,
		.log = ublk_log,
		.cancel_at = queue_cancel_at,
		.arg = f,
	};
	uc.ops = &f->ops;
	r = lb_ublk_ctrl_probe(err);
	if (r < 0)
		return r;
	lb_volume_harden_for_device(v);
	if (sd.index >= 0) {
		bool take = sd.same_lun && (uc.dev_id < 0 || uc.dev_id == sd.index);
		struct lb_ublk_dev_info info;

		r = lb_ublk_dev_info((uint32_t)sd.index, &info, err);
		if (r == 0 && info.ublksrv_pid > 0 && info.ublksrv_pid != getpid() &&
		    kill(info.ublksrv_pid, 0) == 0) {
			/* the id went to another server since: not ours to touch */
			lb_volume_log(v,
				      "ublk device %d, left by a bridge of this volume, is served "
				      "by pid %d now: leaving it",
				      sd.index, (int)info.ublksrv_pid);
		} else if (r == 0 && take && info.state != LB_UBLK_S_DEV_DEAD &&
			   (info.flags & LB_UBLK_F_USER_RECOVERY)) {
			lb_volume_log(
				v, "taking back /dev/ublkb%d, left %s by a bridge of this volume",
				sd.index, lb_ublk_state_name(info.state));
			r = lb_ublk_dev_recover(&uc, (uint32_t)sd.index, &f->dev, err);
			if (r < 0)
				return r;
			goto ready;
		} else if (r == 0) {
			lb_volume_log(
				v, "removing ublk device %d, left by a bridge of this volume: %s",
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
	r = lb_ublk_dev_create(&uc, &f->dev, err);
	if (r < 0)
		return r;
ready:
	snprintf(f->where, sizeof(f->where), LB_UBLK_BLOCK_FMT, lb_ublk_dev_id(f->dev));
	return 0;
}

/* STOP_DEV waits in the kernel for the requests in flight: on a thread
 * of its own, so that the volume's loop runs and bounds the wait. */
struct ublk_stopper {
	struct ublk_frontend *f;
	struct lb_ublk_dev *dev;
	_Atomic bool done;
	bool clean;
	/* once the volume gave up waiting it may be gone: the thread logs
	 * to stderr from then on (abandoned, under lock) */
	pthread_mutex_t lock;
	bool abandoned;
};

static void stopper_log(void *arg, const char *line)
{
	struct ublk_stopper *s = arg;

	pthread_mutex_lock(&s->lock);
	if (s->abandoned)
		fprintf(stderr, "lunbridge: %s\n", line);
	else
		lb_volume_log_line(s->f->v, line);
	pthread_mutex_unlock(&s->lock);
}

static void *ublk_stop_thread(void *arg)
{
	struct ublk_stopper *s = arg;

	s->clean = lb_ublk_dev_destroy(s->dev, stopper_log, s);
	atomic_store(&s->done, true);
	return NULL;
}

static bool ublk_stopped(void *arg)
{
	return atomic_load(&((struct ublk_stopper *)arg)->done);
}

/* Requests in flight end, the queues' engines stop, the device goes.
 * false if that outlived the volume's deadline: the stopper is left (the
 * process exits; with user recovery the device waits for a successor). */
static bool ublk_stop(struct lb_frontend *fe)
{
	struct ublk_frontend *f = (struct ublk_frontend *)fe;
	struct ublk_stopper *s;
	pthread_t t;
	bool clean;

	if (!f->dev)
		return true;
	s = calloc(1, sizeof(*s));
	if (s) {
		s->f = f;
		s->dev = f->dev;
		pthread_mutex_init(&s->lock, NULL);
	}
	if (!s || pthread_create(&t, NULL, ublk_stop_thread, s) != 0) {
		free(s); /* stop it here, unbounded */
		clean = lb_ublk_dev_destroy(f->dev, lb_volume_log_line, f->v);
		f->dev = NULL;
		return clean;
	}
	f->dev = NULL;
	if (!lb_volume_run_until(f->v, ublk_stopped, s, LB_VOLUME_TEARDOWN_TIMEOUT_MS)) {
		lb_volume_log(f->v, "%s: its requests in flight did not end in time", f->where);
		pthread_mutex_lock(&s->lock);
		s->abandoned = true;
		pthread_mutex_unlock(&s->lock);
		pthread_detach(t);
		return false; /* s stays: the thread still uses it */
	}
	pthread_join(t, NULL);
	clean = s->clean;
	pthread_mutex_destroy(&s->lock);
	free(s);
	return clean;
}

static void ublk_free(struct lb_frontend *fe)
{
	free(fe);
}

static const char *ublk_where(const struct lb_frontend *fe)
{
	return ((const struct ublk_frontend *)fe)->where;
}

static const char *ublk_export_name(const struct lb_frontend *fe)
{
	return "ublk";
}

static const char *ublk_device(const struct lb_frontend *fe)
{
	const struct ublk_frontend *f = (const struct ublk_frontend *)fe;

	return f->dev ? f->where : NULL;
}

static void ublk_stats(const struct lb_frontend *fe, struct lb_frontend_stats *ret)
{
	const struct ublk_frontend *f = (const struct ublk_frontend *)fe;

	if (!f->dev)
		return;
	lb_ublk_dev_add_stats(f->dev, &ret->io);
	ret->sessions = lb_ublk_dev_queues(f->dev);
}

static void ublk_stats_json(const struct lb_frontend *fe, struct json_object *st)
{
	const struct ublk_frontend *f = (const struct ublk_frontend *)fe;

	static const struct {
		uint64_t flag;
		const char *name;
	} names[] = {
		{LB_UBLK_F_URING_CMD_COMP_IN_TASK, "URING_CMD_COMP_IN_TASK"},
		{LB_UBLK_F_USER_RECOVERY, "USER_RECOVERY"},
		{LB_UBLK_F_USER_RECOVERY_REISSUE, "USER_RECOVERY_REISSUE"},
		{LB_UBLK_F_CMD_IOCTL_ENCODE, "CMD_IOCTL_ENCODE"},
	};
	struct json_object *granted;
	uint64_t flags;

	if (!f->dev)
		return;
	json_object_object_add(st, "ublk_recovery",
			       json_object_new_boolean(lb_ublk_dev_recoverable(f->dev)));
	/* what the kernel granted of what we use, by name */
	flags = lb_ublk_dev_flags(f->dev);
	granted = json_object_new_array();
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (flags & names[i].flag)
			json_object_array_add(granted, json_object_new_string(names[i].name));
	json_object_object_add(st, "ublk_features", granted);
}

const struct lb_frontend_ops lb_frontend_ublk = {
	.name = "ublk",
	.start = ublk_start,
	.stop = ublk_stop,
	.free = ublk_free,
	.where = ublk_where,
	.export_name = ublk_export_name,
	.device = ublk_device,
	.stats = ublk_stats,
	.stats_json = ublk_stats_json,
};
