/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "harden.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

static void warnf(lb_harden_warn_fn *warn, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warnf(lb_harden_warn_fn *warn, void *arg, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	warn(arg, line);
}

int lb_harden_io_flusher(lb_harden_warn_fn *warn, void *arg)
{
	int e;

	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) == 0)
		return 0;
	e = errno;
	warnf(warn, arg, "cannot mark the process as an I/O flusher (PR_SET_IO_FLUSHER): %s",
	      strerror(e));
	return -e;
}

int lb_harden_lock_memory(lb_harden_warn_fn *warn, void *arg)
{
	int rc, e;

#ifdef MCL_ONFAULT
	/* lock what is touched, not every reserved stack and buffer up front */
	rc = mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
	if (rc < 0 && errno == EINVAL) /* a kernel before 4.4 */
		rc = mlockall(MCL_CURRENT | MCL_FUTURE);
#else
	rc = mlockall(MCL_CURRENT | MCL_FUTURE);
#endif
	if (rc == 0)
		return 0;
	e = errno;
	warnf(warn, arg, "cannot lock the process's memory (mlockall): %s", strerror(e));
	return -e;
}

int lb_harden_oom_score_adj(const char *path, int value, lb_harden_warn_fn *warn, void *arg)
{
	_cleanup_close_ int fd = -1;
	char buf[16];
	ssize_t n;
	int len, e;

	if (!path)
		path = LB_HARDEN_OOM_SCORE_ADJ_PATH;
	len = snprintf(buf, sizeof(buf), "%d\n", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	n = write(fd, buf, (size_t)len);
	if (n == len)
		return 0;
	e = n < 0 ? errno : EIO;
fail:
	warnf(warn, arg, "cannot write %d to %s: %s", value, path, strerror(e));
	return -e;
}

int lb_harden_for_block_device(lb_harden_warn_fn *warn, void *arg)
{
	int failed = 0;

	failed += lb_harden_io_flusher(warn, arg) < 0;
	failed += lb_harden_lock_memory(warn, arg) < 0;
	failed += lb_harden_oom_score_adj(NULL, LB_HARDEN_OOM_SCORE_ADJ_MIN, warn, arg) < 0;
	return failed;
}
