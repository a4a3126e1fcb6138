/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume's life: start its frontend on the first engine, serve (an
 * engine per client where the engine wants one), answer the control
 * socket, and on detach or SIGTERM tear down in order: the frontend
 * (device gone, requests in flight answered), the clients' engines,
 * SYNCHRONIZE CACHE, the first engine's stop (logout), runtime files.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool lb_volume_run_until(struct lb_volume *v, bool (*cond)(void *arg), void *arg,
			 uint32_t timeout_ms)
{
	uint64_t end = lb_now_ms() + timeout_ms;

	while (!cond(arg)) {
		uint64_t now = lb_now_ms();
		int r;

		if (now >= end)
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

/* Tear down what was set up, in order.  ok: the volume ran (flush and
 * say so); false: startup failed part way. */
static bool teardown(struct lb_volume *v, bool ok)
{
	struct lb_engine *first = v->primary->e;
	bool clean = true;

	v->state = "detaching";
	/* the device goes (or is let go), requests in flight are answered */
	if (v->fe && !v->fops->stop(v->fe))
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

	while (!v.stop) {
		r = lb_loop_run_once(loop, 1000);
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
