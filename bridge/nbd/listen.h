/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listening sockets for NBD exports: a Unix socket (mode 0600) or TCP. */
#ifndef LUNBRIDGE_LISTEN_H
#define LUNBRIDGE_LISTEN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lb-err.h"

/* -EADDRINUSE when a live server answers there; a stale socket left by a
 * dead server is replaced; any other file is left alone (-EEXIST). */
int lb_listen_unix(const char *path, int *ret_fd, lb_err *err);
/* Share the Unix socket at path with a group: mode 0660, group gid. */
int lb_listen_unix_group(const char *path, gid_t gid, lb_err *err);
/* host: numeric address or name (the first address it resolves to). */
int lb_listen_tcp(const char *host, uint16_t port, int *ret_fd, lb_err *err);
/* Is host (as lb_listen_tcp() resolves it) a loopback address (127/8,
 * ::1, ::ffff:127/104)?  1 or 0; -EINVAL when it does not resolve. */
int lb_listen_is_loopback(const char *host);

#endif
