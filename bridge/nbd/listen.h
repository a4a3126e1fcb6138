/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listening sockets for NBD exports: a Unix socket (mode 0600) or TCP. */
#ifndef LUNBRIDGE_LISTEN_H
#define LUNBRIDGE_LISTEN_H

#include <stdint.h>

#include "lb-err.h"

/* -EADDRINUSE when a live server answers there; a stale socket left by a
 * dead server is replaced; any other file is left alone (-EEXIST). */
int lb_listen_unix(const char *path, int *ret_fd, lb_err *err);
/* host: numeric address or name (the first address it resolves to). */
int lb_listen_tcp(const char *host, uint16_t port, int *ret_fd, lb_err *err);

#endif
