/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The run directory: volume names, their locks, state files and control sockets. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "runtime.h"

static int read_all(int fd, int timeout_ms, char **ret);

#define STATE_MAX (64 * 1024) /* a state file is a few hundred bytes */

/* A state file for reading: a regular file of at most STATE_MAX bytes,
 * never through a symlink or into a FIFO.  fd or -errno. */
static int open_state(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATE_MAX) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

const char *lb_runtime_dir(void)
{
	const char *d = getenv("LUNBRIDGE_RUN_DIR");

	return d && *d ? d : LB_RUN_DIR_DEFAULT;
}

long lb_runtime_pid(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long pid;

	while (f && fgets(line, sizeof(line), f))
		/* "NSpid:\t4711\t1": from /proc's namespace down to ours */
		if (strncmp(line, "NSpid:", 6) == 0 && sscanf(line + 6, "%ld", &pid) == 1 &&
		    pid > 0)
			return pid;
	return (long)getpid();
}

bool lb_runtime_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-' || c == ':';
}

int lb_runtime_name_check(const char *name, lb_err *err)
{
	size_t len = strlen(name);

	if (len == 0)
		return lb_err_set(err, EINVAL, "the volume name is empty");
	if (len > LB_VOLUME_NAME_MAX)
		return lb_err_set(err, EINVAL,
				  "volume name '%.16s...' is longer than %d characters", name,
				  LB_VOLUME_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return lb_err_set(err, EINVAL, "volume name '%s' starts with '%c'", name, name[0]);
	for (const char *p = name; *p; p++)
		if (!lb_runtime_name_char(*p))
			return lb_err_set(err, EINVAL,
					  "volume name '%s' has '%c': use letters, digits and _.:-",
					  name, *p);
	/* /dev/disk/by-lunbridge/NAME-partN is partition N of volume NAME */
	{
		const char *d = strrchr(name, '-');
		size_t digits = d && strncmp(d, "-part", 5) == 0 ? strspn(d + 5, "0123456789") : 0;

		if (digits > 0 && d[5 + digits] == '\0')
			return lb_err_set(err, EINVAL,
					  "volume name '%s' ends in -partN, the name of a "
					  "volume's partition link",
					  name);
	}
	return 0;
}

int lb_runtime_path(const char *dir, const char *name, const char *suffix, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.%s", dir, name, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Is the lock at path held by a live bridge?  (F_OFD_GETLK tests without
 * taking anything, so it never disturbs an attach in progress.) */
static bool lock_held(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fd < 0)
		return false;
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return false;
	return fl.l_type != F_UNLCK;
}

static long lock_pid(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	long pid = 0;

	if (f && fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	return pid;
}

int lb_runtime_lock(const char *dir, const char *name, struct lb_runtime_lock *ret, lb_err *err)
{
	char path[PATH_MAX], spath[PATH_MAX], pid[32];
	int r;

	r = lb_runtime_name_check(name, err);
	if (r < 0)
		return r;
	if (strlen(dir) >= sizeof(ret->dir) ||
	    lb_runtime_path(dir, name, "lock", path, sizeof(path)))
		return lb_err_set(err, ENAMETOOLONG, "run directory '%s' is too long", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return lb_err_set(err, errno, "cannot create run directory %s: %m", dir);
	for (int attempt = 0; attempt < 5; attempt++) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		struct stat a, b;
		_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return lb_err_set(err, errno, "cannot open %s: %m", path);
		if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
			if (errno != EAGAIN && errno != EACCES)
				return lb_err_set(err, errno, "cannot lock %s: %m", path);
			return lb_err_set(err, EEXIST, "volume '%s' is already attached (pid %ld)",
					  name, lock_pid(path));
		}
		/* the holder before us may have removed the file meanwhile */
		if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev)
			continue;
		snprintf(pid, sizeof(pid), "%ld\n", lb_runtime_pid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
			return lb_err_set(err, errno, "cannot write %s: %m", path);
		ret->fd = TAKE_FD(fd);
		snprintf(ret->dir, sizeof(ret->dir), "%s", dir);
		snprintf(ret->name, sizeof(ret->name), "%s", name);
		/* whatever a dead bridge of this name left: kept aside as
		 * NAME.stale until this bridge writes its own state, and put
		 * back if it never does (a failed restart must not lose what
		 * the device waiting for a successor is) */
		ret->stale = NULL;
		ret->replaced = false;
		if (lb_runtime_path(dir, name, "json", path, sizeof(path)) == 0 &&
		    lb_runtime_path(dir, name, "stale", spath, sizeof(spath)) == 0) {
			_cleanup_close_ int sfd = open_state(path);

			if (sfd >= 0 && read_all(sfd, -1, &ret->stale) < 0)
				ret->stale = NULL;
			if (sfd >= 0)
				(void)rename(path, spath);
			else if (sfd == -ENOENT && (sfd = open_state(spath)) >= 0 &&
				 read_all(sfd, -1, &ret->stale) < 0)
				ret->stale = NULL; /* a restart that failed before us */
		}
		if (lb_runtime_path(dir, name, "sock", path, sizeof(path)) == 0)
			(void)unlink(path);
		return 0;
	}
	return lb_err_set(err, EBUSY, "volume '%s': its lock keeps changing hands", name);
}

void lb_runtime_unlock(struct lb_runtime_lock *l)
{
	char path[PATH_MAX], spath[PATH_MAX];

	if (l->fd < 0)
		return;
	if (lb_runtime_path(l->dir, l->name, "json", path, sizeof(path)) == 0)
		(void)unlink(path);
	if (lb_runtime_path(l->dir, l->name, "stale", spath, sizeof(spath)) == 0) {
		if (l->stale && !l->replaced)
			(void)rename(spath, path); /* for the next attach, or detach */
		else
			(void)unlink(spath);
	}
	free(l->stale);
	l->stale = NULL;
	if (lb_runtime_path(l->dir, l->name, "sock", path, sizeof(path)) == 0)
		(void)unlink(path);
	if (lb_runtime_path(l->dir, l->name, "lock", path, sizeof(path)) == 0)
		(void)unlink(path);
	close(l->fd);
	l->fd = -1;
}

int lb_runtime_write_state(struct lb_runtime_lock *l, const char *text, lb_err *err)
{
	char path[PATH_MAX];
	int r;

	if (lb_runtime_path(l->dir, l->name, "json", path, sizeof(path)) < 0)
		return lb_err_set(err, ENAMETOOLONG, "run directory path too long");
	r = lb_runtime_write_file(path, text, err);
	if (r == 0 && !l->replaced) {
		l->replaced = true; /* what the dead bridge left is this one's now */
		if (lb_runtime_path(l->dir, l->name, "stale", path, sizeof(path)) == 0)
			(void)unlink(path);
	}
	return r;
}

int lb_runtime_write_file(const char *path, const char *text, lb_err *err)
{
	char tmp[PATH_MAX + 8];
	size_t len = strlen(text);
	_cleanup_close_ int fd = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return lb_err_set(err, errno, "cannot create %s: %m", tmp);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		(void)unlink(tmp);
		return lb_err_set(err, e, "cannot write %s: %s", tmp, strerror(e));
	}
	if (rename(tmp, path) < 0) {
		int e = errno;

		(void)unlink(tmp);
		return lb_err_set(err, e, "cannot rename %s: %s", tmp, strerror(e));
	}
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig; /* only to interrupt F_OFD_SETLKW */
}

int lb_runtime_wait_released(const char *dir, const char *name, uint32_t timeout_ms)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct itimerval it = {
		.it_value = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000}};
	struct itimerval off = {0};
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r = 0;

	if (lb_runtime_path(dir, name, "lock", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART: the wait ends with EINTR */
	setitimer(ITIMER_REAL, &it, NULL);
	if (fcntl(fd, F_OFD_SETLKW, &fl) < 0)
		r = errno == EINTR ? -ETIMEDOUT : -errno;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the volumes with a NAME.suffix in dir, sorted; with
 * live_only, those whose NAME.lock is held. */
static int list_names(const char *dir, const char *suffix, bool live_only, char ***ret,
		      size_t *ret_n, lb_err *err)
{
	DIR *d = opendir(dir);
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, slen = strlen(suffix);
	struct dirent *de;

	*ret = NULL;
	*ret_n = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0; /* nothing ever attached */
		return lb_err_set(err, errno, "cannot read run directory %s: %m", dir);
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **nn;

		if (len <= slen + 1 || de->d_name[len - slen - 1] != '.' ||
		    strcmp(de->d_name + len - slen, suffix) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%.*s.lock", dir, (int)(len - slen - 1),
			     de->d_name) >= (int)sizeof(path) ||
		    (live_only && !lock_held(path)))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strndup(de->d_name, len - slen - 1))) {
			free(nn ? nn : names);
			closedir(d);
			return lb_err_set(err, ENOMEM, "out of memory");
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*ret = names;
	*ret_n = n;
	return 0;
}

int lb_runtime_list(const char *dir, char ***ret, size_t *ret_n, lb_err *err)
{
	return list_names(dir, "lock", true, ret, ret_n, err);
}

int lb_runtime_list_states(const char *dir, char ***ret, size_t *ret_n, lb_err *err)
{
	return list_names(dir, "json", false, ret, ret_n, err);
}

bool lb_runtime_live(const char *dir, const char *name)
{
	char path[PATH_MAX];

	return lb_runtime_path(dir, name, "lock", path, sizeof(path)) == 0 && lock_held(path);
}

/* Read fd to its end (at most 16 MiB) into a NUL-terminated buffer.
 * timeout_ms >= 0: -ETIMEDOUT when nothing comes for that long. */
static int read_all(int fd, int timeout_ms, char **ret)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (timeout_ms >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			int pr = poll(&p, 1, timeout_ms);

			if (pr < 0 && errno == EINTR)
				continue;
			if (pr == 0) {
				free(buf);
				return -ETIMEDOUT;
			}
		}
		if (len + 1 == cap) {
			char *nb = cap > (16u << 20) ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

int lb_runtime_read_state(const char *dir, const char *name, char **ret, lb_err *err)
{
	if (!lb_runtime_live(dir, name))
		return lb_err_set(err, ENOENT, "no volume '%s' is attached", name);
	return lb_runtime_read_state_file(dir, name, ret, err);
}

int lb_runtime_read_state_file(const char *dir, const char *name, char **ret, lb_err *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	if (lb_runtime_path(dir, name, "json", path, sizeof(path)) < 0)
		return lb_err_set(err, ENAMETOOLONG, "path too long");
	fd = open_state(path);
	if (fd < 0)
		return lb_err_set(err, -fd, "cannot read %s: %s", path,
				  fd == -EINVAL ? "not a regular file of at most 64 KiB"
						: strerror(-fd));
	r = read_all(fd, -1, ret);
	return r < 0 ? lb_err_set(err, r, "cannot read %s: %s", path, strerror(-r)) : 0;
}

int lb_runtime_request(const char *dir, const char *name, const char *cmd, uint32_t timeout_ms,
		       char **ret, lb_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	char line[128];
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", dir, name);

	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return lb_err_set(err, ENAMETOOLONG, "control socket path too long");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lb_err_set(err, errno, "socket: %m");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return lb_err_set(err, errno, "volume '%s' does not answer on %s: %m", name,
				  sa.sun_path);
	n = snprintf(line, sizeof(line), "%s\n", cmd);
	if (n < 0 || (size_t)n >= sizeof(line) || write(fd, line, (size_t)n) != n)
		return lb_err_set(err, EIO, "volume '%s': cannot send '%s'", name, cmd);
	n = read_all(fd, (int)timeout_ms, ret);
	if (n == -ETIMEDOUT)
		return lb_err_set(err, ETIMEDOUT, "volume '%s' did not finish '%s' within %u s",
				  name, cmd, timeout_ms / 1000);
	if (n == -ENOMEM)
		return lb_err_set(err, ENOMEM, "answer too large");
	if (n < 0)
		return lb_err_set(err, -n, "volume '%s': %s", name, strerror(-n));
	return 0;
}
