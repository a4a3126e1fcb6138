/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running iscsiadm, and writing a node record's secrets without it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "cleanup.h"
#include "loop.h"
#include "openiscsi.h"

#define CAPTURE_MAX (1u << 20)

extern char **environ;

void lb_openiscsi_result_clear(struct lb_openiscsi_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

struct capture {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Read what is there; 0 at EOF (fd closed), 1 to go on, -errno. */
static int capture_read(struct capture *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0) {
		close(c->fd);
		c->fd = -1;
		return 0;
	}
	if (c->len + (size_t)n + 1 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8192;
		char *nb;

		while (ncap < c->len + (size_t)n + 1)
			ncap *= 2;
		if (ncap > CAPTURE_MAX)
			return 1; /* keep what we have; drain the rest */
		nb = realloc(c->buf, ncap);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, tmp, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return 1;
}

int lb_openiscsi_run(const char *const *argv, uint32_t timeout_ms, struct lb_openiscsi_result *ret,
		     lb_err *err)
{
	struct capture cap[2] = {{.fd = -1}, {.fd = -1}};
	posix_spawn_file_actions_t fa;
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, status, r;
	uint64_t end = lb_now_ms() + timeout_ms;
	bool killed = false;
	pid_t pid;

	memset(ret, 0, sizeof(*ret));
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	r = posix_spawnp(&pid, "iscsiadm", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		r = -r;
		goto fail_pipes;
	}
	close(out[1]);
	close(errp[1]);
	cap[0].fd = out[0];
	cap[1].fd = errp[0];
	while (cap[0].fd >= 0 || cap[1].fd >= 0) {
		struct pollfd p[2] = {{.fd = cap[0].fd, .events = POLLIN},
				      {.fd = cap[1].fd, .events = POLLIN}};
		uint64_t now = lb_now_ms();
		int n;

		if (now >= end) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		n = poll(p, 2, (int)(end - now));
		if (n < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		for (int i = 0; i < 2 && n > 0; i++)
			if (p[i].revents && capture_read(&cap[i]) < 0) {
				close(cap[i].fd);
				cap[i].fd = -1;
			}
	}
	for (int i = 0; i < 2; i++)
		if (cap[i].fd >= 0)
			close(cap[i].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ret->out = cap[0].buf ? cap[0].buf : strdup("");
	ret->err = cap[1].buf ? cap[1].buf : strdup("");
	if (!ret->out || !ret->err) {
		lb_openiscsi_result_clear(ret);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (killed)
		return lb_err_set(err, ETIMEDOUT, "iscsiadm %s did not end within %u s: killed",
				  argv[1] ? argv[1] : "", timeout_ms / 1000);
	/* posix_spawnp reports a missing program as exit 127 */
	if (ret->status == 127 && !ret->out[0]) {
		lb_openiscsi_result_clear(ret);
		return lb_err_set(err, ENOENT,
				  "iscsiadm is not installed (apt-get install open-iscsi)");
	}
	return 0;

fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (r == -ENOENT)
		return lb_err_set(err, ENOENT,
				  "iscsiadm is not installed (apt-get install open-iscsi)");
	return lb_err_set(err, -r, "cannot run iscsiadm: %s", strerror(-r));
}

/* Run one node-mode command for n, then judge its exit code: the codes in
 * ok[] (ending with -1) are returned as their index + 1; 0 is 0; any other
 * is an error naming what and iscsiadm's own message. */
static int node_cmd(const struct lb_openiscsi_node *n, const char *what, const char *const *extra,
		    const int *ok, struct lb_openiscsi_result *keep, lb_err *err)
{
	const char *argv[24] = {"iscsiadm", "-m", "node", "-T", n->iqn, "-p", n->portal, "-I",
				n->iface};
	struct lb_openiscsi_result res;
	size_t i = 9;
	char msg[256];
	int r;

	while (*extra && i < ARRAY_SIZE(argv) - 1)
		argv[i++] = *extra++;
	argv[i] = NULL;
	r = lb_openiscsi_run(argv, n->timeout_ms, &res, err);
	if (r < 0)
		return r;
	if (res.status == 0) {
		r = 0;
		goto out;
	}
	for (i = 0; ok && ok[i] >= 0; i++)
		if (res.status == ok[i]) {
			r = (int)i + 1;
			goto out;
		}
	lb_openiscsi_last_message(res.err, msg, sizeof(msg));
	if (!msg[0])
		lb_openiscsi_last_message(res.out, msg, sizeof(msg));
	r = lb_err_set(err, -lb_openiscsi_exit_errno(res.status) ?: EIO,
		       "iscsiadm %s of %s at %s on iface %s failed (exit %d, %s)%s%s", what, n->iqn,
		       n->portal, n->iface, res.status, lb_openiscsi_exit_name(res.status),
		       msg[0] ? ": " : "", msg);
	if (r == 0)
		r = -EIO;
out:
	if (keep)
		*keep = res;
	else
		lb_openiscsi_result_clear(&res);
	return r;
}

int lb_openiscsi_discover(const struct lb_openiscsi_node *n, struct lb_openiscsi_target **ret,
			  size_t *ret_n, lb_err *err)
{
	const char *argv[] = {"iscsiadm", "-m", "discovery", "-t", "st", "-p", n->portal, "-I",
			      n->iface, NULL};
	struct lb_openiscsi_result res;
	char msg[256];
	int r;

	r = lb_openiscsi_run(argv, n->timeout_ms, &res, err);
	if (r < 0)
		return r;
	if (res.status != 0) {
		lb_openiscsi_last_message(res.err, msg, sizeof(msg));
		r = lb_openiscsi_exit_errno(res.status);
		r = lb_err_set(err, r < 0 ? -r : EIO,
			       "iscsiadm discovery at %s on iface %s failed (exit %d, %s)%s%s",
			       n->portal, n->iface, res.status, lb_openiscsi_exit_name(res.status),
			       msg[0] ? ": " : "", msg);
	} else {
		r = lb_openiscsi_parse_discovery(res.out, ret, ret_n);
		if (r < 0)
			lb_err_set(err, -r, "iscsiadm discovery at %s: cannot parse its output",
				   n->portal);
	}
	lb_openiscsi_result_clear(&res);
	return r;
}

int lb_openiscsi_node_exists(const struct lb_openiscsi_node *n, lb_err *err)
{
	static const int ok[] = {LB_OPENISCSI_ERR_NO_OBJS_FOUND, -1};
	const char *none[] = {NULL};
	int r = node_cmd(n, "node lookup", none, ok, NULL, err);

	return r < 0 ? r : r == 0;
}

int lb_openiscsi_node_update(const struct lb_openiscsi_node *n, const char *key, const char *value,
			     lb_err *err)
{
	const char *extra[] = {"--op=update", "-n", key, "-v", value, NULL};

	return node_cmd(n, "node update", extra, NULL, NULL, err);
}

int lb_openiscsi_login(const struct lb_openiscsi_node *n, lb_err *err)
{
	static const int ok[] = {LB_OPENISCSI_ERR_SESS_EXISTS, -1};
	const char *extra[] = {"--login", NULL};

	return node_cmd(n, "login", extra, ok, NULL, err);
}

int lb_openiscsi_logout(const struct lb_openiscsi_node *n, lb_err *err)
{
	static const int ok[] = {LB_OPENISCSI_ERR_NO_OBJS_FOUND, -1};
	const char *extra[] = {"--logout", NULL};

	return node_cmd(n, "logout", extra, ok, NULL, err);
}

int lb_openiscsi_node_delete(const struct lb_openiscsi_node *n, lb_err *err)
{
	static const int ok[] = {LB_OPENISCSI_ERR_NO_OBJS_FOUND, -1};
	const char *extra[] = {"--op=delete", NULL};

	return node_cmd(n, "node delete", extra, ok, NULL, err);
}

int lb_openiscsi_node_file_set(const char *path, const char *const *keys, const char *const *values,
			       size_t n, lb_err *err)
{
	_cleanup_free_ char *in = NULL, *text = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t len = 0;
	ssize_t got;
	int r;

	if (!slash)
		return lb_err_set(err, EINVAL, "node record path %s: not absolute", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		return lb_err_set(err, errno, "node record %s: %m", path);
	if (!S_ISREG(st.st_mode) || st.st_size > (1 << 20))
		return lb_err_set(err, EINVAL, "node record %s: not a record file", path);
	in = malloc((size_t)st.st_size + 1);
	if (!in)
		return lb_err_set(err, ENOMEM, "out of memory");
	while (len < (size_t)st.st_size &&
	       ((got = read(fd, in + len, (size_t)st.st_size - len)) > 0 ||
		(got < 0 && errno == EINTR)))
		if (got > 0)
			len += (size_t)got;
	in[len] = '\0';
	close(TAKE_FD(fd));
	r = lb_openiscsi_record_set(in, keys, values, n, &text);
	if (r < 0)
		return lb_err_set(err, -r, "node record %s: a value is not one line", path);
	if (asprintf(&tmp, "%.*s/.%s.lunbridge", (int)(slash - path), path, slash + 1) < 0) {
		tmp = NULL;
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return lb_err_set(err, errno, "%s: %m", tmp);
	len = strlen(text);
	for (size_t off = 0; off < len;) {
		got = write(fd, text + off, len - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = lb_err_set(err, got < 0 ? errno : EIO, "%s: %m", tmp);
			goto fail;
		}
		off += (size_t)got;
	}
	if (fsync(fd) < 0 || fchmod(fd, 0600) < 0) {
		r = lb_err_set(err, errno, "%s: %m", tmp);
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = lb_err_set(err, errno, "%s: %m", path);
		goto fail;
	}
	{
		char dir[4096];

		/* the rename lasts once the directory is on disk */
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			(void)fsync(dfd);
	}
	return 0;
fail:
	(void)unlink(tmp);
	return r;
}
