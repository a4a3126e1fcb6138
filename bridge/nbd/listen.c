/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listening sockets for NBD exports. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "listen.h"

#define BACKLOG 64

int lb_listen_unix(const char *path, int *ret_fd, lb_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	struct stat st;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return lb_err_set(err, ENAMETOOLONG, "socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		_cleanup_close_ int probe = -1;

		if (!S_ISSOCK(st.st_mode))
			return lb_err_set(err, EEXIST, "%s exists and is not a socket", path);
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return lb_err_set(err, EADDRINUSE, "%s is already in use by another server",
					  path);
		(void)unlink(path); /* left by a server that is gone */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lb_err_set(err, errno, "socket: %m");
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return lb_err_set(err, errno, "cannot bind %s: %m", path);
	if (listen(fd, BACKLOG) < 0) {
		r = errno;
		(void)unlink(path);
		return lb_err_set(err, r, "cannot listen on %s: %s", path, strerror(r));
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int lb_listen_unix_group(const char *path, gid_t gid, lb_err *err)
{
	if (chown(path, (uid_t)-1, gid) < 0)
		return lb_err_set(err, errno, "cannot give %s to group %u: %m", path,
				  (unsigned)gid);
	if (chmod(path, 0660) < 0)
		return lb_err_set(err, errno, "cannot chmod %s: %m", path);
	return 0;
}

int lb_listen_is_loopback(const char *host)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int r;

	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return -EINVAL;
	if (ai->ai_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ai->ai_addr;

		r = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (ai->ai_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

		r = IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	} else {
		r = 0;
	}
	freeaddrinfo(ai);
	return r;
}

int lb_listen_tcp(const char *host, uint16_t port, int *ret_fd, lb_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	_cleanup_close_ int fd = -1;
	char service[8];
	int one = 1, r;

	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &ai);
	if (r != 0)
		return lb_err_set(err, EINVAL, "cannot resolve '%s': %s", host, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = errno;
		freeaddrinfo(ai);
		return lb_err_set(err, r, "socket: %s", strerror(r));
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = bind(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0) {
		r = errno;
		if (r == EADDRINUSE)
			return lb_err_set(err, r, "%s port %u is already in use", host, port);
		return lb_err_set(err, r, "cannot bind %s port %u: %s", host, port, strerror(r));
	}
	if (listen(fd, BACKLOG) < 0)
		return lb_err_set(err, errno, "cannot listen on %s port %u: %m", host, port);
	*ret_fd = TAKE_FD(fd);
	return 0;
}
