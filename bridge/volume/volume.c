/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume's life: start its frontend on the first engine, serve (an
 * engine per client where the engine wants one), answer the control
 * socket, and on detach or SIGTERM tear down in order: the device's
 * dirty pages written back, the frontend (device gone, requests in flight
 * answered), the clients' engines, SYNCHRONIZE CACHE, the first engine's
 * stop (logout), runtime files.  A signal's stop is bounded (volume.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harden.h"
#include "macro.h"
#include "volume-internal.h"

/* ---- what a frontend may ask ---- */

struct lb_loop *lb_volume_loop(const struct lb_volume *v)
{
	return v->loop;
}

const struct lb_volume_config *lb_volume_config(const struct lb_volume *v)
{
	return v->cfg;
}

struct lb_engine *lb_volume_engine(const struct lb_volume *v)
{
	return v->primary->e;
}

unsigned lb_volume_queues(const struct lb_volume *v)
{
	return v->cfg->queues ? v->cfg->queues : 1;
}

bool lb_volume_stopping(const struct lb_volume *v)
{
	return v->stop;
}

void lb_volume_log(struct lb_volume *v, const char *fmt, ...)
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

void lb_volume_log_line(void *arg, const char *line)
{
	lb_volume_log(arg, "%s", line);
}

/* A signal's stop is bounded: at cancel_at what is still in flight is
 * cancelled and fenced; false once give_up_at has passed. */
static bool stop_bound(struct lb_volume *v, uint64_t now)
{
	uint64_t cancel_at = atomic_load(&v->cancel_at);

	if (cancel_at && now >= cancel_at && !v->cancelled) {
		v->cancelled = true;
		lb_volume_log(v,
			      "requests still in flight %u s after the stop was asked: cancelling "
			      "and fencing them (at most %u s more)",
			      LB_VOLUME_STOP_GRACE_MS / 1000, LB_VOLUME_STOP_FENCE_MS / 1000);
		volume_channels_cancel_all(v);
	}
	if (v->give_up_at && now >= v->give_up_at) {
		if (v->gave_up)
			return false;
		v->gave_up = true;
		lb_volume_log(v,
			      "the stop is not done %u s after it was asked: leaving the rest (a "
			      "restarted bridge's logins fence what its sessions still carry)",
			      (LB_VOLUME_STOP_GRACE_MS + LB_VOLUME_STOP_FENCE_MS) / 1000);
		return false;
	}
	return true;
}

/* The ISID slots the dead bridge this one follows had used for its
 * clients (its NAME.json's isid_slots), when it served the same LUN. */
static unsigned stale_slots(struct lb_volume *v)
{
	struct lb_stale_device sd = lb_volume_stale_device(v, LB_EXPORT_NBD_UNIX);
	struct json_object *o, *x;
	unsigned n = 0;

	if (!sd.same_lun || !v->lock->stale || !(o = json_tokener_parse(v->lock->stale)))
		return 0;
	if (json_object_object_get_ex(o, "isid_slots", &x))
		n = (unsigned)json_object_get_uint64(x);
	json_object_put(o);
	return n;
}

bool lb_volume_run_until(struct lb_volume *v, bool (*cond)(void *arg), void *arg,
			 uint32_t timeout_ms)
{
	uint64_t end = lb_now_ms() + timeout_ms;

	while (!cond(arg)) {
		uint64_t now = lb_now_ms();
		int r;

		if (now >= end || !stop_bound(v, now))
			return false;
		r = lb_loop_run_once(v->loop, (int)(end - now < 500 ? end - now : 500));
		if (r < 0 && r != -EINTR && r != -ETIME) {
			lb_volume_log(v, "event loop failed: %s", strerror(-r));
			return false;
		}
		volume_channels_reap(v);
	}
	return true;
}

static void harden_warn(void *arg, const char *line)
{
	lb_volume_log(arg, "warning: %s", line);
}

void lb_volume_harden_for_device(struct lb_volume *v)
{
	(void)lb_harden_for_block_device(harden_warn, v);
}

/* ---- teardown ---- */

static bool channels_gone(void *arg)
{
	return volume_channels_gone(arg);
}

static bool ctl_idle(void *arg)
{
	struct lb_volume *v = arg;

	return !v->ctl || lb_control_idle(v->ctl);
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

static bool flush_finished(void *arg)
{
	return ((struct flush_wait *)arg)->done;
}

/* The device's dirty pages written back before it goes: with ublk user
 * recovery, STOP_DEV fails whatever writeback del_gendisk() starts.  It
 * runs on a thread of its own while the loop serves the writeback (the
 * kernel NBD device is served by this loop: an fsync here would wait on
 * itself). */
struct dev_flush {
	char path[64];
	pthread_t thread;
	_Atomic bool done;
	int err; /* errno of what failed, 0: none */
	const char *what;
};

static void *dev_flush_thread(void *arg)
{
	struct dev_flush *f = arg;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		f->err = errno;
		f->what = "open";
	} else {
		/* as `blockdev --flushbufs`: a file system on it syncs too (and
		 * the clean cache goes); then fsync writes back what is dirty
		 * and flushes the LUN's cache (SYNCHRONIZE CACHE) */
		if (ioctl(fd, BLKFLSBUF, 0) < 0 && errno != ENOTTY) {
			f->err = errno;
			f->what = "BLKFLSBUF";
		}
		if (fsync(fd) < 0) {
			f->err = errno;
			f->what = "fsync";
		}
		close(fd);
	}
	atomic_store(&f->done, true);
	return NULL;
}

static bool dev_flush_done(void *arg)
{
	return atomic_load(&((struct dev_flush *)arg)->done);
}

/* Write the device's dirty pages back: false if that did not end in time
 * (the thread is left: the process exits with the volume unclean). */
static bool device_flush(struct lb_volume *v)
{
	const char *dev = v->fe && v->fops->device ? v->fops->device(v->fe) : NULL;
	struct dev_flush *f;
	int r;

	if (!dev || strncmp(dev, "/dev/", 5) != 0)
		return true;
	f = calloc(1, sizeof(*f));
	if (!f)
		return true; /* the device's own stop writes back, as before */
	snprintf(f->path, sizeof(f->path), "%s", dev);
	r = pthread_create(&f->thread, NULL, dev_flush_thread, f);
	if (r != 0) {
		lb_volume_log(v, "cannot flush %s: %s", dev, strerror(r));
		free(f);
		return true;
	}
	if (!lb_volume_run_until(v, dev_flush_done, f, LB_VOLUME_TEARDOWN_TIMEOUT_MS)) {
		lb_volume_log(v, "%s: its dirty pages were not written back in time", dev);
		pthread_detach(f->thread);
		return false; /* f stays: the thread still uses it */
	}
	pthread_join(f->thread, NULL);
	if (f->err)
		lb_volume_log(v, "%s: %s: %s (data written without fsync may be lost)", dev,
			      f->what, strerror(f->err));
	else
		lb_volume_log(v, "%s: dirty pages written back and flushed", dev);
	free(f);
	return true;
}

/* Tear down what was set up, in order.  ok: the volume ran (flush and
 * say so); false: startup failed part way. */
static bool teardown(struct lb_volume *v, bool ok)
{
	struct lb_engine *first = v->primary->e;
	bool clean = true;

	v->state = "detaching";
	/* what the device's users wrote reaches the LUN while it still serves */
	if (ok && !device_flush(v))
		clean = false;
	/* the device goes (or is let go), requests in flight are answered */
	if (clean && v->fe && !v->fops->stop(v->fe))
		clean = false;
	volume_channels_retire(v);
	if (clean && !lb_volume_run_until(v, channels_gone, v, LB_VOLUME_TEARDOWN_TIMEOUT_MS)) {
		lb_volume_log(v, "sessions still logging out: leaving them");
		clean = false;
	}
	/* what the LUN acknowledged is made durable before we leave it */
	if (clean && ok && first->info.flush && lb_engine_ready(first)) {
		struct flush_wait w = {.io = {.op = LB_IO_FLUSH, .done = flush_done}};
		int r = lb_engine_submit(first, &w.io);

		if (r < 0)
			flush_done(&w.io, r);
		if (!lb_volume_run_until(v, flush_finished, &w, LB_VOLUME_TEARDOWN_TIMEOUT_MS))
			clean = false;
		else if (w.res < 0)
			lb_volume_log(v, "SYNCHRONIZE CACHE failed: %s", strerror(-w.res));
	}
	if (clean)
		lb_engine_stop_sync(first);
	if (v->detach_client) {
		char line[128];

		snprintf(line, sizeof(line), "detached %s\n", v->cfg->name);
		lb_control_reply(v->detach_client, line);
		v->detach_client = NULL;
	}
	if (v->ctl) {
		lb_control_shutdown(v->ctl);
		if (!lb_volume_run_until(v, ctl_idle, v, 5000))
			clean = false;
	}
	if (!volume_signals_stop(v))
		clean = false;
	return clean;
}

static void volume_free(struct lb_volume *v, bool clean)
{
	if (!clean)
		return; /* SQEs still name our memory: the process exits anyway */
	if (v->fe)
		v->fops->free(v->fe);
	lb_control_free(v->ctl);
	if (v->sigfd >= 0)
		close(v->sigfd);
	volume_channels_free(v);
}

/* ---- run ---- */

static int volume_start(struct lb_volume *v, lb_err *err)
{
	char path[PATH_MAX];
	int r;

	v->fops = lb_frontend_for(v->cfg->export->kind);
	if (!v->fops)
		return lb_err_set(err, EINVAL, "no frontend serves this export");
	r = volume_signals_setup(v, err);
	if (r < 0)
		return r;
	r = v->fops->start(v, &v->fe, err);
	if (r < 0)
		return r;
	r = lb_runtime_path(v->lock->dir, v->cfg->name, "sock", path, sizeof(path));
	if (r < 0)
		return lb_err_set(err, r, "run directory path too long");
	return lb_control_new(v->loop, path, volume_control, v, &v->ctl, err);
}

int lb_volume_run(struct lb_loop *loop, struct lb_runtime_lock *lock,
		  const struct lb_volume_config *cfg, lb_err *err)
{
	struct lb_volume v = {
		.loop = loop,
		.cfg = cfg,
		.lock = lock,
		.sigfd = -1,
		.state = "starting",
	};
	const struct lb_volume_info *vi = &cfg->engine->info;
	const char *where, *dev;
	int r;

	v.primary = volume_channel_new(&v, cfg->engine);
	if (!v.primary) {
		lb_engine_stop_sync(cfg->engine);
		lb_engine_free(cfg->engine);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	v.primary->st = CH_READY;
	volume_hold_engine(v.primary, cfg->engine);
	/* before anything is served: end the sessions a dead bridge of this
	 * volume had for its clients (NBD clients, kernel sockets, ublk
	 * queues), those whose slots nothing here would take again too (NBD
	 * clients that do not come back) */
	volume_channels_sweep(&v, stale_slots(&v));
	r = volume_start(&v, err);
	if (r < 0) {
		volume_free(&v, teardown(&v, false));
		return r;
	}

	v.state = "ready";
	volume_state_save(&v);
	where = v.fops->where(v.fe);
	dev = v.fops->device ? v.fops->device(v.fe) : NULL;
	if (dev)
		volume_devlink_announce(&v, dev);
	lb_volume_log(&v, "volume %s: %s LUN %u (%" PRIu64 " bytes, %u-byte blocks) on %s",
		      cfg->name, cfg->target, cfg->lun, vi->size, vi->block_size, where);
	if (cfg->ready)
		cfg->ready(cfg->ready_arg, where);

	/* No timeout: everything that asks for a stop or ends a channel
	 * (signals, the control socket, I/O, the sessions' own timers)
	 * arrives as a completion, and an idle volume must not wake. */
	while (!v.stop) {
		r = lb_loop_run_once(loop, -1);
		if (r < 0 && r != -EINTR && r != -ETIME) {
			lb_volume_log(&v, "event loop failed: %s", strerror(-r));
			break;
		}
		volume_channels_reap(&v);
	}
	lb_volume_log(&v, "volume %s: %s, detaching", cfg->name,
		      v.stop_reason ? v.stop_reason : "stopping");
	if (cfg->stopping)
		cfg->stopping(cfg->ready_arg);
	volume_state_save(&v);
	{
		bool clean = teardown(&v, true);

		volume_free(&v, clean);
		lb_volume_log(&v, "volume %s detached%s", cfg->name, clean ? "" : " (not cleanly)");
	}
	return 0;
}
