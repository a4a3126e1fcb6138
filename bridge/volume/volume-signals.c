/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What asks a volume to stop, or about itself: the control socket's
 * commands (status, detach) and the signals (SIGTERM and SIGINT detach,
 * SIGHUP has nothing to reload), read through a signalfd on the loop.
 *
 * SIGTERM is refused while the device is in use (mounted, held by a
 * stacked device, open by a process: holders.h), as `detach` is without
 * --force: one line names the holder and the volume serves on.  A second
 * SIGTERM within REFUSE_WINDOW_MS stops it anyway (an operator who
 * insists; systemd's shutdown has unmounted what it mounted from the
 * device by then, as the unit orders itself before remote-fs-pre).
 * SIGINT is not refused.  A signal's stop is bounded (volume.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "holders.h"
#include "macro.h"
#include "volume-internal.h"

#define REFUSE_WINDOW_MS 10000u /* a second SIGTERM within it stops anyway */

void volume_request_stop(struct lb_volume *v, const char *why)
{
	if (v->stop)
		return;
	v->stop = true;
	v->stop_reason = why;
}

void volume_request_stop_bounded(struct lb_volume *v, const char *why)
{
	uint64_t now = lb_now_ms();

	if (atomic_load(&v->cancel_at))
		return;
	/* a detach under way becomes bounded too */
	volume_request_stop(v, why);
	atomic_store(&v->cancel_at, now + LB_VOLUME_STOP_GRACE_MS);
	v->give_up_at = now + LB_VOLUME_STOP_GRACE_MS + LB_VOLUME_STOP_FENCE_MS;
}

uint64_t lb_volume_cancel_at(const struct lb_volume *v)
{
	return atomic_load(&v->cancel_at);
}

/* Who holds the volume's block device, in words in buf: true if anyone
 * but this process does. */
static bool device_held(struct lb_volume *v, char *buf, size_t len)
{
	static const struct lb_holders_root root = {"/proc", "/sys"};
	const char *dev = v->fe && v->fops->device ? v->fops->device(v->fe) : NULL;

	return dev && strncmp(dev, "/dev/", 5) == 0 &&
	       lb_device_holder(&root, dev + 5, getpid(), buf, len) == 1;
}

/* SIGTERM: false if refused (said) because the device is in use. */
static bool sigterm_allowed(struct lb_volume *v)
{
	uint64_t now = lb_now_ms();
	char why[600];

	if (v->stop || !device_held(v, why, sizeof(why)))
		return true;
	if (v->refused_at && now - v->refused_at < REFUSE_WINDOW_MS) {
		lb_volume_log(v, "SIGTERM again: detaching although %s", why);
		return true;
	}
	v->refused_at = now;
	lb_volume_log(v,
		      "SIGTERM refused: %s; not detaching (let it go, or send SIGTERM again "
		      "within %u s)",
		      why, REFUSE_WINDOW_MS / 1000);
	return false;
}

void volume_control(void *arg, struct lb_control_client *cl, const char *cmd)
{
	struct lb_volume *v = arg;

	if (strcmp(cmd, "status") == 0) {
		char *text = volume_status_line(v);

		lb_control_reply(cl, text ? text : "error: out of memory\n");
		free(text);
	} else if (strcmp(cmd, "detach") == 0) {
		if (v->detach_client) {
			lb_control_reply(cl, "error: a detach is already in progress\n");
			return;
		}
		v->detach_client = cl; /* answered once the volume is gone */
		volume_request_stop(v, "detach requested");
	} else {
		lb_control_reply(cl, "error: unknown command\n");
	}
}

static void sig_arm(struct lb_volume *v);

static void sig_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct lb_volume *v = container_of(op, struct lb_volume, sig_op);

	if (res == (int)sizeof(v->si)) {
		if (v->si.ssi_signo == SIGHUP) {
			lb_volume_log(v, "SIGHUP: nothing to reload");
		} else if (v->si.ssi_signo != SIGTERM || sigterm_allowed(v)) {
			lb_volume_log(v, "%s: detaching", strsignal((int)v->si.ssi_signo));
			volume_request_stop_bounded(v, v->si.ssi_signo == SIGTERM ? "SIGTERM"
										  : "SIGINT");
		}
	}
	if (res != -ECANCELED && v->sigfd >= 0)
		sig_arm(v);
}

static void sig_arm(struct lb_volume *v)
{
	struct io_uring_sqe *sqe;

	if (lb_loop_sqe(v->loop, &v->sig_op, &sqe) < 0)
		return;
	io_uring_prep_read(sqe, v->sigfd, &v->si, sizeof(v->si), 0);
}

int volume_signals_setup(struct lb_volume *v, lb_err *err)
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

static bool sig_idle(void *arg)
{
	struct lb_volume *v = arg;

	return !v->sig_op.busy;
}

bool volume_signals_stop(struct lb_volume *v)
{
	if (v->sigfd < 0)
		return true;
	lb_loop_cancel(v->loop, &v->sig_op);
	return lb_volume_run_until(v, sig_idle, v, 5000);
}
