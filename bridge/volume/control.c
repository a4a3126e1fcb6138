/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket: one command line in, one answer out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "cleanup.h"
#include "control.h"

#define CTL_LINE_MAX 128

struct lb_control_client {
	struct lb_control *ctl;
	struct lb_control_client *next;
	int fd;
	struct lb_op rx_op;
	size_t len;
	char buf[CTL_LINE_MAX];
};

struct lb_control {
	struct lb_loop *loop;
	int fd;
	bool shutdown;
	struct lb_op accept_op;
	lb_control_fn fn;
	void *arg;
	struct lb_control_client *clients;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void client_free(struct lb_control_client *cl)
{
	struct lb_control_client **p = &cl->ctl->clients;

	while (*p && *p != cl)
		p = &(*p)->next;
	if (*p)
		*p = cl->next;
	close(cl->fd);
	free(cl);
}

void lb_control_reply(struct lb_control_client *cl, const char *text)
{
	size_t len = strlen(text), off = 0;

	/* answers are small and the peer is waiting: a blocking send with a
	 * deadline (SO_SNDTIMEO) is the simple, bounded way */
	while (off < len) {
		ssize_t n = send(cl->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	client_free(cl); /* no read is posted once a command is dispatched */
}

static void client_arm(struct lb_control_client *cl);

static void client_rx_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct lb_control_client *cl = container_of(op, struct lb_control_client, rx_op);
	char *nl;

	if (res <= 0) { /* gone before its command, or shut down */
		client_free(cl);
		return;
	}
	cl->len += (size_t)res;
	nl = memchr(cl->buf, '\n', cl->len);
	if (!nl) {
		if (cl->len == sizeof(cl->buf)) {
			lb_control_reply(cl, "error: command too long\n");
			return;
		}
		client_arm(cl);
		return;
	}
	*nl = '\0';
	cl->ctl->fn(cl->ctl->arg, cl, cl->buf);
}

static void client_arm(struct lb_control_client *cl)
{
	struct io_uring_sqe *sqe;

	if (lb_loop_sqe(cl->ctl->loop, &cl->rx_op, &sqe) < 0) {
		client_free(cl);
		return;
	}
	io_uring_prep_recv(sqe, cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, 0);
}

static void accept_arm(struct lb_control *ctl);

static void accept_done(struct lb_op *op, int res, uint32_t cqe_flags)
{
	struct lb_control *ctl = container_of(op, struct lb_control, accept_op);
	struct timeval tv = {.tv_sec = 2};
	struct lb_control_client *cl;

	if (res < 0 || ctl->shutdown) {
		if (res >= 0)
			close(res);
		if (!ctl->shutdown)
			accept_arm(ctl);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(res);
		accept_arm(ctl);
		return;
	}
	(void)setsockopt(res, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	cl->ctl = ctl;
	cl->fd = res;
	lb_op_init(&cl->rx_op, client_rx_done);
	cl->next = ctl->clients;
	ctl->clients = cl;
	client_arm(cl);
	accept_arm(ctl);
}

static void accept_arm(struct lb_control *ctl)
{
	struct io_uring_sqe *sqe;

	if (lb_loop_sqe(ctl->loop, &ctl->accept_op, &sqe) < 0)
		return;
	io_uring_prep_accept(sqe, ctl->fd, NULL, NULL, SOCK_CLOEXEC);
}

int lb_control_new(struct lb_loop *loop, const char *path, lb_control_fn fn, void *arg,
		   struct lb_control **ret, lb_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	struct lb_control *ctl;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return lb_err_set(err, ENAMETOOLONG, "control socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lb_err_set(err, errno, "socket: %m");
	(void)unlink(path); /* ours: the volume's lock is held */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return lb_err_set(err, errno, "cannot bind %s: %m", path);
	if (listen(fd, 16) < 0) {
		r = errno;
		(void)unlink(path);
		return lb_err_set(err, r, "cannot listen on %s: %s", path, strerror(r));
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		(void)unlink(path);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	ctl->loop = loop;
	ctl->fd = TAKE_FD(fd);
	ctl->fn = fn;
	ctl->arg = arg;
	strcpy(ctl->path, path);
	lb_op_init(&ctl->accept_op, accept_done);
	accept_arm(ctl);
	*ret = ctl;
	return 0;
}

void lb_control_shutdown(struct lb_control *ctl)
{
	if (ctl->shutdown)
		return;
	ctl->shutdown = true;
	(void)unlink(ctl->path);
	lb_loop_cancel(ctl->loop, &ctl->accept_op);
	for (struct lb_control_client *cl = ctl->clients; cl; cl = cl->next)
		if (cl->rx_op.busy)
			(void)shutdown(cl->fd, SHUT_RDWR); /* its read ends: freed then */
}

int lb_control_idle(const struct lb_control *ctl)
{
	if (ctl->accept_op.busy)
		return 0;
	for (const struct lb_control_client *cl = ctl->clients; cl; cl = cl->next)
		if (cl->rx_op.busy)
			return 0;
	return 1;
}

void lb_control_free(struct lb_control *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	close(ctl->fd);
	free(ctl);
}
