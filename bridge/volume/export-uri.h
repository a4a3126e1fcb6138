/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `lunbridge attach --export EXPORT`: where a LUN is presented.
 *
 *   nbd+unix:///NAME?socket=PATH   our NBD server on a Unix socket
 *   nbd://HOST[:PORT]/NAME         our NBD server on TCP ([v6addr] in
 *                                  brackets; an empty HOST is loopback)
 *   nbd, /dev/nbdN                 a kernel NBD device (any free one, or N)
 *   ublk, ublk:ID, /dev/ublkbN     a ublk device (any free one, or ID)
 *
 * The URIs follow the NBD URI standard (NetworkBlockDevice/nbd
 * doc/uri.md): NAME is the path without its leading '/', percent-decoded.
 * TLS (nbds, nbds+unix) is not supported.
 */
#ifndef LUNBRIDGE_EXPORT_URI_H
#define LUNBRIDGE_EXPORT_URI_H

#include <stddef.h>
#include <stdint.h>

#include "lb-err.h"

#define LB_EXPORT_NAME_MAX 255	     /* bytes of a decoded export name */
#define LB_EXPORT_SOCKET_MAX 107     /* bytes of a socket path: sun_path less its NUL */
#define LB_EXPORT_HOST_MAX 253	     /* bytes of a host name (RFC 1035) */
#define LB_EXPORT_INDEX_MAX 1048575  /* (1 << MINORBITS) - 1: the kernel's limit for both */
#define LB_EXPORT_DEFAULT_PORT 10809 /* IANA's NBD port */
#define LB_EXPORT_TEXT_MAX 4096	     /* longest EXPORT accepted */

/* A buffer this long holds any export lb_export_format() prints: the
 * longest is nbd+unix with every byte of name and socket percent-encoded,
 * "nbd+unix:///" NAME*3 "?socket=" SOCKET*3 and the NUL. */
#define LB_EXPORT_FORMAT_MAX (12 + 3 * LB_EXPORT_NAME_MAX + 8 + 3 * LB_EXPORT_SOCKET_MAX + 1)

enum lb_export_kind {
	LB_EXPORT_NBD_UNIX,
	LB_EXPORT_NBD_TCP,
	LB_EXPORT_NBD_KERNEL,
	LB_EXPORT_UBLK,
};

/* Fields a kind does not use are "" and 0, index -1. */
struct lb_export {
	enum lb_export_kind kind;
	/* NBD: the export name, percent-decoded; "" allowed */
	char name[LB_EXPORT_NAME_MAX + 1];
	/* NBD_UNIX: absolute or relative path; fits sun_path */
	char socket_path[LB_EXPORT_SOCKET_MAX + 1];
	/* NBD_TCP: a host name, IPv4 or IPv6 (without brackets) */
	char host[256];
	/* NBD_TCP: 1..65535, default 10809 */
	uint16_t port;
	/* NBD_KERNEL (/dev/nbdN), UBLK (ublk:ID): -1 = any free device */
	int index;
};

/* Parse EXPORT.  An empty host in nbd:// is stored as "127.0.0.1", an
 * IPv6 literal in inet_ntop()'s canonical form (IPv4 must be a strict
 * dotted quad already).  -EINVAL with one sentence in err for anything
 * refused; ret is untouched then. */
int lb_export_parse(const char *s, struct lb_export *ret, lb_err *err);

/* The canonical text, for printing and for `lunbridge list`:
 * nbd+unix:///NAME?socket=PATH, nbd://HOST:PORT/NAME ([IPv6] in
 * brackets), "nbd" or /dev/nbdN, "ublk" or /dev/ublkbN; NAME and PATH
 * percent-encoded where needed.  It parses back to the same export.
 * 0, -ENOSPC when len is too small (LB_EXPORT_FORMAT_MAX always fits), or
 * -EINVAL for an export lb_export_parse() would not have produced. */
int lb_export_format(const struct lb_export *e, char *buf, size_t len);

#endif
